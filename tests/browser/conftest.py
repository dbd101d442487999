"""Fixtures for the browser tests: Debian's chromium, a served app, devices.

A device is a fresh browser context (its own IndexedDB, service worker and
network switch) on a real ``weiguang serve`` process with its own copy of the
demo database. The browser is started once per session.

Chromium missing skips these tests, or fails them with
``WEIGUANG_REQUIRE_SERVICES=1`` (as ``.ci/run`` sets), like the PostgreSQL
and Redis tests.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sync.field import NEIGHBOURHOOD_ZONE
from tests.browser.helpers import CHROMIUM, CHROMIUM_ARGS, UI_TIMEOUT_MS, db_path_of
from tests.servers import ServedApp

# The app's language is remembered in localStorage; English keeps selectors readable.
ENGLISH = "try { localStorage.setItem('weiguang.language', 'en'); } catch (e) {}"


def require_chromium() -> None:
    """Skip (or, in CI, fail) when chromium or Playwright is missing."""
    missing = None
    if not os.access(CHROMIUM, os.X_OK):
        missing = f"{CHROMIUM} is not installed"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "playwright (Python) is not installed"
    if missing is None:
        return
    if os.environ.get("WEIGUANG_REQUIRE_SERVICES") == "1":
        pytest.fail(missing + " (mandatory in CI)")
    pytest.skip(missing)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Any]:
    """Start Playwright once per session."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="session")
def browser(playwright: Any) -> Iterator[Any]:
    """Launch headless chromium once per session."""
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture
def served(sqlite_url: str) -> Iterator[ServedApp]:
    """Run ``weiguang serve`` on a fresh copy of the demo database."""
    app = ServedApp(sqlite_url).start()
    yield app
    # Printed output shows only when the test fails.
    print("---- server output ----\n" + app.stop())


@pytest.fixture
def db_path(sqlite_url: str) -> str:
    """Return the file of the served database, to check what reached it."""
    return db_path_of(sqlite_url)


@pytest.fixture
def device(browser: Any, served: ServedApp) -> Iterator[Callable[..., Any]]:
    """Return a function that opens the app in a new browser context (a device)."""
    contexts = []
    logs: list[str] = []

    def open_device(name: str = "device", init_script: str | None = None, **options: Any) -> Any:
        """Open a device; ``init_script`` runs in every page before the app's own scripts."""
        # A phone in the neighbourhood keeps its time: "today" on the device is the
        # neighbourhood's day the server seeds and judges by (sync.field.day_of),
        # also in the hours when it is already tomorrow there and still today in UTC.
        options.setdefault("timezone_id", NEIGHBOURHOOD_ZONE.tzname(None))
        context = browser.new_context(base_url=served.url, **options)
        context.set_default_timeout(UI_TIMEOUT_MS)
        context.add_init_script(ENGLISH)
        if init_script is not None:
            context.add_init_script(init_script)
        contexts.append(context)
        context.on(
            "console", lambda message: logs.append(f"[{name}] {message.type}: {message.text}")
        )
        page = context.new_page()
        page.goto("/")
        return page

    yield open_device
    for context in contexts:
        context.close()
    print("---- browser console ----\n" + "\n".join(logs))
