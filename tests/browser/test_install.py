"""The app is installable: Chrome finds no installability error, and the icon can be masked."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.helpers import CHROMIUM, CHROMIUM_ARGS, UI_TIMEOUT_MS, wait_for_service_worker
from tests.servers import ServedApp

pytestmark = pytest.mark.browser


@pytest.fixture
def persistent_page(playwright: Any, served: ServedApp, tmp_path: Any) -> Any:
    """Open the app in a persistent profile: an incognito-like context is never installable."""
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "profile"),
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_ARGS,
        base_url=served.url,
    )
    context.set_default_timeout(UI_TIMEOUT_MS)
    page = context.pages[0] if context.pages else context.new_page()
    yield page
    context.close()


def test_chrome_finds_no_installability_errors(persistent_page: Any) -> None:
    page = persistent_page
    page.goto("/")
    wait_for_service_worker(page)
    cdp = page.context.new_cdp_session(page)

    manifest = cdp.send("Page.getAppManifest")
    assert manifest["url"].endswith("/manifest.webmanifest")
    assert manifest["errors"] == []
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]

    assert errors == []


def test_manifest_has_a_maskable_icon_that_is_served(persistent_page: Any) -> None:
    page = persistent_page
    reply = page.request.get("/manifest.webmanifest")
    assert reply.ok
    manifest = reply.json()

    icons = manifest["icons"]
    maskable = [icon for icon in icons if "maskable" in icon.get("purpose", "").split()]

    assert maskable, manifest["icons"]
    for icon in maskable:
        image = page.request.get(icon["src"])
        assert image.ok, icon
        assert image.headers["content-type"] == icon.get("type", "image/png")
        width, _, height = icon["sizes"].partition("x")
        assert int(width) >= 192 and width == height, icon
        # PNG: the IHDR chunk holds the real width and height, big-endian.
        body = image.body()
        assert int.from_bytes(body[16:20]) == int(width), icon
        assert int.from_bytes(body[20:24]) == int(height), icon
