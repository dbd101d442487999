"""Small helpers the tests share: signing in, headers."""

from __future__ import annotations

from flask.testing import FlaskClient

DEMO_PASSWORD = "demo-password-1"


def sign_in(client: FlaskClient, username: str, password: str = DEMO_PASSWORD) -> str:
    """Log ``username`` in and return the bearer token."""
    reply = client.post(
        "/api/v1/auth/login",
        json={"username": username, "password": password, "device_name": "pytest"},
    )
    assert reply.status_code == 200, reply.get_json()
    return str(reply.get_json()["token"])


def bearer(token: str) -> dict[str, str]:
    """Return the Authorization header for ``token``."""
    return {"Authorization": f"Bearer {token}"}
