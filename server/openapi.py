"""Generate the OpenAPI description from the marshmallow schemas and the declarations.

Each operation is one row of ``OPERATIONS``; its request and response bodies
are the schema instances the views use, turned into OpenAPI components by
apispec's marshmallow plugin, so the description cannot drift from them.
Every route of the app has a row (``tests/server/test_openapi.py`` walks the
URL map). Each record type's ``fields`` is a component built from its
declaration (:func:`server.declarations.type_document`): the fields as JSON
Schema, with its permissions, visibility, sync policy and state machine as
``x-`` extensions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, fields

from server.declarations import SCHEMA_CURRENT, SCHEMA_OLDEST, type_document
from server.schemas.accounts import (
    DIRECTORY,
    HEALTH,
    LOGIN,
    LOGIN_ALERTS,
    LOGIN_REPLY,
    NEW_USER,
    USER,
)
from server.schemas.attachments import ATTACHMENT, ATTACHMENT_LIST
from server.schemas.audit import AUDIT_ARGS, AUDIT_REPLY
from server.schemas.break_glass import BREAK_GLASS, GRANT, GRANT_LIST
from server.schemas.gate import PASS_SHEET
from server.schemas.supplies import CHAIN_LIST, CHAIN_LIST_REPLY, DELIVERIES_REPLY
from server.schemas.sync import PULL_ARGS, PULL_REPLY, PUSH, PUSH_REPLY
from sync.attachments import KINDS, MAX_PHOTO_BYTES, PHOTO_FORMATS
from sync.catalog import REGISTRY
from sync.exports import DATASETS
from sync.registry import RecordType
from sync.wire import MAX_CHANGES, MAX_CHANGESETS

API_VERSION = "1"
__all__ = ["API_VERSION", "OPERATIONS", "SCHEMA_CURRENT", "SCHEMA_OLDEST", "build_spec"]


@dataclass(frozen=True)
class Operation:
    """One documented API operation."""

    path: str
    method: str
    summary: str
    request: Schema | None = None
    response: Schema | None = None
    status: int = 200
    public: bool = False
    parameters: tuple[dict[str, Any], ...] = ()
    media_type: str = "application/json"


ATTACHMENT_ID = {
    "in": "path",
    "name": "attachment_id",
    "required": True,
    "schema": {"type": "string", "format": "uuid"},
}


def query_parameters(schema: Schema) -> tuple[dict[str, Any], ...]:
    """Describe the fields of a query-string schema as optional query parameters."""
    return tuple(
        {
            "in": "query",
            "name": name,
            "required": False,
            "schema": {"type": "integer" if isinstance(field, fields.Integer) else "string"},
            "description": field.metadata.get("description", name),
        }
        for name, field in schema.fields.items()
    )


# The record schema a client was built for (sync-contract.md, Versions).
SCHEMA_PARAMETER = {
    "in": "header",
    "name": "Weiguang-Schema",
    "required": False,
    "schema": {"type": "integer"},
    "description": "The record schema the client was built for; 426 if no longer supported.",
}

OPERATIONS: list[Operation] = [
    Operation(
        "/api/v1/health",
        "get",
        "Tell whether the server and its database and message queue answer (503 "
        "'degraded' when one does not).",
        None,
        HEALTH,
        public=True,
    ),
    Operation(
        "/metrics",
        "get",
        "This process's Prometheus metrics (text format): from the loopback address, "
        "else with the operator's WEIGUANG_METRICS_TOKEN as the bearer token (docs/deploy.md).",
        public=True,
        media_type="text/plain",
    ),
    Operation("/api/v1/openapi.json", "get", "This API description.", public=True),
    Operation(
        "/api/v1/docs",
        "get",
        "This API description as a readable page.",
        public=True,
        media_type="text/html",
    ),
    Operation(
        "/api/v1/static/{filename}",
        "get",
        "The docs page's stylesheet (a file, since the CSP allows no inline style).",
        public=True,
        parameters=(
            {"in": "path", "name": "filename", "required": True, "schema": {"type": "string"}},
        ),
        media_type="text/css",
    ),
    Operation(
        "/api/v1/declarations",
        "get",
        "Every record type as data: fields (JSON Schema), permissions, visibility, sync "
        "policy and state machine (docs/declarations.md). ETag is the digest; 304 on "
        "If-None-Match.",
        public=True,
    ),
    Operation(
        "/api/v1/auth/login",
        "post",
        "Sign in; issues a token for this device.",
        LOGIN,
        LOGIN_REPLY,
        public=True,
    ),
    Operation("/api/v1/auth/logout", "post", "Revoke this device's token.", status=204),
    Operation(
        "/api/v1/auth/alerts",
        "get",
        "Recent sign-in alerts about accounts within your scope (coordinators).",
        None,
        LOGIN_ALERTS,
    ),
    Operation("/api/v1/users/me", "get", "The signed-in user.", None, USER),
    Operation(
        "/api/v1/users/directory",
        "get",
        "Display names of the users who share a compound with the caller; for coordinators "
        "also the names of the devices their unresolved conflicts name.",
        None,
        DIRECTORY,
    ),
    Operation(
        "/api/v1/users",
        "post",
        "Create a user with a scope within your own (coordinators).",
        NEW_USER,
        USER,
        status=201,
    ),
    Operation(
        "/api/v1/sync/push",
        "post",
        "Apply changesets in order, each atomically and idempotently (sync-contract.md); "
        "past WEIGUANG_PUSH_RATE_LIMIT pushes per device (120 a minute by default): "
        "429 with Retry-After. "
        f"At most {MAX_CHANGESETS} changesets a push (more: 413, nothing applied) and "
        f"{MAX_CHANGES} changes a changeset (more: that changeset is invalid).",
        PUSH,
        PUSH_REPLY,
        parameters=(SCHEMA_PARAMETER,),
    ),
    Operation(
        "/api/v1/sync/pull",
        "get",
        "Records in the caller's scope after a cursor, in version order (sync-contract.md).",
        None,
        PULL_REPLY,
        parameters=(*query_parameters(PULL_ARGS), SCHEMA_PARAMETER),
    ),
    Operation(
        "/api/v1/supplies/rounds/{round_id}/chain_list",
        "post",
        "Read a pasted WeChat 接龙 list into proposed orders of the round: every non-blank "
        "line comes back with its household, its lines and its problems, nothing dropped "
        "(team leaders, coordinators). Proposes only: the app pushes the confirmed orders.",
        CHAIN_LIST,
        CHAIN_LIST_REPLY,
        parameters=(
            {"in": "path", "name": "round_id", "required": True, "schema": {"type": "string"}},
        ),
    ),
    Operation(
        "/api/v1/supplies/rounds/{round_id}/deliveries",
        "post",
        "After the round's cut-off, make one delivery task per building unit from its "
        "confirmed orders (ids derived from round and unit: asking again only brings open "
        "tasks up to late confirmations); 409 before the cut-off (team leaders, coordinators).",
        None,
        DELIVERIES_REPLY,
        parameters=(
            {"in": "path", "name": "round_id", "required": True, "schema": {"type": "string"}},
        ),
    ),
    Operation(
        "/api/v1/break-glass",
        "post",
        "Break the glass: open a compound outside your scope for a stated reason, at most "
        "12 hours (clinicians). Audited; coordinators are told live (event break_glass); "
        "it ends by itself.",
        BREAK_GLASS,
        GRANT,
        status=201,
    ),
    Operation(
        "/api/v1/break-glass/{grant_id}/end",
        "post",
        "End a break-the-glass grant before its time (a coordinator who sees its compound, "
        "or its user). Audited; coordinators are told live (event break_glass_ended); the "
        "user's devices drop the compound's records at their next pull. 404 for a grant not "
        "in force or not the caller's to end.",
        None,
        GRANT,
        parameters=(
            {"in": "path", "name": "grant_id", "required": True, "schema": {"type": "integer"}},
        ),
    ),
    Operation(
        "/api/v1/break-glass",
        "get",
        "The break-the-glass grants in force: a coordinator's in their scope, a clinician's own; "
        "with the compounds a clinician may open (id, name).",
        None,
        GRANT_LIST,
    ),
    Operation(
        "/api/v1/audit",
        "get",
        "Who changed what and when (coordinators; others 403): one entry per applied or "
        "merged change, newest first, from the changeset log and the field stamps, for "
        "records in the caller's scope, with values as the caller may see them. Filters "
        "combine; pages follow `cursor` while `more` (a page may be short: the log is read "
        "a bounded number of changesets a request). Bad values: 422.",
        None,
        AUDIT_REPLY,
        parameters=query_parameters(AUDIT_ARGS),
    ),
    Operation(
        "/api/v1/exports/{dataset}.{fmt}",
        "get",
        "A dataset as CSV (UTF-8 with BOM) or XLSX, streamed, holding what the caller could "
        "pull (sync-contract.md, Exports). X-Export-Records: the records read, for a "
        "progress bar. Coordinators every dataset, team leaders orders and picking_list.",
        parameters=(
            {
                "in": "path",
                "name": "dataset",
                "required": True,
                "schema": {"type": "string", "enum": sorted(DATASETS)},
            },
            {
                "in": "path",
                "name": "fmt",
                "required": True,
                "schema": {"type": "string", "enum": ["csv", "xlsx"]},
            },
            {
                "in": "query",
                "name": "compound_id",
                "required": False,
                "schema": {"type": "string"},
            },
            *(
                {
                    "in": "query",
                    "name": name,
                    "required": False,
                    "schema": {"type": "string"},
                    "description": "Keeps the records with this value, in the datasets "
                    + ", ".join(sorted(d.name for d in DATASETS.values() if name in d.filters))
                    + " (ignored by the others).",
                }
                for name in sorted({name for d in DATASETS.values() for name in d.filters})
            ),
        ),
        media_type="text/csv",
    ),
    Operation(
        "/api/v1/progress",
        "get",
        "Progress of the caller's scope per compound and building: screening coverage, "
        "testing, orders confirmed and delivered, open urgent requests, gate counts, and "
        "counts per UTC hour since `since` (coordinators; counts only, no personal data). "
        "Measures whose record type the server does not know yet are left out.",
        parameters=(
            {
                "in": "query",
                "name": "since",
                "required": False,
                "schema": {"type": "string", "format": "date-time"},
                "description": "Start of the counted day, with a zone (default: 24 hours ago).",
            },
        ),
    ),
    Operation(
        "/api/v1/gate/sheets",
        "post",
        "Print a building's pass sheets (coordinators): every resident of the building gets a "
        "new resident pass, signed, which revokes the previous one (a reprint makes the last "
        "sheet worthless); the answer is an A4 PDF, eight passes a page.",
        PASS_SHEET,
        media_type="application/pdf",
    ),
    Operation(
        "/api/v1/gate/passes/{pass_id}.pdf",
        "get",
        "One resident's pass as a printable PDF, as it is (coordinators, guards; in scope).",
        parameters=(
            {"in": "path", "name": "pass_id", "required": True, "schema": {"type": "string"}},
        ),
        media_type="application/pdf",
    ),
    Operation(
        "/api/v1/attachments/{attachment_id}",
        "put",
        "Store a photo of a record, outside the changeset path (docs/sync.md, Contract "
        "extensions): the body is the image (Content-Type "
        + ", ".join(sorted(PHOTO_FORMATS))
        + f", at most {MAX_PHOTO_BYTES} bytes: else 415, 413); `kind` task_proof (a task's "
        "coordinators and assignee) or prescription (a med_request's clinicians and "
        "coordinators and its requester); 404 for a record the caller may not attach to. "
        "201 new, 200 the same photo again (idempotent), 409 other bytes under a used id.",
        None,
        ATTACHMENT,
        status=201,
        parameters=(
            ATTACHMENT_ID,
            {"in": "query", "name": "kind", "required": True, "schema": {"enum": sorted(KINDS)}},
            {"in": "query", "name": "record_id", "required": True, "schema": {"type": "string"}},
        ),
    ),
    Operation(
        "/api/v1/attachments/{attachment_id}",
        "get",
        "A photo's bytes, for those who may upload it (404 for the others); "
        "a personal photo's download is audited (action photo-download).",
        parameters=(ATTACHMENT_ID,),
        media_type="image/jpeg",
    ),
    Operation(
        "/api/v1/attachments",
        "get",
        "The photos of a record that the caller may see (metadata; bytes by id).",
        None,
        ATTACHMENT_LIST,
        parameters=(
            {"in": "query", "name": "record_id", "required": True, "schema": {"type": "string"}},
        ),
    ),
    Operation("/", "get", "The app shell (the PWA).", public=True, media_type="text/html"),
    Operation(
        "/sw.js",
        "get",
        "The service worker, with the shell's precache list and version filled in.",
        public=True,
        media_type="text/javascript",
    ),
    Operation(
        "/{path}",
        "get",
        "A file of the PWA, or the app shell for one of the app's own routes (404 for a "
        "missing file).",
        public=True,
        parameters=(
            {"in": "path", "name": "path", "required": True, "schema": {"type": "string"}},
        ),
        media_type="*/*",
    ),
]


def build_spec() -> dict[str, Any]:
    """Return the OpenAPI 3.1 description as a dict."""
    spec = APISpec(
        title="Weiguang sync API",
        version=API_VERSION,
        openapi_version="3.1.0",
        plugins=[MarshmallowPlugin()],
        info={
            "x-weiguang-schema": {"current": SCHEMA_CURRENT, "oldest": SCHEMA_OLDEST},
            "x-weiguang-push-limits": {
                "changesets_per_push": MAX_CHANGESETS,
                "changes_per_changeset": MAX_CHANGES,
            },
        },
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.schema(
        "Problem",
        {
            "type": "object",
            "properties": {
                "type": {"type": "string"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
                "errors": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    )
    for rtype in REGISTRY.values():
        spec.components.schema(f"{rtype.name}_fields", record_type_schema(rtype))
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def record_type_schema(rtype: RecordType) -> dict[str, Any]:
    """Describe the ``fields`` of one record type, from its declaration."""
    declared = type_document(rtype)
    return {
        "type": "object",
        "description": f"The fields of a {rtype.name} record; see docs/sync.md.",
        "properties": declared["fields"],
        "required": declared["required"],
        "additionalProperties": False,
        "x-defaults": declared["defaults"],
        "x-immutable": declared["immutable"],
        "x-append-only": declared["append_only"],
        "x-rule-owned": declared["rule_owned"],
        "x-permissions": declared["permissions"],
        "x-visibility": declared["visibility"],
        "x-sync-policy": declared["sync_policy"],
        "x-state-machine": declared["state_machine"],
    }


def _operation(op: Operation) -> dict[str, Any]:
    problem = {
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        }
    }
    schema: Schema | dict[str, Any] = {} if op.response is None else op.response
    responses: dict[str, Any] = {
        str(op.status): {"description": "OK"}
        if op.status == 204
        else {"description": "OK", "content": {op.media_type: {"schema": schema}}},
        "default": {"description": "An error (problem+json)", **problem},
    }
    body: dict[str, Any] = {"summary": op.summary, "responses": responses}
    if op.parameters:
        body["parameters"] = list(op.parameters)
    if op.request is not None:
        body["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": op.request}},
        }
    body["security"] = [] if op.public else [{"bearer": []}]
    return body
