"""Small helpers the tests share: signing in, headers."""

from __future__ import annotations

import uuid
from typing import Any

from flask.testing import FlaskClient

DEMO_PASSWORD = "demo-password-1"


def sign_in(
    client: FlaskClient, username: str, password: str = DEMO_PASSWORD, device_name: str = "pytest"
) -> str:
    """Log ``username`` in on a device named ``device_name`` and return the bearer token."""
    reply = client.post(
        "/api/v1/auth/login",
        json={"username": username, "password": password, "device_name": device_name},
    )
    assert reply.status_code == 200, reply.get_json()
    return str(reply.get_json()["token"])


def bearer(token: str) -> dict[str, str]:
    """Return the Authorization header for ``token``."""
    return {"Authorization": f"Bearer {token}"}


def a_task_create(compound_id: str, task_id: str | None = None) -> dict[str, Any]:
    """Return a change that creates an open task in ``compound_id``."""
    fields = {
        "kind": "garbage",
        "title": "清运",
        "status": "open",
        "priority": 3,
        "compound_id": compound_id,
    }
    return {"type": "task", "id": task_id or str(uuid.uuid4()), "op": "create", "fields": fields}


def a_clinician_of(compound_id: str, username: str = "medic-a") -> dict[str, Any]:
    """Return the ``POST /api/v1/users`` body of a clinician scoped to one compound.

    Such a clinician is who breaks the glass (``server/break_glass.py``).
    """
    return {
        "username": username,
        "display_name": "A区医生",
        "role": "clinician",
        "scope_kind": "compounds",
        "scope_ids": [compound_id],
        "password": DEMO_PASSWORD,
    }


def a_user_of(
    client: FlaskClient, compound_ids: list[str], username: str, role: str = "coordinator"
) -> str:
    """Create (as ``coord``) a user of ``role`` in ``compound_ids``; return their token."""
    reply = client.post(
        "/api/v1/users",
        json={
            "username": username,
            "display_name": username,
            "password": DEMO_PASSWORD + "-" + username,
            "role": role,
            "scope_kind": "compounds",
            "scope_ids": compound_ids,
        },
        headers=bearer(sign_in(client, "coord")),
    )
    assert reply.status_code == 201, reply.get_json()
    return sign_in(client, username, DEMO_PASSWORD + "-" + username)


def a_coordinator_of(client: FlaskClient, compound_ids: list[str], username: str) -> str:
    """Create (as the demo's ``coord``) a coordinator of ``compound_ids``; return their token."""
    return a_user_of(client, compound_ids, username)
