"""The app runs under its Content-Security-Policy without a single violation.

Every screen is visited after signing in, live updates included (Socket.IO
over WebSocket, which the policy's ``connect-src`` must allow); the API's
docs page too. Violations are caught as ``securitypolicyviolation`` events
and as console messages; a last step checks that an inline script would be
caught, so that the test can fail.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from server.seed import stable_id
from tests.browser.conftest import ENGLISH
from tests.browser.helpers import UI_TIMEOUT_MS, go, open_task, seeded_task_id, sign_in
from tests.servers import ServedApp

pytestmark = pytest.mark.browser

RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@pytest.fixture
def watched(browser: Any, served: ServedApp) -> Iterator[tuple[Any, list[str], list[str]]]:
    """Open the app in a context that records CSP violations and WebSockets."""
    context = browser.new_context(base_url=served.url)
    context.set_default_timeout(UI_TIMEOUT_MS)
    context.add_init_script(ENGLISH + RECORD_VIOLATIONS)
    console: list[str] = []
    sockets: list[str] = []
    page = context.new_page()
    page.on("console", lambda message: console.append(message.text))
    page.on("websocket", lambda socket: sockets.append(socket.url))
    yield page, console, sockets
    context.close()


def violations(page: Any, console: list[str]) -> list[str]:
    seen = list(page.evaluate("window.cspViolations"))
    return seen + [text for text in console if "Content Security Policy" in text]


def test_every_screen_runs_under_the_policy(watched: Any) -> None:
    page, console, sockets = watched
    page.goto("/")
    sign_in(page, "vol-a")
    building, household = stable_id("building", "A", 1), stable_id("household", "A", 1, 1, "101")
    field_work = (
        "/screening",
        f"/screening/buildings/{building}",
        f"/screening/households/{household}",
        "/testing",
        "/shifts",
    )
    for path in ("/tasks", "/tasks/new", "/attention", "/settings", *field_work, "/notices", "/"):
        go(page, path)
        expect(page.locator("h1")).to_be_visible()
    open_task(page, seeded_task_id("A", 0))
    for _ in range(100):  # the client upgrades from long-polling when it can
        if any("/socket.io/" in url and "transport=websocket" in url for url in sockets):
            break
        page.wait_for_timeout(100)
    assert any("transport=websocket" in url for url in sockets), sockets
    assert violations(page, console) == []

    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.inlineRan = true'; document.body.append(s); }"
    )
    page.wait_for_function("() => window.cspViolations.length > 0")
    assert page.evaluate("window.inlineRan === undefined")


def test_the_coordinators_wall_screens_run_under_the_policy(watched: Any) -> None:
    page, console, _sockets = watched
    page.goto("/")
    sign_in(page, "coord")
    go(page, "/board")
    expect(page.locator(".board-card").first).to_be_visible()
    go(page, "/progress")
    # The chart library's stylesheet and canvas, loaded on this screen only.
    expect(page.locator(".progress-chart canvas")).to_have_count(1)
    assert violations(page, console) == []


def test_the_api_docs_page_runs_under_the_policy(watched: Any) -> None:
    page, console, _ = watched
    page.goto("/api/v1/docs")
    expect(page.locator("h1")).to_contain_text("Weiguang")
    width = page.evaluate("getComputedStyle(document.body).maxWidth")
    assert width != "none", "the docs page's own stylesheet applies"
    assert violations(page, console) == []
