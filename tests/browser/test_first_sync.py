"""A first sign-in asks for the first page before anything else the app wants, and connects
the live socket only once the first sync has ended (issue 16)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.helpers import sign_in

pytestmark = pytest.mark.browser


def test_sign_in_asks_for_the_first_page_before_the_rules_and_directory(
    device: Any,
) -> None:
    page = device()
    page.wait_for_load_state("networkidle")  # the start's own requests (the rules, say) are done
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    sign_in(page, "coord")
    first = next(i for i, url in enumerate(asked) if "/api/v1/sync/pull" in url)
    for later in ("/api/v1/declarations", "/api/v1/users/directory"):
        at = next(i for i, url in enumerate(asked) if later in url)
        assert first < at, f"{later} was asked for before the first page: {asked[: at + 1]}"


#: The start of the first request of the live socket (Socket.IO long-polls first),
#: and of the mark of the first sync's end (``web/app/sync.js``), in the page's time.
SOCKET_AND_STORED = """() => [
  Math.min(...performance.getEntriesByType('resource')
    .filter((entry) => entry.name.includes('/socket.io/?')).map((entry) => entry.startTime)),
  performance.getEntriesByName('sync:first-sync', 'mark')[0]?.startTime ?? null,
]"""


def test_the_live_socket_connects_once_the_first_sync_has_ended(device: Any) -> None:
    page = device()
    sign_in(page, "coord")
    page.wait_for_function(  # a function: Playwright evals expressions, which the CSP blocks
        "() => performance.getEntriesByType('resource')"
        ".some((entry) => entry.name.includes('/socket.io/?'))"
    )
    socket, stored = page.evaluate(SOCKET_AND_STORED)
    assert stored is not None, "no first sync ended"
    assert socket >= stored, f"the socket asked at {socket:.0f} ms, the sync ended at {stored:.0f}"
