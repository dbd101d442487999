"""The API's own endpoints: health, the description and its docs page.

Also the request checks every API call passes first: the body limit (413,
decided from ``Content-Length`` before the body is read) and the client's
``Weiguang-Schema`` (426 when this server no longer accepts it).
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, current_app, render_template, request

from server import health as health_checks
from server import openapi
from server.errors import ApiError
from server.extensions import db
from server.schemas.accounts import HEALTH

bp = Blueprint("api", __name__, url_prefix="/api/v1", static_folder="static")
SCHEMA_HEADER = "Weiguang-Schema"
#: Where the WSGI environment holds it (read there: see ``server/request_context.py``).
SCHEMA_ENVIRON = "HTTP_WEIGUANG_SCHEMA"
SCHEMA_NUMBER = re.compile("[0-9]{1,9}")


@bp.before_app_request
def check_request() -> None:
    """Refuse oversized bodies and unsupported client schemas before any work."""
    if not request.path.startswith("/api/"):
        return
    limit = current_app.config["WEIGUANG"]["MAX_BODY_BYTES"]
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, "body-too-large", f"The body is larger than {limit} bytes.")
    declared = request.environ.get(SCHEMA_ENVIRON)
    if declared is None:
        return
    # ASCII digits only: str.isdigit() also takes "²", which int() refuses.
    if not SCHEMA_NUMBER.fullmatch(declared):
        raise ApiError(
            400, "bad-schema-header", f"{SCHEMA_HEADER} must be a whole number (1 to 9 digits)."
        )
    if not openapi.SCHEMA_OLDEST <= int(declared) <= openapi.SCHEMA_CURRENT:
        raise ApiError(
            426,
            "update-required",
            "This app version is no longer supported: update the app, then sync.",
            schema_current=openapi.SCHEMA_CURRENT,
            schema_oldest=openapi.SCHEMA_OLDEST,
        )


@bp.get("/health")
def health() -> Any:
    """Answer 200 when every dependency answers, else 503 ``degraded`` (contract, "Operations")."""
    checks = health_checks.checks()
    healthy = health_checks.is_healthy(checks)
    body = {
        "status": "ok" if healthy else "degraded",
        "database": db.engine.dialect.name,
        "version": openapi.API_VERSION,
        "checks": checks,
    }
    return HEALTH.dump(body), 200 if healthy else 503


@bp.get("/openapi.json")
def description() -> Any:
    """Return the OpenAPI description."""
    return openapi.build_spec()


@bp.get("/docs")
def docs() -> str:
    """Render the API description as a readable page."""
    return render_template("api_docs.html", spec=openapi.build_spec())
