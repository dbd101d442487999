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
"""

from __future__ import annotations

from flask import Flask
from flask_talisman import Talisman

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


def init_app(app: Flask) -> None:
    """Send the security headers on every response of ``app``."""
    Talisman(
        app,
        force_https=False,
        content_security_policy=CONTENT_SECURITY_POLICY,
        frame_options="DENY",
        referrer_policy="no-referrer",
        x_content_type_options=True,
    )
