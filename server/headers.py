"""Security headers on every answer, the PWA's and the API's (flask-talisman).

The Content-Security-Policy allows only the server's own scripts, styles,
images (and ``blob:`` ones: a record's photo is fetched with the token and
shown from a blob URL, ``web/app/app.js``), fonts, manifest and workers, and
connections to its own API and Socket.IO (``'self'`` covers ``ws:``/``wss:``
on the same host, CSP level 3); no inline script or style, no plugin, no
``<base>``, and no framing
(``frame-ancestors 'none'``, and ``X-Frame-Options: DENY`` for old browsers).
Also ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``
and HSTS on HTTPS requests. Redirecting to HTTPS is left to the proxy that
terminates TLS: the server itself often runs on a laptop over plain HTTP.

flask-talisman rebuilds the same header values (the policy joined into one
string, and so on) for every answer, about a twentieth of an empty pull's
time (issue #16); :class:`SecurityHeaders` works them out once per endpoint
and scheme instead, and runs nothing before a request: with neither HTTPS
forcing nor a nonce, flask-talisman's two ``before_request`` hooks only
looked up the view's options to find nothing to do (about 3 % of an empty
pull's CPU).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from flask import Flask, Response, request
from flask_talisman import Talisman
from werkzeug.datastructures import Headers

SELF = "'self'"
CONTENT_SECURITY_POLICY = {
    "default-src": SELF,
    "script-src": SELF,
    "style-src": SELF,
    "img-src": f"{SELF} blob:",
    "font-src": SELF,
    "connect-src": SELF,
    "manifest-src": SELF,
    "worker-src": SELF,
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": SELF,
    "frame-ancestors": "'none'",
}

#: What :class:`SecurityHeaders` is given (flask-talisman's options).
TALISMAN_OPTIONS: dict[str, Any] = {
    "force_https": False,
    "content_security_policy": CONTENT_SECURITY_POLICY,
    "frame_options": "DENY",
    "referrer_policy": "no-referrer",
    "x_content_type_options": True,
}
EXTENSION = "weiguang_security_headers"


class SecurityHeaders(Talisman):
    """flask-talisman, with each kind of answer's headers worked out once and then copied.

    What Talisman sets depends only on the view's own Talisman options (so,
    on the endpoint) and on whether the request came over HTTPS (HSTS): the
    first answer of each endpoint and scheme records Talisman's headers,
    later ones get a copy. A per-request CSP nonce would defeat this, so an
    instance configured with one sets every answer's headers afresh.

    Configured with neither ``force_https`` nor a nonce (and no view with
    options of its own, ``@talisman(...)``, which Weiguang never uses), the
    hooks Talisman runs before each request are dropped. The one thing
    they did besides, marking the session cookie ``Secure`` outside debug
    mode, is done once here.
    """

    def init_app(self, app: Flask, **options: Any) -> None:
        """Bind to ``app`` as :class:`~flask_talisman.Talisman` does; no headers recorded yet."""
        self.recorded: dict[tuple[str | None, bool], list[tuple[str, str]]] = {}
        self.recorded_names: dict[tuple[str | None, bool], frozenset[str]] = {}
        super().init_app(app, **options)
        if self.force_https or self.content_security_policy_nonce_in:
            return
        if self.session_cookie_secure and not app.debug:
            app.config["SESSION_COOKIE_SECURE"] = True
        app.before_request_funcs[None].remove(self._force_https)
        app.before_request_funcs[None].remove(self._make_nonce)

    def _set_response_headers(self, response: Response) -> Response:
        if self.content_security_policy_nonce_in:
            return super()._set_response_headers(response)  # type: ignore[no-any-return]
        # The header from the WSGI environment (``server/request_context.py``).
        https = request.is_secure or request.environ.get("HTTP_X_FORWARDED_PROTO") == "https"
        key = (request.endpoint, https)
        headers = self.recorded.get(key)
        if headers is None:
            blank = SimpleNamespace(headers=Headers())
            super()._set_response_headers(blank)
            headers = self.recorded[key] = list(blank.headers.items())
            self.recorded_names[key] = frozenset(name.lower() for name, _ in headers)
        if self.recorded_names[key].isdisjoint([name.lower() for name, _ in response.headers]):
            # None there to replace: added at once, not each looked for (half the time).
            response.headers.extend(headers)
            return response
        for name, value in headers:
            response.headers[name] = value
        return response


def init_app(app: Flask) -> None:
    """Send the security headers on every response of ``app``."""
    app.extensions[EXTENSION] = SecurityHeaders(app, **TALISMAN_OPTIONS)
