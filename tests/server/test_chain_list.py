"""Reading WeChat 接龙 lists: messy real-world lines, nothing dropped silently."""

from __future__ import annotations

import pytest

from server.chain_list import Household, Package, normalise, read_chain_list

PACKAGES = [
    Package("veg", "蔬菜包"),
    Package("meat", "肉蛋包"),
    Package("grain", "米面粮油包"),
    Package("halal", "清真包"),
]


def households() -> list[Household]:
    """Buildings 3 and 12, units 1 and 2, floors 1–6, flats 01 and 02."""
    return [
        Household(f"{b}-{u}-{f}0{n}", b, str(u), f, f"{f}0{n}", f"{b}号楼{u}单元{f}0{n}")
        for b in (3, 12)
        for u in (1, 2)
        for f in range(1, 7)
        for n in (1, 2)
    ]


def read(text: str) -> list[dict[str, object]]:
    """Read ``text`` and return the entries as the review screen gets them."""
    return [entry.to_json() for entry in read_chain_list(text, households(), PACKAGES)]


def codes(entry: dict[str, object]) -> list[str]:
    """Return the problem codes of an entry."""
    problems = entry["problems"]
    assert isinstance(problems, list)
    return [problem["code"] for problem in problems]


@pytest.mark.parametrize(
    ("line", "household", "lines"),
    [
        ("12. 12-1-502 蔬菜包×2 肉蛋包×1", "12-1-502", {"veg": 2, "meat": 1}),
        ("１２．１２号楼１单元５０２ 蔬菜包×２", "12-1-502", {"veg": 2}),  # full-width
        ("3、12号楼2单元502室 肉蛋包x3", "12-2-502", {"meat": 3}),
        ("4. 3号楼1单元5楼02 米面粮油包 2份", "3-1-502", {"grain": 2}),
        ("5) 3-2-101 蔬菜包", "3-2-101", {"veg": 1}),  # no quantity: one
        ("6. 3-2-102 蔬采包*2 🙏🙏", "3-2-102", {"veg": 2}),  # a typo, emoji
        ("7. 3-1-601 清真两份 ❤️", "3-1-601", {"halal": 2}),
        ("8. 3-1-602 蔬菜包×1 蔬菜包×1", "3-1-602", {"veg": 2}),
        ("9.3-2-201,肉蛋 1,米面 1", "3-2-201", {"meat": 1, "grain": 1}),
        ("10. 3栋1单元302 蔬菜包3", "3-1-302", {"veg": 3}),
    ],
)
def test_a_well_meant_line_becomes_a_ready_order(
    line: str, household: str, lines: dict[str, int]
) -> None:
    (entry,) = read(line)
    assert entry["household_id"] == household, entry
    assert {each["package_id"]: each["qty"] for each in entry["lines"]} == lines  # type: ignore[attr-defined,index]
    assert entry["ready"] and entry["problems"] == [], entry


@pytest.mark.parametrize(
    ("line", "code", "candidates"),
    [
        ("1. 12-502 蔬菜包×1", "ambiguous_address", ["12-1-502", "12-2-502"]),
        ("2. 12号楼5楼02 蔬菜包×1", "ambiguous_address", ["12-1-502", "12-2-502"]),
        ("3. 12-3-502 蔬菜包×1", "unknown_address", []),
        ("4. 大门口 蔬菜包×1", "no_address", []),
        ("5. 3-1-101", "no_items", []),
        ("6. 3-1-101 奶粉×1", "unknown_package", []),
        ("7. 3-1-101 蔬菜包×120", "bad_quantity", []),
        ("#接龙 4月3日团购，中午12点截止", "not_an_entry", []),
    ],
)
def test_a_line_that_cannot_be_read_says_why(line: str, code: str, candidates: list[str]) -> None:
    (entry,) = read(line)
    assert codes(entry)[0] == code and not entry["ready"]
    assert entry["candidates"] == candidates


def test_numbers_and_households_met_twice_are_shown_not_merged() -> None:
    text = "\n".join(
        [
            "#接龙 团购",
            "1. 3-1-101 蔬菜包×1",
            "2. 3-1-102 肉蛋包×1",
            "",
            "1. 3-1-101 蔬菜包×1",  # the same entry reposted
            "2. 3-1-102 肉蛋包×2",  # entry 2 edited after posting
            "3. 3-1-101 米面粮油包×1",  # the same household under another number
        ]
    )
    entries = read(text)
    assert [(e["line"], codes(e)) for e in entries] == [
        (1, ["not_an_entry"]),
        (2, []),
        (3, ["edited"]),
        (5, ["repeated"]),
        (6, []),
        (7, ["duplicate_household"]),
    ]
    assert entries[4]["lines"] == [{"package_id": "meat", "qty": 2}]


def test_every_non_blank_line_comes_back() -> None:
    text = "接龙\n1. 3-1-101 蔬菜包\n随便说一句\n\n2. ？？\n"
    assert [entry["text"] for entry in read(text)] == [
        "接龙",
        "1. 3-1-101 蔬菜包",
        "随便说一句",
        "2. ？？",
    ]


def test_normalise_folds_full_width_and_drops_emoji() -> None:
    assert normalise("１２号楼５０２　蔬菜包×２👍🏻") == "12号楼502 蔬菜包×2"
