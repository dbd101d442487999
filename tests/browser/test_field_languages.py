"""The field screens in Japanese and Korean: no English left on screen.

The message catalogues are complete in all four languages
(tests/web/i18n.test.js); this shows the screens use them: the stairwell
walk, a household's screen, today's testing round and its marking screen,
and the volunteer's shifts, as vol-a sees them.
"""

from __future__ import annotations

from typing import Any

import pytest

from server.seed import stable_id
from tests.browser.helpers import (
    LATIN_WORD,
    english_left,
    open_screen,
    query,
    sign_in,
    use_language,
)

pytestmark = pytest.mark.browser

BUILDING = stable_id("building", "A", 12)
HOUSEHOLD = stable_id("household", "A", 12, 3, "502")


@pytest.mark.parametrize("language", ["ja", "ko"])
def test_the_field_screens_have_no_english(device: Any, db_path: str, language: str) -> None:
    ((round_id,),) = query(db_path, "SELECT id FROM record WHERE type = 'test_round'")
    page = device("vol-a")
    sign_in(page, "vol-a")
    use_language(page, language)
    paths = [
        "/screening",
        f"/screening/buildings/{BUILDING}",
        f"/screening/households/{HOUSEHOLD}",
        "/testing",
        f"/testing/{round_id}/buildings/{BUILDING}",
        "/shifts",
        "/",
    ]
    for path in paths:
        open_screen(page, path)
        text = english_left(page, "main")
        assert not LATIN_WORD.findall(text), f"{path}: {text}"
