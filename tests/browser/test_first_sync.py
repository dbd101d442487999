"""A first sign-in asks for the first page before anything else the app wants (issue 16)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.helpers import sign_in

pytestmark = pytest.mark.browser


def test_sign_in_asks_for_the_first_page_before_the_rules_directory_and_socket(
    device: Any,
) -> None:
    page = device()
    page.wait_for_load_state("networkidle")  # the start's own requests (the rules, say) are done
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    sign_in(page, "coord")
    first = next(i for i, url in enumerate(asked) if "/api/v1/sync/pull" in url)
    for later in ("/api/v1/declarations", "/api/v1/users/directory", "/socket.io/"):
        at = next(i for i, url in enumerate(asked) if later in url)
        assert first < at, f"{later} was asked for before the first page: {asked[: at + 1]}"
