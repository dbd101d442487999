"""The published declarations: every record type as data, for the app.

``GET /api/v1/declarations`` answers the document pinned in
``docs/declarations.md``: per type its fields as JSON Schema, what a
create needs, permissions, visibility, sync policy and state machine, all
read from the engine's registry (:data:`sync.catalog.REGISTRY`), so the app
never restates a server rule. It needs no token (it holds no personal data),
carries its digest as ``ETag`` and is revalidated on every use
(``Cache-Control: no-cache``); the service worker keeps it for offline use.

``python -m server.declarations`` prints the document as the server
publishes it (``tests/web/fixtures/declarations.json`` is that output).
"""

from __future__ import annotations

import hashlib
import json
import sys
from typing import Any

from flask import Blueprint, Response, current_app, request

from sync.actors import Role
from sync.catalog import REGISTRY
from sync.registry import RecordType, Registry

bp = Blueprint("declarations", __name__, url_prefix="/api/v1")
# The record schema versions this server accepts in ``Weiguang-Schema``
# (contract, Versions): a change of a declaration that an older app cannot
# follow raises the current one.
SCHEMA_CURRENT = 1
SCHEMA_OLDEST = 1


def type_document(rtype: RecordType) -> dict[str, Any]:
    """Describe one record type as in the published document."""
    machine = rtype.state_machine
    return {
        "fields": {name: declared.json_schema() for name, declared in rtype.fields.items()},
        "required": sorted(rtype.required),
        "defaults": dict(rtype.defaults),
        "immutable": sorted(rtype.immutable),
        "append_only": rtype.append_only,
        "rule_owned": sorted(rtype.rule_owned),
        "rule_made": sorted(rtype.rule_made),
        "permissions": rtype.permissions.to_json(),
        "visibility": rtype.visibility.to_json(),
        "sync_policy": {
            role: policy.to_json() for role, policy in sorted(rtype.sync_policy.items())
        },
        "state_machine": None if machine is None else machine.to_json(),
    }


def canonical(value: Any) -> bytes:
    """Return the canonical JSON of ``value``: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def document(registry: Registry = REGISTRY) -> dict[str, Any]:
    """Return the whole published document.

    ``digest`` is the SHA-256 (hex) of the canonical JSON of ``types``, so it
    changes exactly when a declaration does.
    """
    types = {name: type_document(registry[name]) for name in sorted(registry)}
    return {
        "schema": {"current": SCHEMA_CURRENT, "oldest": SCHEMA_OLDEST},
        "digest": hashlib.sha256(canonical(types)).hexdigest(),
        "roles": [role.value for role in Role],
        "types": types,
    }


def render(value: dict[str, Any]) -> str:
    """Return the document as the server sends it and the fixture holds it."""
    return json.dumps(value, ensure_ascii=False, indent=1) + "\n"


@bp.get("/declarations")
def declarations() -> Response:
    """Answer the declarations; 304 when the client's copy is current."""
    published = document()
    reply = current_app.response_class(render(published), mimetype="application/json")
    reply.set_etag(published["digest"])
    reply.headers["Cache-Control"] = "no-cache"
    return reply.make_conditional(request)


if __name__ == "__main__":
    sys.stdout.write(render(document()))
