"""Scope: a volunteer of compound A reads nothing of compound B, through any endpoint.

The test walks every GET route of the API, filling path arguments with ids of
compound B's records, and checks that no id or personal data of compound B
appears in any answer to vol-a. New endpoints are covered as they are added.
"""

from __future__ import annotations

from sqlalchemy import select

from server import seed
from server.extensions import db
from server.models import RecordRow, RecordScope
from tests.helpers import bearer, sign_in


def personal_data(app, compound_id):
    """Return the ids of a compound's records and its residents' names and phones."""
    with app.app_context():
        rows = db.session.execute(
            select(RecordRow.id, RecordRow.type, RecordRow.fields)
            .join(RecordScope, RecordScope.record_id == RecordRow.id)
            .where(RecordScope.compound_id == compound_id)
        ).all()
    residents = [row.fields for row in rows if row.type == "resident"]
    people = {r["name"] for r in residents} | {r["phone"] for r in residents}
    return {row.id for row in rows}, people


def compound_b_secrets(app):
    """Return compound B's id, its record ids, and personal data found only in B."""
    compound_b = seed.stable_id("compound", "B")
    ids, people = personal_data(app, compound_b)
    _, people_of_a = personal_data(app, seed.stable_id("compound", "A"))
    return compound_b, ids, people - people_of_a


def get_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") and "GET" in rule.methods:
            yield rule


def test_volunteer_of_a_reads_nothing_of_b_through_any_endpoint(app, client):
    compound_b, ids, personal = compound_b_secrets(app)
    token = sign_in(client, "vol-a")
    sample_ids = [*sorted(ids)[:3], compound_b]
    checked = 0
    for rule in get_routes(app):
        urls = [rule.rule]
        if rule.arguments:
            urls = [
                rule.rule.replace(f"<{arg}>", value)
                for arg in rule.arguments
                for value in sample_ids
            ]
        for url in urls:
            for query in ("", "?cursor=0&limit=1000", f"?compound_id={compound_b}"):
                text = client.get(url + query, headers=bearer(token)).get_data(as_text=True)
                leaked = [s for s in ids | personal if f'"{s}"' in text]
                assert not leaked, f"{url}{query} leaks {leaked[:3]}"
                checked += 1
    assert checked >= 3
