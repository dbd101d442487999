"""A first sign-in asks for the first page before anything else the app wants (issue 16)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.helpers import sign_in

pytestmark = pytest.mark.browser

#: Resolves with when the live socket was first asked for, once it has been (ms, page time).
SOCKET_ASKED = """async () => {
  const asked = () => performance.getEntriesByType('resource')
    .find((entry) => entry.name.includes('/socket.io/?EIO='));
  while (!asked()) await new Promise((resolve) => setTimeout(resolve, 50));
  return asked().startTime;
}"""


def test_sign_in_asks_for_the_first_page_before_the_rules_directory_and_socket(
    device: Any,
) -> None:
    page = device()
    page.wait_for_load_state("networkidle")  # the start's own requests (the rules, say) are done
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    sign_in(page, "coord")
    # The socket connects once the first sync has ended, maybe just after sign_in returned
    # (its script, /vendor/socket.io/, was loaded at start).
    page.evaluate(SOCKET_ASKED)
    first = next(i for i, url in enumerate(asked) if "/api/v1/sync/pull" in url)
    for later in ("/api/v1/declarations", "/api/v1/users/directory", "/socket.io/"):
        at = next(i for i, url in enumerate(asked) if later in url)
        assert first < at, f"{later} was asked for before the first page: {asked[: at + 1]}"


def test_the_socket_connects_once_the_first_sync_has_stored_every_page(device: Any) -> None:
    """Connecting cost a throttled phone 0.1-0.2 s in the middle of its first sync (issue 16)."""
    page = device()
    sign_in(page, "coord")
    asked = page.evaluate(SOCKET_ASKED)
    stored = page.evaluate("performance.getEntriesByName('sync:first-sync')[0].startTime")
    assert asked > stored
