"""Notices: written by a coordinator, read offline in each reader's language, printed for doors."""

from __future__ import annotations

import io
from typing import Any

import pytest
from playwright.sync_api import expect

from server.seed import stable_id
from tests.browser.helpers import (
    SYNC_TIMEOUT_MS,
    expect_synced,
    go,
    records_of_type,
    sign_in,
    status_bar,
)
from tests.helpers import DEMO_PASSWORD

pytestmark = pytest.mark.browser

SEEDED_NOTICE = stable_id("notice", 1)
TITLES = {
    "zh-CN": "全员核酸检测通知",
    "en": "Citywide PCR testing notice",
    "ja": "全員PCR検査のお知らせ",
    "ko": "전원 PCR 검사 안내",
}


def test_a_notice_in_chinese_only_reaches_an_english_reader_offline_in_chinese(
    device: Any, db_path: str
) -> None:
    coordinator = device("coord")
    sign_in(coordinator, "coord")
    go(coordinator, "/notices/new")
    coordinator.get_by_label("陇南一村（A）").check()
    coordinator.get_by_label("Title (简体中文)").fill("明日停水通知")
    coordinator.get_by_label("Text (简体中文)").fill("明天 9:00 至 12:00 停水，请提前储水。")
    coordinator.get_by_label("Publish").check()
    coordinator.get_by_role("button", name="Save").click()
    expect(coordinator.get_by_role("heading", name="明日停水通知")).to_be_visible()
    expect_synced(coordinator)
    [notice] = [
        n for n in records_of_type(db_path, "notice") if n["title"] == {"zh-CN": "明日停水通知"}
    ]
    assert notice["published"] is True and notice["published_at"]

    volunteer = device("vol-a")
    sign_in(volunteer, "vol-a")
    volunteer.context.set_offline(True)
    volunteer.get_by_role("link", name="Notices").click()
    card = volunteer.locator("li.notice-card").filter(has_text="明日停水通知")
    expect(card.locator(".notice-body")).to_have_text("明天 9:00 至 12:00 停水，请提前储水。")
    expect(card.locator(".notice-title")).to_have_attribute("lang", "zh-CN")
    expect(card).to_contain_text(
        "This notice has no text in your language; it is shown in 简体中文."
    )
    # The seeded notice has English: shown in English, without the fallback line.
    seeded = volunteer.locator(f"li[data-notice='{SEEDED_NOTICE}']")
    expect(seeded.locator(".notice-title")).to_have_text(TITLES["en"])
    expect(seeded).not_to_contain_text("shown in")


def test_a_full_notice_reads_in_japanese_and_a_draft_reaches_nobody_else(
    device: Any, db_path: str
) -> None:
    coordinator = device("coord")
    sign_in(coordinator, "coord")
    go(coordinator, "/notices/new")
    coordinator.get_by_label("陇南一村（A）").check()
    coordinator.get_by_label("Title (简体中文)").fill("草稿：物资发放")
    coordinator.get_by_label("Text (简体中文)").fill("尚未确定。")
    coordinator.get_by_role("button", name="Save").click()
    expect(
        coordinator.locator("li.notice-card").filter(has_text="草稿：物资发放")
    ).to_contain_text("Draft (not published)")
    expect_synced(coordinator)

    volunteer = device("vol-a")
    volunteer.context.add_init_script(
        "try { localStorage.setItem('weiguang.language', 'ja'); } catch (e) {}"
    )
    volunteer.goto("/")
    volunteer.get_by_label("ユーザー名").fill("vol-a")
    volunteer.get_by_label("パスワード").fill(DEMO_PASSWORD)
    volunteer.locator("form button[type=submit]").click()
    # The first sync, in Japanese, before reading: a draft would have arrived by then.
    for words in ("オンライン", "すべて同期済み", "最終同期"):
        expect(status_bar(volunteer)).to_contain_text(words, timeout=SYNC_TIMEOUT_MS)
    volunteer.get_by_role("link", name="お知らせ").click()
    seeded = volunteer.locator(f"li[data-notice='{SEEDED_NOTICE}']")
    expect(seeded.locator(".notice-title")).to_have_text(TITLES["ja"])
    expect(seeded.locator(".notice-title")).to_have_attribute("lang", "ja")
    expect(seeded.locator(".notice-body")).to_contain_text("健康コード")
    expect(volunteer.locator("li.notice-card")).to_have_count(1)
    expect(volunteer.get_by_text("草稿：物资发放")).to_have_count(0)


def test_a_printed_notice_is_one_a4_page_with_all_four_languages(device: Any) -> None:
    from pypdf import PdfReader

    coordinator = device("coord")
    sign_in(coordinator, "coord")
    go(coordinator, f"/notices/{SEEDED_NOTICE}/print")
    card = coordinator.locator(".print-card")
    for language, title in TITLES.items():
        expect(card.locator(f"section[lang='{language}'] h2")).to_have_text(title)
    coordinator.emulate_media(media="print")
    # On paper: the card only, no app chrome.
    expect(coordinator.get_by_role("button", name="Print")).to_be_hidden()
    expect(coordinator.locator(".topbar")).to_be_hidden()
    pdf = PdfReader(io.BytesIO(coordinator.pdf(format="A4", prefer_css_page_size=True)))
    assert len(pdf.pages) == 1
    width, height = (float(x) for x in pdf.pages[0].mediabox.upper_right)
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    text = "".join(pdf.pages[0].extract_text().split())
    for title in TITLES.values():
        assert "".join(title.split()) in text, title
