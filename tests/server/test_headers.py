"""Security headers on every answer, and a PWA with nothing its policy would block."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask, Response
from flask_talisman import Talisman

from server.headers import CONTENT_SECURITY_POLICY, EXTENSION, TALISMAN_OPTIONS, SecurityHeaders
from server.web import WEB_ROOT
from tests.conftest import make_app
from tests.helpers import bearer, sign_in

WEB = Path(WEB_ROOT)
EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
# Answers of every kind: the shell, app files, app routes, the API, its docs, errors.
PATHS = (
    "/",
    "/app/main.js",
    "/sw.js",
    "/manifest.webmanifest",
    "/tasks/1",
    "/missing.js",
    "/api/v1/health",
    "/api/v1/openapi.json",
    "/api/v1/docs",
    "/api/v1/users/me",
    "/api/v1/nothing",
    "/api/v1/auth/login",
)


def directives(header):
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.mark.parametrize("path", PATHS)
def test_every_answer_carries_the_security_headers(client, path):
    with client.get(path, headers=bearer(sign_in(client, "vol-a"))) as reply:
        for name, value in EXPECTED.items():
            assert reply.headers.get(name) == value, name
        policy = directives(reply.headers["Content-Security-Policy"])
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    for sources in policy.values():
        assert not {"'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"} & set(
            sources
        )
    assert "Strict-Transport-Security" not in reply.headers  # plain HTTP


def test_the_policy_lets_the_app_reach_its_own_api_and_socket():
    assert CONTENT_SECURITY_POLICY["connect-src"] == "'self'"


def test_https_behind_a_trusted_proxy_adds_hsts(sqlite_url):
    client = make_app(sqlite_url, PROXY_HOPS=1).test_client()
    with client.get("/api/v1/health", headers={"X-Forwarded-Proto": "https"}) as reply:
        assert reply.headers["Strict-Transport-Security"].startswith("max-age=")


# What a strict policy blocks: inline scripts, styles and handlers, and code from strings.
HTML_BLOCKED = re.compile(
    r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\son[a-z]+\s*=|\sstyle\s*=|javascript:", re.I
)
JS_BLOCKED = re.compile(
    r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function"
    # A handler given as a string ({onclick: '...'}), but not the plural category `one`.
    r"|setAttribute\(\s*['\"](?:style|on)|\bon(?!e:)[a-z]+:\s*['\"`]|javascript:"
    # An element's style attribute, but not Intl's formatting option of the same name.
    r"|\bstyle:(?!\s*['\"](?:unit|currency|percent|decimal)['\"])"
)


def code_of(path):
    """Return a web file's text without its comments (which may name what they avoid)."""
    text = re.sub(r"/\*.*?\*/|<!--.*?-->", "", path.read_text(encoding="utf-8"), flags=re.S)
    return re.sub(r"^\s*//.*$", "", text, flags=re.M)


def web_files(*suffixes):
    return sorted(
        path
        for path in WEB.rglob("*")
        if path.suffix in suffixes and "vendor" not in path.relative_to(WEB).parts
    )


def test_the_pwa_has_no_inline_script_style_or_handler():
    found = [
        f"{path.relative_to(WEB)}: {match.group(0)}"
        for path in web_files(".html")
        for match in HTML_BLOCKED.finditer(code_of(path))
    ]
    found += [
        f"{path.relative_to(WEB)}: {match.group(0)}"
        for path in web_files(".js")
        for match in JS_BLOCKED.finditer(code_of(path))
    ]
    assert len(web_files(".js")) > 10
    assert found == []


@pytest.mark.parametrize(
    "snippet",
    [
        "<script>alert(1)</script>",
        '<button onclick="go()">',
        '<p style="color: red">',
        "el.innerHTML = text;",
        "h('p', {style: 'color: red'})",
        "h('a', {onclick: 'go()'})",
        "el.setAttribute('style', 'x')",
    ],
)
def test_the_scan_finds_what_the_policy_blocks(snippet):
    assert HTML_BLOCKED.search(snippet) or JS_BLOCKED.search(snippet)


