"""Weiguang's sync server: the Flask app factory.

``create_app`` loads the defaults, then ``WEIGUANG_*`` environment variables
(or the mapping a test passes), binds the extensions and registers the
blueprints, error handlers and socket handlers. There is no module-level app.

Importing this package imports no Flask on purpose: ``weiguang serve``
(``server.entry``) must monkey-patch the standard library for eventlet
before Flask and its dependencies are loaded, so the factory imports them
when it is called.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

MIGRATIONS_DIR = os.path.join(os.path.dirname(__file__), "migrations")


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create and configure a Weiguang server app."""
    from flask import Flask
    from werkzeug.middleware.proxy_fix import ProxyFix

    from server import (
        api,
        attachments,
        audit,
        auth,
        break_glass,
        cli,
        compression,
        config,
        cookie_sessions,
        database,
        declarations,
        errors,
        exports,
        gate,
        headers,
        health,
        jsontext,
        logs,
        metrics,
        progress,
        rate_limits,
        request_context,
        sign_ins,
        socket_limits,
        supplies,
        sync_api,
        users,
        web,
    )
    from server.extensions import db, migrate, socketio

    app = Flask(__name__, instance_relative_config=True, static_folder=None)
    app.app_ctx_globals_class = auth.RequestGlobals
    os.makedirs(app.instance_path, exist_ok=True)
    settings = config.load(test_config, app.instance_path)
    app.config.update(
        WEIGUANG=settings,
        SECRET_KEY=config.secret_key(settings, development=app.debug),
        SQLALCHEMY_DATABASE_URI=settings["DATABASE_URL"],
        SQLALCHEMY_ENGINE_OPTIONS=database.engine_options(settings["DATABASE_URL"]),
        MAX_CONTENT_LENGTH=settings["MAX_BODY_BYTES"],
    )
    app.json = jsontext.JSONProvider(app)

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
    # Flask-SocketIO keeps the message queue it made for an earlier app in
    # its options: drop it, so that this app gets the queue it is configured with.
    socketio.server_options.pop("client_manager", None)
    socketio.init_app(
        app,
        async_mode=settings["ASYNC_MODE"],
        message_queue=settings["MESSAGE_QUEUE"],
        # python-engineio checks Origin on every Socket.IO request, the
        # handshake and the WebSocket upgrade included (None: same origin).
        cors_allowed_origins=settings["ALLOWED_ORIGINS"],
        max_http_buffer_size=settings["SOCKET_MESSAGE_BYTES"],
    )
    socket_limits.install(socketio.server, settings)
    if settings["PROXY_HOPS"]:
        # Outermost, so the sign-in throttle and Socket.IO's origin check
        # see the client's address, scheme and host, not the proxy's.
        hops = int(settings["PROXY_HOPS"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    with app.app_context():
        database.configure_engine(db.engine)

    request_context.init_app(app)  # first: every request is timed and gets its id
    errors.init_app(app)
    cookie_sessions.init_app(app)
    sign_ins.init_app(app)
    headers.init_app(app)
    rate_limits.init_app(app)
    compression.init_app(app)
    health.init_app(app)
    metrics.init_app(app)
    logs.init_app(app)
    cli.init_app(app)
    blueprints = (
        api,
        auth,
        users,
        sync_api,
        supplies,
        declarations,
        exports,
        progress,
        gate,
        audit,
        attachments,
    )
    for module in (*blueprints, break_glass, web):
        app.register_blueprint(module.bp)
    return app
