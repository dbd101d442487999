"""The API description is generated from the schemas and readable as a page."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from server import openapi
from server.schemas.accounts import LOGIN
from sync.catalog import REGISTRY
from sync.wire import MAX_CHANGES, MAX_CHANGESETS, MalformedPush, push_from_wire


def test_description_is_public_and_lists_operations(client):
    reply = client.get("/api/v1/openapi.json")
    assert reply.status_code == 200
    spec = reply.get_json()
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["x-weiguang-schema"] == {"current": 1, "oldest": 1}
    assert "post" in spec["paths"]["/api/v1/auth/login"]
    assert spec["paths"]["/api/v1/auth/login"]["post"]["security"] == []
    assert spec["paths"]["/api/v1/users/me"]["get"]["security"] == [{"bearer": []}]


def test_description_follows_the_marshmallow_schemas(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    login = next(
        s
        for name, s in schemas.items()
        if name.startswith("Login") and "password" in s["properties"]
    )
    assert set(login["properties"]) == set(LOGIN.fields)
    assert set(login["required"]) == {n for n, f in LOGIN.fields.items() if f.required}


def test_docs_page_renders_every_path(client):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in spec["paths"]:
        assert path in page


def test_description_has_the_sync_endpoints_and_record_types(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "post" in spec["paths"]["/api/v1/sync/push"]
    pull = spec["paths"]["/api/v1/sync/pull"]["get"]
    assert {p["name"] for p in pull["parameters"] if p["in"] == "query"} == {
        "cursor",
        "limit",
        "types",
    }
    push = spec["paths"]["/api/v1/sync/push"]["post"]
    assert [p["name"] for p in push["parameters"] if p["in"] == "header"] == ["Weiguang-Schema"]
    task = spec["components"]["schemas"]["task_fields"]
    assert {"kind", "title", "status", "compound_id", "priority", "proof"} <= set(
        task["properties"]
    )
    assert spec["components"]["schemas"]["visit_fields"]["x-append-only"] is True


def test_description_states_the_push_caps_the_app_keeps_under(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    limits = spec["info"]["x-weiguang-push-limits"]
    assert limits == {"changesets_per_push": MAX_CHANGESETS, "changes_per_changeset": MAX_CHANGES}
    push = next(s for n, s in spec["components"]["schemas"].items() if n.startswith("Push"))
    assert push["properties"]["changesets"]["maxItems"] == MAX_CHANGESETS
    # The app sends at most PUSH_BATCH_SIZE changesets a push (web/app/sync.js).
    sync_js = (Path(__file__).parents[2] / "web" / "app" / "sync.js").read_text()
    batch = int(re.search(r"PUSH_BATCH_SIZE = (\d+);", sync_js).group(1))
    assert batch <= limits["changesets_per_push"]


def test_every_route_of_the_app_is_documented(app):
    spec = openapi.build_spec()
    documented = {
        (path, method.upper())
        for path, operations in spec["paths"].items()
        for method in operations
    }
    served = set()
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        served |= {(path, method) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert served - documented == set()
    assert documented - served == set()


def test_every_declared_type_is_described_by_its_declaration(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    for name, rtype in REGISTRY.items():
        described = schemas[f"{name}_fields"]
        assert described["properties"] == {
            field: declared.json_schema() for field, declared in rtype.fields.items()
        }
        assert described["x-visibility"] == rtype.visibility.to_json()
        machine = rtype.state_machine
        assert described["x-state-machine"] == (None if machine is None else machine.to_json())
        assert described["x-permissions"] == rtype.permissions.to_json()


def body_without(key: str, where: str) -> dict:
    """Return a valid push body lacking ``key`` at the top level or in its changeset."""
    change = {"type": "task", "id": str(uuid.uuid4()), "op": "update", "base_version": 1}
    change["fields"] = {}
    changeset = {"id": str(uuid.uuid4()), "made_at": "2022-03-28T08:00:00Z", "changes": [change]}
    body = {"client_id": str(uuid.uuid4()), "changesets": [changeset]}
    target = {"push": body, "changeset": changeset, "change": change}[where]
    target.pop(key)
    return body


def test_the_push_description_requires_what_the_parser_requires():
    spec = openapi.build_spec()
    components = spec["components"]["schemas"]
    push = spec["paths"]["/api/v1/sync/push"]["post"]["requestBody"]["content"]
    push_schema = components[push["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]]
    levels = {
        "push": push_schema,
        "changeset": components["Changeset"],
        "change": components["Change"],
    }
    for where, schema in levels.items():
        for key in schema["properties"]:
            required = key in schema.get("required", [])
            try:
                loaded = push_from_wire(body_without(key, where))
            except MalformedPush:
                refused = True
            else:
                changeset = loaded.changesets[0]
                problems = [changeset.problem, *(c.problem for c in changeset.changes)]
                refused = any(problems) or changeset.made_at is None
            assert refused == required, f"{where}.{key}: described required={required}"
