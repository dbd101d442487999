"""``weiguang purge-personal-data --before DATE``, on SQLite and PostgreSQL.

A volunteer's device syncs the demo plus a resident, a visit and a medicine
request carrying personal data, and a coordinator's loses a conflict over a
resident's phone; then the lockdown ends and the purge runs. The device's
next pull leaves it with no personal data; the database keeps none either
(every row of every table is searched); the counts per building and day
and the audit log's entries remain, with one more saying what was purged.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

import pytest

from server import seed
from server.clock import utcnow
from server.extensions import db
from server.purge import PLACEHOLDER
from sync.catalog import REGISTRY
from tests.conftest import make_app
from tests.filled import rows_of
from tests.helpers import a_clinician_of, bearer, sign_in
from tests.server.test_attachments import a_photo, put_photo
from tests.server.test_sync_api import a_changeset, create, pull_all, push, update

HOUSEHOLD = seed.stable_id("household", "A", 12, 3, "502")
#: Values no other data holds, to search for after the purge.
SECRETS = (
    "蔺晓岚",
    "13912345678",
    "胰岛素笔芯",
    "独居，左耳失聪",
    "3支",
    "备用电话13900001111",
    "B区3号楼蔺老太胸痛",  # a break-the-glass reason
)


#: Field names that hold a person's data in whatever type they appear (contract, Privacy).
PERSONAL_NAMES = frozenset(
    {"phone", "birth_year", "needs", "id_number_masked", "notes", "proof", "medicine", "dose"}
    | {"prescription", "token", "initials", "temperature_c"}
)
#: The types whose records are people: their names are personal too.
PEOPLE = frozenset({"resident", "volunteer", "visitor"})


def repr_name(rtype):
    return rtype.name


@pytest.mark.parametrize("rtype", sorted(REGISTRY.values(), key=lambda t: t.name), ids=repr_name)
def test_every_field_holding_a_persons_data_is_declared_for_the_purge(rtype):
    holding = PERSONAL_NAMES | ({"name"} if rtype.name in PEOPLE else set())
    assert holding & rtype.fields.keys() <= rtype.personal


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def personal_changes():
    resident = create(
        "resident",
        {
            "household_id": HOUSEHOLD,
            "name": SECRETS[0],
            "phone": SECRETS[1],
            "birth_year": 1941,
            "needs": ["elderly_alone"],
            "id_number_masked": "310101********1234",
        },
    )
    visit = create(
        "visit",
        {"household_id": HOUSEHOLD, "outcome": "answered", "present": 1, "notes": SECRETS[3]},
    )
    request = create(
        "med_request",
        {
            "resident_id": resident["id"],
            "medicine": SECRETS[2],
            "urgency": "today",
            "dose": SECRETS[4],
        },
    )
    return resident, visit, request


def counts_per_building_and_day(records):
    """Return how many records of each type there are per building (and visit day).

    Passes are not counted: a purge deletes them (``personal_record``).
    """
    return Counter(
        (r["type"], r["fields"].get("building_id"), str(r["fields"].get("visited_at"))[:10])
        for r in records
        if not r["deleted"] and not REGISTRY[r["type"]].personal_record
    )


def a_grant_with_a_reason(client, coord, reason):
    """Have a clinician of compound A break the glass into B, stating ``reason``."""
    reply = client.post(
        "/api/v1/users",
        json=a_clinician_of(seed.stable_id("compound", "A")),
        headers=bearer(coord),
    )
    assert reply.status_code == 201, reply.get_json()
    body = {"compound_id": seed.stable_id("compound", "B"), "reason": reason}
    reply = client.post(
        "/api/v1/break-glass", json=body, headers=bearer(sign_in(client, "medic-a"))
    )
    assert reply.status_code == 201, reply.get_json()
    return reply.get_json()


def apply(device, changes):
    for record in changes:
        if record["deleted"]:
            device.pop(record["id"], None)
        else:
            device[record["id"]] = record


def test_a_device_that_synced_before_the_purge_ends_with_no_personal_data(database_url):
    app = make_app(database_url)
    client = app.test_client()
    volunteer, coord = sign_in(client, "vol-a"), sign_in(client, "coord")
    resident, visit, request = personal_changes()
    reply = push(client, volunteer, a_changeset(resident, visit, request))
    assert reply["results"][0]["status"] == "applied", reply
    version = reply["results"][0]["changes"][0]["version"]
    # Two devices change the phone from the same base: the loser is kept (a conflict).
    for token, phone in ((coord, "13700000000"), (volunteer, SECRETS[5])):
        push(client, token, a_changeset(update("resident", resident["id"], version, phone=phone)))
    grant = a_grant_with_a_reason(client, coord, SECRETS[6])
    photo = put_photo(client, volunteer, request["id"], "prescription", a_photo())
    assert photo.status_code == 201, photo.get_json()
    photo_url = f"/api/v1/attachments/{photo.get_json()['id']}"
    records, cursor = pull_all(client, volunteer)
    device = {r["id"]: r for r in records}
    everyone_before = pull_all(client, coord)[0]
    with app.app_context():
        audit_before = db.session.execute(db.text("SELECT count(*) FROM audit_entry")).scalar()

    nothing = run(app, "purge-personal-data", "--before", "2000-01-01")
    assert nothing.exit_code == 0, nothing.output
    assert pull_all(client, volunteer, cursor)[0] == []
    assert client.get(photo_url, headers=bearer(volunteer)).data == a_photo()

    tomorrow = (utcnow() + timedelta(days=1)).date().isoformat()
    done = run(app, "purge-personal-data", "--before", tomorrow)
    assert done.exit_code == 0, done.output
    changes, purged_cursor = pull_all(client, volunteer, cursor)
    apply(device, changes)

    for record in device.values():
        rtype = REGISTRY[record["type"]]
        for name in rtype.personal & record["fields"].keys():
            assert record["fields"][name] in (None, [], PLACEHOLDER), (record["type"], name)
    held = json.dumps(device, ensure_ascii=False)
    stored = json.dumps(rows_of(database_url), ensure_ascii=False)
    for secret in SECRETS:
        assert secret not in held, secret
        assert secret not in stored, secret
    assert rows_of(database_url)["attachment"] == []
    assert client.get(photo_url, headers=bearer(coord)).status_code == 404
    everyone_after = pull_all(client, coord)[0]
    # Passes are a person's as a whole: each one the coordinator held is gone.
    passes = [r for r in everyone_before if REGISTRY[r["type"]].personal_record]
    assert passes
    after = {r["id"]: r for r in everyone_after}
    assert all(r["id"] not in after or after[r["id"]]["deleted"] for r in passes)
    assert counts_per_building_and_day(everyone_after) == counts_per_building_and_day(
        everyone_before
    )
    with app.app_context():
        audit_after = db.session.execute(db.text("SELECT count(*) FROM audit_entry")).scalar()
        db.engine.dispose()
    # The entries stay; each purge run adds its own, and so did the prescription's download.
    assert audit_after == audit_before + 2 + 1
    kept = [row for row in rows_of(database_url)["audit_entry"] if f'"id": {grant["id"]},' in row]
    assert len(kept) == 1
    assert '"action": "break-glass"' in kept[0]
    assert grant["compound_id"] in kept[0]  # who, where and until when stay

    again = run(app, "purge-personal-data", "--before", tomorrow)
    assert again.exit_code == 0, again.output
    assert pull_all(client, volunteer, purged_cursor)[0] == []
