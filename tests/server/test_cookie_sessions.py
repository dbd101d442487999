"""The cookie session: made only for a request that brings its cookie, read as Flask reads it."""

from __future__ import annotations

from flask import Flask, session

from server.cookie_sessions import CookieSessionInterface


def test_every_app_uses_the_cookie_session_interface(app):
    assert isinstance(app.session_interface, CookieSessionInterface)


def test_a_request_without_the_cookie_gets_an_empty_session_and_no_cookie(client):
    reply = client.get("/api/v1/health")
    assert "Set-Cookie" not in reply.headers
    assert "Cookie" not in reply.headers.get("Vary", "")


def test_a_session_written_is_read_back_and_a_forged_one_is_not(app: Flask):
    @app.get("/test/session/<value>")
    def remember(value: str) -> dict[str, str | None]:
        seen = session.get("value")
        session["value"] = value
        return {"seen": seen}

    client = app.test_client()
    assert client.get("/test/session/one").get_json() == {"seen": None}
    assert client.get("/test/session/two").get_json() == {"seen": "one"}
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], "forged.value.signature")
    assert client.get("/test/session/three").get_json() == {"seen": None}


def test_a_session_read_but_left_empty_still_varies_by_cookie(app: Flask):
    @app.get("/test/session-peek")
    def peek() -> dict[str, str | None]:
        return {"seen": session.get("value")}

    reply = app.test_client().get("/test/session-peek")
    assert reply.get_json() == {"seen": None}
    assert "Cookie" in reply.headers.get("Vary", "")
    assert "Set-Cookie" not in reply.headers
