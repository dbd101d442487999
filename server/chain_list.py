"""Read a WeChat 接龙 (chain list) of group-buying orders into proposed orders.

Team leaders collect orders as a numbered message that each neighbour
copies, extends and reposts::

    #接龙 4月3日 团购
    1. 12号楼502 蔬菜包×2 肉蛋包×1
    2. 3-1-101 米面粮油包 2份 🙏

:func:`read_chain_list` turns every line into an :class:`Entry`: the
household its address names (``12号楼502``, ``12-502``, ``12号楼5楼02``,
``12-1-502``, ``12号楼1单元502室``), the packages its items name (matched
by name, forgiving typos, with `RapidFuzz <https://rapidfuzz.github.io/>`_),
and every problem found. Nothing is dropped silently: lines that are not
entries, addresses that match no or several households, items that match
no or several packages, numbers and households met twice are all returned
with their problem, for the leader to fix or skip before confirming. The
module reads text only; the caller supplies the households and packages the
leader may order for and pushes the confirmed orders through sync, where
the order rules (stock, cut-off) judge them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

#: The least similarity (0–100) of an item to a package name to count.
MATCH_AT_LEAST = 60
#: How far the best package must lead the next to be taken without asking.
MATCH_MARGIN = 15
MAX_QTY = 99

_ENTRY = re.compile(r"^(\d{1,4})\s*[.、,:)\]]\s*(.*)$")
_BUILDING = r"(\d{1,3})\s*(?:号楼|号|栋|幢|座|#|-)"
_UNIT = r"\s*(\d{1,2})\s*(?:单元|-)"
_FLOOR_FLAT = r"\s*(\d{1,2})\s*(?:楼|层)\s*(\d{1,2})\s*(?:室|号)?"
_ROOM = r"\s*(\d{3,4})\s*(?:室|号)?"
#: Address forms, most specific first, with the parts their groups hold.
_ADDRESSES = (
    (re.compile(_BUILDING + _UNIT + _FLOOR_FLAT), ("building", "unit", "floor", "flat")),
    (re.compile(_BUILDING + _UNIT + _ROOM), ("building", "unit", "room")),
    (re.compile(_BUILDING + _FLOOR_FLAT), ("building", "floor", "flat")),
    (re.compile(_BUILDING + _ROOM), ("building", "room")),
)
_ITEM_SEPARATORS = re.compile(r"[\s,;/+、，；]+")
_QTY_SUFFIX = re.compile(
    r"^(.*?)\s*(?:[xX×*]\s*)?(\d{1,3}|[一二两三四五六七八九十])\s*(?:份|个|袋|箱|包|件)?$"
)
_CHINESE_DIGITS = {c: n for n, c in enumerate("零一二三四五六七八九十")} | {"两": 2}


@dataclass(frozen=True, slots=True)
class Household:
    """A household the leader may order for, with its address parts."""

    id: str
    building: int
    unit: str
    floor: int
    room: str
    label: str


@dataclass(frozen=True, slots=True)
class Package:
    """A package of the round."""

    id: str
    name: str


@dataclass(slots=True)
class Entry:
    """One line of the list, read.

    :param line: the line's number in the pasted text (1-based).
    :param number: the chain number the line starts with, if any.
    :param household_id: the household, when the address names exactly one.
    :param candidates: the households an ambiguous address could mean.
    :param lines: the order lines read (``{"package_id", "qty"}``).
    :param problems: ``{"code", "text"}`` objects, for the leader to fix; codes:
        ``not_an_entry``, ``no_address``, ``unknown_address``,
        ``ambiguous_address``, ``no_items``, ``unknown_package``,
        ``ambiguous_package``, ``repeated`` (the same entry again),
        ``edited`` (a later version of this number follows),
        ``duplicate_household``, ``bad_quantity`` (more than 99).
    """

    line: int
    text: str
    number: int | None = None
    household_id: str | None = None
    candidates: list[str] = field(default_factory=list)
    lines: list[dict[str, object]] = field(default_factory=list)
    problems: list[dict[str, str]] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        """Return whether the entry can become an order as it stands."""
        return not self.problems and self.household_id is not None and bool(self.lines)

    def problem(self, code: str, text: str = "") -> None:
        """Record a problem of this entry."""
        self.problems.append({"code": code, "text": text})

    def to_json(self) -> dict[str, object]:
        """Describe the entry for the leader's review screen."""
        return {
            "line": self.line,
            "text": self.text,
            "number": self.number,
            "household_id": self.household_id,
            "candidates": self.candidates,
            "lines": self.lines,
            "problems": self.problems,
            "ready": self.ready,
        }


