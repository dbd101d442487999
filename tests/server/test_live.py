"""Socket.IO: token auth on connect, revocation disconnects."""

from __future__ import annotations

from server.extensions import socketio
from tests.helpers import bearer, sign_in


def test_socket_without_valid_token_fails_to_connect(app, client):
    for auth in (None, {}, {"token": "garbage"}, {"token": 42}):
        socket = socketio.test_client(app, flask_test_client=client, auth=auth)
        assert not socket.is_connected()


def test_socket_with_token_connects(app, client):
    token = sign_in(client, "vol-a")
    socket = socketio.test_client(app, flask_test_client=client, auth={"token": token})
    assert socket.is_connected()
    socket.disconnect()


def test_logout_disconnects_sockets_of_that_token_only(app, client):
    revoked, kept = sign_in(client, "vol-a"), sign_in(client, "vol-a")
    doomed = socketio.test_client(app, flask_test_client=client, auth={"token": revoked})
    other = socketio.test_client(app, flask_test_client=client, auth={"token": kept})
    assert doomed.is_connected() and other.is_connected()
    assert client.post("/api/v1/auth/logout", headers=bearer(revoked)).status_code == 204
    assert not doomed.is_connected()
    assert other.is_connected()
    again = socketio.test_client(app, flask_test_client=client, auth={"token": revoked})
    assert not again.is_connected()
    other.disconnect()
