"""Flask's cookie session, made only when a request brings its cookie.

Flask's :class:`~flask.sessions.SecureCookieSessionInterface` builds its
signing serializer (a key derivation) on every request, cookie or not: about
a twentieth of an empty pull's time (issue #16). The API signs in with a
bearer token and sends no such cookie, so most requests need none of it. A
request without the cookie gets the empty session Flask would have made;
one with it is read (and its signature checked) as before. A session left
empty and untouched is not saved: Flask's saving would only work out the
cookie's settings to find nothing to send (this and the opening, about
2 % of an empty pull's CPU, issue #16).
"""

from __future__ import annotations

from flask import Flask, Request, Response
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin


class CookieSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, with no serializer built for a request without the cookie."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """Return the request's session: an empty one without the cookie, else Flask's."""
        if app.secret_key and (
            "HTTP_COOKIE" not in request.environ
            or not request.cookies.get(self.get_cookie_name(app))
        ):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Save the session as Flask does, unless it is empty, unread and unchanged."""
        if session or session.accessed or session.modified:
            super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    """Give ``app`` the cookie session interface."""
    app.session_interface = CookieSessionInterface()