@pytest.mark.parametrize(
    "snippet",
    [
        "new Intl.NumberFormat(lang, { style: 'unit', unit: 'megabyte' })",
        'new Intl.NumberFormat(lang, { style: "percent" })',
        "el.style.width = `${share}%`;",
    ],
)
def test_the_scan_passes_what_the_policy_allows(snippet):
    assert not HTML_BLOCKED.search(snippet) and not JS_BLOCKED.search(snippet)


def test_the_policy_lets_the_app_show_a_photo_it_fetched_and_no_other_image():
    """A record's photo is fetched with the token and shown from a blob URL (web/app/app.js)."""
    assert directives(f"img-src {CONTENT_SECURITY_POLICY['img-src']}")["img-src"] == [
        "'self'",
        "blob:",
    ]


def test_recorded_headers_are_the_ones_talisman_sets_for_each_scheme(app):
    """Headers are worked out once per endpoint and scheme, and never carried to the other."""
    talisman = Talisman(Flask("reference"), **TALISMAN_OPTIONS)
    client = app.test_client()
    for https in (False, True, False, True):
        scheme = {"X-Forwarded-Proto": "https"} if https else {}
        reply = client.get("/api/v1/health", headers=scheme)
        with app.test_request_context("/api/v1/health", headers=scheme):
            expected = talisman._set_response_headers(Response()).headers
        for name in (*EXPECTED, "Content-Security-Policy", "Strict-Transport-Security"):
            assert reply.headers.get(name) == expected.get(name), (name, https)
        assert ("Strict-Transport-Security" in reply.headers) is https


def test_each_app_records_its_own_headers(sqlite_url):
    """Recorded headers belong to the app that recorded them, not to the process."""
    first, second = make_app(sqlite_url), make_app(sqlite_url)
    first.extensions[EXTENSION].content_security_policy = {"default-src": "'none'"}
    assert first.test_client().get("/api/v1/health").headers["Content-Security-Policy"] == (
        "default-src 'none'"
    )
    policy = directives(
        second.test_client().get("/api/v1/health").headers["Content-Security-Policy"]
    )
    assert policy["default-src"] == ["'self'"] and policy["frame-ancestors"] == ["'none'"]


def test_no_talisman_hook_runs_before_a_request_and_the_session_cookie_is_secure(sqlite_url):
    """Neither HTTPS forcing nor a nonce: nothing to do before a request (issue #16).

    The session cookie is ``Secure`` from the start, as Talisman's hook made it at each request.
    """
    app = make_app(sqlite_url)
    talisman = app.extensions[EXTENSION]
    assert app.config["SESSION_COOKIE_SECURE"] is True
    hooks = app.before_request_funcs[None]
    assert talisman._force_https not in hooks and talisman._make_nonce not in hooks


@pytest.mark.parametrize(
    "options", [{"force_https": True}, {"content_security_policy_nonce_in": ["script-src"]}]
)
def test_talisman_keeps_its_hooks_when_it_forces_https_or_makes_a_nonce(options):
    app = Flask("options")
    talisman = SecurityHeaders(app, **{**TALISMAN_OPTIONS, **options})
    assert app.before_request_funcs[None] == [talisman._force_https, talisman._make_nonce]


def test_a_security_header_the_answer_already_has_is_replaced_not_doubled(app):
    @app.get("/test/framed")
    def framed() -> Response:
        return Response("x", headers={"X-Frame-Options": "SAMEORIGIN", "X-Other": "kept"})

    reply = app.test_client().get("/test/framed")
    assert reply.headers.getlist("X-Frame-Options") == ["DENY"]
    assert reply.headers["X-Other"] == "kept"
    assert reply.headers["Referrer-Policy"] == "no-referrer"