def normalise(text: str) -> str:
    """Return ``text`` with full-width forms made ASCII (NFKC) and emoji removed."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(c for c in folded if unicodedata.category(c) not in {"So", "Cf", "Mn", "Sk"})


def read_chain_list(
    text: str, households: Sequence[Household], packages: Sequence[Package]
) -> list[Entry]:
    """Read every non-blank line of ``text`` into an :class:`Entry`, in order."""
    entries = [
        _read_line(index, raw, households, packages)
        for index, raw in enumerate(text.splitlines(), start=1)
        if raw.strip()
    ]
    _mark_repeats(entries)
    return entries


def _read_line(
    index: int, raw: str, households: Sequence[Household], packages: Sequence[Package]
) -> Entry:
    """Read one line."""
    entry = Entry(index, raw.strip())
    found = _ENTRY.match(normalise(raw).strip())
    if found is None:
        entry.problem("not_an_entry")
        return entry
    entry.number = int(found.group(1))
    rest = _read_address(entry, found.group(2), households)
    _read_items(entry, rest, packages)
    return entry


def _read_address(entry: Entry, body: str, households: Sequence[Household]) -> str:
    """Find the household the body's address names; return the text after it."""
    located = _locate_address(body)
    if located is None:
        entry.problem("no_address")
        return body
    found, names = located
    parts = dict(zip(names, (int(group) for group in found.groups()), strict=True))
    if "flat" in parts:
        parts["room"] = int(f"{parts['floor']}{parts['flat']:02d}")
    matches = [
        h
        for h in households
        if (h.building, h.room) == (parts["building"], str(parts["room"]))
        and ("unit" not in parts or h.unit == str(parts["unit"]))
    ]
    address = found.group(0).strip()
    if len(matches) == 1:
        entry.household_id = matches[0].id
    elif matches:
        entry.candidates = [h.id for h in matches]
        entry.problem("ambiguous_address", address)
    else:
        entry.problem("unknown_address", address)
    return body[: found.start()] + " " + body[found.end() :]


def _locate_address(body: str) -> tuple[re.Match[str], tuple[str, ...]] | None:
    """Return the first address form found in ``body`` and the names of its parts."""
    for pattern, names in _ADDRESSES:
        found = pattern.search(body)
        if found is not None:
            return found, names
    return None


def _read_items(entry: Entry, rest: str, packages: Sequence[Package]) -> None:
    """Read the items of an entry; a missing quantity means one."""
    quantities: dict[str, int] = {}
    for token in _tokens(rest):
        name, qty = _split_quantity(token)
        package = _match_package(entry, name, packages)
        if package is not None:
            quantities[package.id] = quantities.get(package.id, 0) + qty
    for qty in quantities.values():
        if qty > MAX_QTY:
            entry.problem("bad_quantity", str(qty))
    entry.lines = [{"package_id": pid, "qty": qty} for pid, qty in quantities.items()]
    if not entry.lines and not entry.problems:
        entry.problem("no_items")


def _tokens(rest: str) -> Iterable[str]:
    """Split the item text; a quantity written apart ("蔬菜包 2份") joins its item."""
    tokens: list[str] = []
    for piece in _ITEM_SEPARATORS.split(rest):
        if not piece:
            continue
        alone = _QTY_SUFFIX.match(piece)
        if tokens and alone is not None and not alone.group(1):
            tokens[-1] += piece
        else:
            tokens.append(piece)
    return tokens


def _split_quantity(token: str) -> tuple[str, int]:
    """Return an item's name and quantity ("蔬菜包×2", "肉蛋包2份", "米两袋", "鸡蛋")."""
    found = _QTY_SUFFIX.match(token)
    if found is None or not found.group(1):
        return token, 1
    digits = found.group(2)
    qty = int(digits) if digits.isdigit() else _CHINESE_DIGITS[digits]
    return found.group(1).strip(), max(1, qty)


def _match_package(entry: Entry, name: str, packages: Sequence[Package]) -> Package | None:
    """Return the package ``name`` means, or record why none (RapidFuzz ``WRatio``)."""
    if not packages:
        entry.problem("unknown_package", name)
        return None
    names = [package.name for package in packages]
    best = process.extract(name, names, scorer=fuzz.WRatio, limit=2)
    score, second = best[0][1], (best[1][1] if len(best) > 1 else 0.0)
    if score < MATCH_AT_LEAST:
        entry.problem("unknown_package", name)
        return None
    if score - second < MATCH_MARGIN and best[0][0] != best[1][0]:
        entry.problem("ambiguous_package", name)
        return None
    return packages[best[0][2]]


def _mark_repeats(entries: list[Entry]) -> None:
    """Flag numbers and households met twice: a repost, an edit, a double order."""
    by_number: dict[int, Entry] = {}
    by_household: dict[str, Entry] = {}
    for entry in entries:
        if entry.number is None:
            continue
        earlier = by_number.get(entry.number)
        if earlier is not None:
            if normalise(earlier.text) == normalise(entry.text):
                entry.problem("repeated", str(earlier.line))
            else:
                earlier.problem("edited", str(entry.line))
        by_number[entry.number] = entry
        if entry.household_id is None or any(p["code"] == "repeated" for p in entry.problems):
            continue
        first = by_household.get(entry.household_id)
        if first is not None and first.number != entry.number:
            entry.problem("duplicate_household", str(first.line))
        by_household.setdefault(entry.household_id, entry)
