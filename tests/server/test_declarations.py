"""The published declarations (``GET /api/v1/declarations``) and their shared fixture."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

from jsonschema import Draft202012Validator

from server import declarations
from sync.catalog import REGISTRY
from sync.tasks import TASK_MACHINE

FIXTURE = Path(__file__).parents[1] / "web" / "fixtures" / "declarations.json"
ROOT = Path(__file__).parents[2]


def test_committed_fixture_is_what_the_server_publishes(client):
    reply = client.get("/api/v1/declarations")
    assert reply.status_code == 200
    committed = FIXTURE.read_text(encoding="utf-8")
    assert json.loads(committed) == reply.get_json(), (
        "regenerate: python -m server.declarations > tests/web/fixtures/declarations.json"
    )
    assert committed == declarations.render(declarations.document())


def test_the_module_prints_the_document():
    printed = subprocess.run(
        [sys.executable, "-m", "server.declarations"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        encoding="utf-8",
    ).stdout
    assert json.loads(printed) == declarations.document()


def test_it_needs_no_token_and_revalidates_by_digest(client):
    reply = client.get("/api/v1/declarations")
    digest = reply.get_json()["digest"]
    assert reply.headers["ETag"] == f'"{digest}"'
    assert reply.headers["Cache-Control"] == "no-cache"
    again = client.get("/api/v1/declarations", headers={"If-None-Match": f'"{digest}"'})
    assert again.status_code == 304 and again.get_data() == b""


def test_the_digest_is_of_the_canonical_types():
    document = declarations.document()
    canonical = json.dumps(
        document["types"], sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert document["digest"] == hashlib.sha256(canonical.encode()).hexdigest()
    assert document["schema"] == {"current": 1, "oldest": 1}
    assert document["roles"] == ["coordinator", "volunteer", "guard", "team_leader", "clinician"]


def test_every_declared_type_and_no_other_is_published():
    types = declarations.document()["types"]
    assert set(types) == set(REGISTRY)
    for name, published in types.items():
        rtype = REGISTRY[name]
        assert list(published["fields"]) == list(rtype.fields)
        for schema in published["fields"].values():
            Draft202012Validator.check_schema(schema)
        assert published["visibility"]["roles"] == sorted(rtype.visibility.roles)
        assert published["rule_owned"] == sorted(rtype.rule_owned)
        assert published["rule_made"] == sorted(rtype.rule_made)
        assert set(published["rule_made"]) <= set(published["rule_owned"])
        assert set(published) == {
            "fields",
            "required",
            "defaults",
            "immutable",
            "append_only",
            "rule_owned",
            "rule_made",
            "permissions",
            "visibility",
            "sync_policy",
            "state_machine",
        }


def test_the_task_machine_is_published_as_the_engine_runs_it():
    task = declarations.document()["types"]["task"]
    assert task["state_machine"] == TASK_MACHINE.to_json()
    assert task["permissions"]["update_fields"] == {
        "volunteer": ["assignee_id", "notes", "proof", "status"]
    }
    assert declarations.document()["types"]["package"]["rule_owned"] == ["stock"]
    assert task["rule_made"] == ["med_request_id"]
    assert declarations.document()["types"]["compound"]["state_machine"] is None
