"""Field validators that change what is stored."""

from __future__ import annotations

import pytest

from sync import fields as f


def test_a_full_id_number_is_stored_with_the_birth_date_masked() -> None:
    assert f.masked_id_number("31010519800101123x") == "310105********123X"


def test_an_already_masked_id_number_is_kept() -> None:
    assert f.masked_id_number("310105********1234") == "310105********1234"


@pytest.mark.parametrize("value", ["31010519800101", "no number", 310105, "*"])
def test_anything_else_is_refused(value: object) -> None:
    with pytest.raises(ValueError):
        f.masked_id_number(value)
