"""A small keep-alive HTTP client for the bench, and signing in.

``http.client`` on one connection per thread, as the contract's clients
would hold; every reply keeps its status, body and the wall time the
request took.
"""

from __future__ import annotations

import http.client
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

REQUEST_TIMEOUT_S = 60


@dataclass(frozen=True)
class Reply:
    """One HTTP reply: status (0 if the connection failed), headers, body, seconds."""

    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    def json(self) -> Any:
        """Return the body parsed as JSON."""
        return json.loads(self.body)


def encode(body: Any) -> bytes:
    """Return ``body`` as the JSON bytes :meth:`Http.request` sends."""
    return json.dumps(body).encode()


class Http:
    """One keep-alive connection to the bench server."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.token = token
        self.connection = http.client.HTTPConnection(
            self.host, self.port, timeout=REQUEST_TIMEOUT_S
        )

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """Send one request and read the whole reply; a broken connection gives status 0.

        ``body`` is JSON-encoded, unless it is ``bytes`` already (:func:`encode`d
        ahead, so a timed loop only sends).
        """
        sent_headers = {"Accept": "application/json", **(headers or {})}
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else encode(body)
            sent_headers["Content-Type"] = "application/json"
        if self.token:
            sent_headers["Authorization"] = f"Bearer {self.token}"
        started = time.perf_counter()
        try:
            self.connection.request(method, path, body=data, headers=sent_headers)
            response = self.connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException) as error:
            self.connection.close()
            return Reply(0, {"error": repr(error)}, b"", time.perf_counter() - started)
        seconds = time.perf_counter() - started
        return Reply(response.status, dict(response.getheaders()), payload, seconds)

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()


def log_in(base_url: str, username: str, password: str, device: str = "bench") -> str:
    """Sign in and return a fresh bearer token (each sign-in makes its own)."""
    http = Http(base_url)
    try:
        reply = http.request(
            "POST",
            "/api/v1/auth/login",
            {"username": username, "password": password, "device_name": device},
        )
    finally:
        http.close()
    if reply.status != 200:
        raise RuntimeError(f"login as {username} failed: {reply.status} {reply.body[:200]!r}")
    return str(reply.json()["token"])


def endpoint_exists(base_url: str, token: str, method: str, path: str, body: Any = None) -> bool:
    """Tell whether the server routes ``path`` at all (anything but 404 and 405)."""
    http = Http(base_url, token)
    try:
        return http.request(method, path, body).status not in (404, 405)
    finally:
        http.close()
