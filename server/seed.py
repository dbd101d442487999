"""The demo neighbourhood: deterministic, idempotent, believable.

Three compounds of fourteen six-storey buildings (three stairwells, two flats
a landing), about 1,500 households and 4,000 residents with Chinese names and
Shanghai-style addresses (12号楼 3单元 502室); about one household in ten is
an elderly person living alone, some residents take chronic medicine, a few
are foreign residents with their language. Ids are UUID5s of stable keys, so a
second run finds everything in place.

Records are written through the engine's push path (:func:`sync.protocol.apply_push`)
as the server's own actor, so every seeded record is validated, stamped and
scoped like one a device pushed; a rejection stops the seeding.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from server import accounts, gate_keys, scopes
from server.clock import utcnow
from server.extensions import db
from server.models import Neighbourhood, User, UserScopeItem
from server.store import SqlStore
from sync import gate
from sync.actors import Actor, Role, UserScope
from sync.changes import Change, Changeset, ChangesetStatus, Push
from sync.field import NEIGHBOURHOOD_ZONE, day_of
from sync.protocol import apply_push
from sync.records import SERVER_USER_ID
from sync.supplies import order_id
from sync.testing import mark_id
from sync.times import format_datetime
from sync.volunteers import volunteer_id

NAMESPACE = uuid.UUID("6f1c3a52-8d0e-4e6b-9a57-3b1f0c2d9e41")
RANDOM_SEED = 20220328  # the day Shanghai's Pudong lockdown began
BUILDINGS_PER_COMPOUND = 14
UNITS_PER_BUILDING = 3
FLOORS = 6
FLATS_PER_LANDING = 2
ELDERLY_ALONE_SHARE = 0.1
CHRONIC_MEDICINE_SHARE = 0.08
FOREIGN_SHARE = 0.03
#: How long the demo passes of compound A are valid from seeding.
PASS_VALIDITY = timedelta(days=30)

COMPOUNDS = (
    ("A", "陇南一村", "sealed", "罗秀路 1111 弄"),
    ("B", "陇南二村", "controlled", "罗秀路 1225 弄"),
    ("C", "陇南三村", "precaution", "老沪闵路 890 弄"),
)
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑"
    "梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁沈"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰"
    "萍红建国志文辉鹏飞宇浩然欣怡雪梅晓东海燕春丹凤琴云亮俊峰"
)
FOREIGNERS = (
    ("Emily Carter", ["en"]),
    ("James Wilson", ["en"]),
    ("佐藤 健", ["ja"]),
    ("鈴木 花子", ["ja"]),
    ("김민준", ["ko"]),
    ("이서연", ["ko"]),
    ("Lukas Becker", ["en", "de"]),
)
TASK_TEMPLATES = (
    ("delivery", "送菜上门：{b} {u}单元 {r}室", 2),
    ("medicine", "代配慢性病药：{b} {u}单元 {r}室", 1),
    ("garbage", "封控楼垃圾清运：{b}", 2),
    ("check_in", "独居老人问候：{b} {u}单元 {r}室", 1),
    ("escort", "陪同就医：{b} {u}单元 {r}室", 1),
)
#: The open round's catalogue: name, contents, price in cents, stock.
TODAY_PACKAGES = (
    ("蔬菜包", "青菜、土豆、洋葱、胡萝卜、番茄、黄瓜、卷心菜、冬瓜，约 8 斤", 6800, 300),
    ("肉蛋包", "猪肉 1kg、鸡蛋 30 枚、鸡腿 4 只", 11800, 150),
    ("米面粮油包", "大米 5kg、挂面 2kg、菜籽油 1.8L", 9900, 200),
    ("婴幼儿包", "婴儿奶粉 1 罐、米粉 2 盒、纸尿裤 1 包", 25800, 40),
    ("清真包", "牛肉 1kg、羊肉 1kg、清真鸡蛋 15 枚", 16800, 30),
)
#: Orders already in the open round: (building, unit, room, channel, confirmed, package qty).
TODAY_ORDERS = (
    (1, 1, "101", "hotline", True, {0: 1, 2: 1}),
    (1, 1, "302", "proxy", True, {0: 2, 1: 1}),
    (1, 2, "502", "proxy", False, {1: 1}),
    (2, 1, "201", "proxy", False, {0: 1, 3: 1}),
    (2, 3, "602", "hotline", True, {4: 1}),
)
#: Open medicine requests in compound A: (building, unit, room, medicine, dose, urgency).
MED_REQUESTS = (
    (3, 1, "101", "胰岛素笔芯", "每日 3 次，每次 8 单位", "urgent"),
    (5, 2, "402", "硝苯地平控释片", "30mg 每日 1 次", "today"),
    (7, 1, "201", "二甲双胍缓释片", "0.5g 每日 2 次", "routine"),
    (12, 3, "502", "阿托伐他汀钙片", "20mg 每晚 1 次", "routine"),
)
#: The open round's cut-off: noon in the neighbourhood's time zone, at least this far ahead.
CUTOFF_AHEAD = timedelta(hours=20)
NEIGHBOURHOOD_TZ = ZoneInfo("Asia/Shanghai")
PACKAGES = (
    ("蔬菜包（8种）", 8800, 400),
    ("猪肉套餐 2kg", 12800, 200),
    ("鸡蛋 30枚", 3500, 500),
    ("大米 10kg", 6900, 300),
)
#: Screening under way: the buildings of compound A already visited, and how
#: many of their households (the rest are still to do).
SCREENED_BUILDINGS = {1: 36, 2: 30, 3: 12}
#: Marks already made in today's testing round: the first building's residents.
MARKED_BUILDINGS = (1,)
VOLUNTEERS = (
    # (account or None, name, skills, languages, team, compound, post, shift hours)
    ("vol-a", "志愿者 A", ["translator"], ["zh", "en"], "1号楼突击队", "A", "1号楼", (8, 18)),
    ("vol-b", "志愿者 B", ["driver"], ["zh"], "物资组", "B", "北门", (7, 19)),
    (None, "陈立新", ["medic"], ["zh"], "医疗组", "A", "核酸采样点", (6, 12)),
    (None, "林晓雯", ["pharmacist"], ["zh", "en"], "医疗组", "A", "配药点", (9, 17)),
    (None, "赵建国", ["repair"], ["zh"], "后勤组", "A", "西门", (7, 19)),
    (None, "金美善", ["translator"], ["zh", "ko"], "1号楼突击队", "A", "西门", (19, 31)),
    (None, "佐藤 誠", ["translator"], ["ja", "zh"], "物资组", "A", "物资分拣点", (10, 16)),
    (None, "王海燕", ["driver"], ["zh"], "物资组", "A", "东门", (7, 19)),
    (None, "刘强", ["other"], ["zh"], "2号楼突击队", "B", "南门", (7, 19)),
)
DEMO_USERS = (
    ("coord", "居委会协调员", "coordinator", "neighbourhood", ()),
    ("vol-a", "志愿者 A", "volunteer", "compounds", ("A",)),
    ("vol-b", "志愿者 B", "volunteer", "compounds", ("B",)),
    ("guard-a", "门岗 A", "guard", "compounds", ("A",)),
    ("leader-a", "团长 A", "team_leader", "compounds", ("A",)),
    ("medic", "医护志愿者", "clinician", "neighbourhood", ()),
)


def stable_id(*parts: object) -> str:
    """Return a UUID5 for a stable key, so seeding twice finds the same ids."""
    return str(uuid.uuid5(NAMESPACE, "/".join(str(p) for p in parts)))


def seed_demo(password: str) -> str:
    """Create the demo neighbourhood and accounts; return a one-line summary."""
    neighbourhood_id = stable_id("neighbourhood", "demo")
    created = db.session.get(Neighbourhood, neighbourhood_id) is None
    if created:
        db.session.add(Neighbourhood(id=neighbourhood_id, slug="demo", name="陇南居委会（演示）"))
        db.session.flush()
    users = {name: upsert_user(name, password, neighbourhood_id) for name, *_ in DEMO_USERS}
    records: list[NewRecord] = []
    if created:
        # One reading of the clock: the demo's day (its round, shifts and
        # visits) is one day even when seeding runs across midnight.
        now = utcnow()
        records = list(demo_records(neighbourhood_id, users, now))
        write_records(records, users, now)
        accounts.audit(users["coord"].id, None, "seed_demo", detail={"records": len(records)})
    db.session.commit()
    if not created:
        return "The demo neighbourhood was already there; demo passwords reset."
    counts: dict[str, int] = {}
    for record in records:
        counts[record.type] = counts.get(record.type, 0) + 1
    listed = ", ".join(f"{t} {n}" for t, n in counts.items())
    return f"Seeded the demo neighbourhood, records by type: {listed}."


#: Who seeds: the server itself, a coordinator of everything.
SYSTEM = Actor(SERVER_USER_ID, Role.COORDINATOR, UserScope(everything=True))
#: Creates per changeset: each changeset is atomic, and one building's worth
#: keeps a rejection easy to find.
CHANGESET_SIZE = 500


@dataclass(frozen=True)
class NewRecord:
    """A demo record before it is pushed."""

    type: str
    id: str
    fields: dict[str, Any]
    #: The demo user who pushes it (``None``: the server itself).
    by: str | None = None
    #: An update pushed after every create, by ``then_by`` (confirming an order:
    #: no order is made confirmed).
    then: dict[str, Any] | None = None
    then_by: str | None = None


def write_records(
    records: list[NewRecord],
    users: dict[str, User] | None = None,
    now: datetime | None = None,
) -> None:
    """Push the records as creates, in order, through the engine, then their ``then`` updates.

    Each record is pushed by its author (``by``, one of ``users``) or the
    server, made and received at ``now`` (aware UTC; default: the clock
    now). The changesets carry no id: nothing is recorded for a replay
    (seeding is made idempotent by the neighbourhood's existence; the audit
    log keeps that it happened).

    :raises RuntimeError: naming the first record the engine rejected.
    """
    now = now or utcnow()
    versions: dict[str, int] = {}
    creates = [(new.by, Change(new.type, new.id, "create", 0, new.fields)) for new in records]
    for author, changes in _by_author(creates):
        versions |= _push_demo(_actor(author, users), [c for _, c in changes], now)
    updates = [
        (new.then_by, Change(new.type, new.id, "update", versions[new.id], new.then))
        for new in records
        if new.then is not None
    ]
    for author, changes in _by_author(updates):
        _push_demo(_actor(author, users), [c for _, c in changes], now)


def _by_author(
    changes: list[tuple[str | None, Change]],
) -> list[tuple[str | None, list[tuple[str | None, Change]]]]:
    """Return ``changes`` in runs of one author, in order."""
    return [(author, list(run)) for author, run in groupby(changes, key=lambda each: each[0])]


def _actor(author: str | None, users: dict[str, User] | None) -> Actor:
    """Return the engine's view of a demo author (``None``: the server)."""
    if author is None or users is None:
        return SYSTEM
    return scopes.actor_for(users[author])


def _push_demo(actor: Actor, changes: list[Change], now: datetime) -> dict[str, int]:
    """Push ``changes`` as ``actor``; return the version each record got.

    :raises RuntimeError: naming the first record the engine rejected.
    """
    changesets = tuple(
        Changeset("", now, tuple(changes[start : start + CHANGESET_SIZE]))
        for start in range(0, len(changes), CHANGESET_SIZE)
    )
    store = SqlStore.for_writing(received_at=now)
    pushed = Push("seed-demo", changesets)
    outcome = apply_push(store, actor, pushed, now, signer=gate_keys.signer())
    for result in outcome.results:
        if result.status is not ChangesetStatus.APPLIED:
            fault = next(c for c in result.changes if c.conflict and c.conflict.code != "aborted")
            raise RuntimeError(
                f"the engine refused demo {fault.type} {fault.id}: {fault.conflict}"
            )
    store.flush()
    return {
        change.id: change.version
        for result in outcome.results
        for change in result.changes
        if change.version is not None
    }


def upsert_user(username: str, password: str, neighbourhood_id: str) -> User:
    """Create a demo account, or reset its password, role and scope."""
    _, display_name, role, scope_kind, compounds = next(
        spec for spec in DEMO_USERS if spec[0] == username
    )
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        user = User(username=username, created_at=utcnow())
        db.session.add(user)
    user.display_name = display_name
    user.password_hash = accounts.hash_password(password)
    user.role = role
    user.neighbourhood_id = neighbourhood_id
    user.scope_kind = scope_kind
    user.active = True
    user.scope_items = [UserScopeItem(ref_id=stable_id("compound", c)) for c in compounds]
    db.session.flush()
    return user


def demo_records(neighbourhood_id: str, users: dict[str, User], now: datetime) -> list[NewRecord]:
    """Build every record of the demo neighbourhood as seeded at ``now`` (aware UTC)."""
    rng = random.Random(RANDOM_SEED)
    records: list[NewRecord] = []
    for letter, name, tier, address in COMPOUNDS:
        compound_id = stable_id("compound", letter)
        records.append(
            NewRecord(
                "compound",
                compound_id,
                {
                    "name": f"{name}（{letter}）",
                    "neighbourhood_id": neighbourhood_id,
                    "tier": tier,
                    "address": address,
                },
            )
        )
        for number in range(1, BUILDINGS_PER_COMPOUND + 1):
            records.extend(building_records(rng, letter, compound_id, number))
        records.extend(task_records(rng, letter, compound_id, records))
        records.append(gate_policy_record(compound_id))
    records.extend(pass_records(records, stable_id("compound", "A"), now))
    records.extend(supply_records(users))
    records.extend(field_records(rng, users, records, now))
    records.extend(open_round_records(users, now))
    records.extend(med_request_records())
    return records


def gate_policy_record(compound_id: str) -> NewRecord:
    """Build a compound's gate policy: the default rules, exits from 06:00 to 20:00."""
    return NewRecord(
        "gate_policy",
        gate.policy_id(compound_id),
        {
            "compound_id": compound_id,
            "rules": gate.default_rules(),
            "window_opens": "06:00",
            "window_closes": "20:00",
            "exits_per_day": 1,
        },
    )


def pass_records(so_far: list[NewRecord], compound_id: str, now: datetime) -> list[NewRecord]:
    """Build a pass, valid for 30 days from ``now``, for every resident of one compound."""
    homes = {
        r.id for r in so_far if r.type == "household" and r.fields["compound_id"] == compound_id
    }
    valid_until = format_datetime(now + PASS_VALIDITY)
    return [
        NewRecord(
            "gate_pass",
            stable_id("gate_pass", r.id),
            {"resident_id": r.id, "kind": "resident", "valid_until": valid_until},
        )
        for r in so_far
        if r.type == "resident" and r.fields["household_id"] in homes
    ]


def building_records(
    rng: random.Random, letter: str, compound_id: str, number: int
) -> list[NewRecord]:
    """Build one building with its households and residents."""
    building_id = stable_id("building", letter, number)
    out = [
        NewRecord(
            "building",
            building_id,
            {"compound_id": compound_id, "name": f"{number}号楼", "number": number},
        )
    ]
    for unit in range(1, UNITS_PER_BUILDING + 1):
        for floor in range(1, FLOORS + 1):
            for flat in range(1, FLATS_PER_LANDING + 1):
                room = f"{floor}0{flat}"
                household_id = stable_id("household", letter, number, unit, room)
                out.append(
                    NewRecord(
                        "household",
                        household_id,
                        {
                            "compound_id": compound_id,
                            "building_id": building_id,
                            "unit": str(unit),
                            "floor": floor,
                            "room": room,
                        },
                    )
                )
                out.extend(resident_records(rng, household_id, compound_id, building_id))
    return out


def resident_records(
    rng: random.Random, household_id: str, compound_id: str, building_id: str
) -> list[NewRecord]:
    """Build the residents of one household (their place is copied from it by the engine)."""
    if rng.random() < ELDERLY_ALONE_SHARE:
        people = [(chinese_name(rng), rng.randint(1930, 1952), ["elderly_alone"], ["zh"])]
    else:
        size = rng.choices((1, 2, 3, 4, 5), weights=(8, 30, 34, 20, 8))[0]
        people = [person(rng) for _ in range(size)]
    out = []
    for index, (name, birth_year, needs, languages) in enumerate(people):
        if rng.random() < CHRONIC_MEDICINE_SHARE or (birth_year < 1950 and rng.random() < 0.4):
            needs = [*needs, "chronic_medicine"]
        out.append(
            NewRecord(
                "resident",
                stable_id("resident", household_id, index),
                {
                    "household_id": household_id,
                    "name": name,
                    "phone": phone(rng),
                    "birth_year": birth_year,
                    "needs": needs,
                    "languages": languages,
                    "id_number_masked": masked_id(rng),
                },
            )
        )
    return out


def person(rng: random.Random) -> tuple[str, int, list[str], list[str]]:
    """Return a resident's name, birth year, needs and languages."""
    birth_year = rng.randint(1940, 2021)
    if rng.random() < FOREIGN_SHARE:
        name, languages = rng.choice(FOREIGNERS)
        return name, rng.randint(1965, 2000), ["language"], list(languages)
    needs = ["pregnant"] if 1988 <= birth_year <= 1998 and rng.random() < 0.03 else []
    if rng.random() < 0.01:
        needs.append("disability")
    return chinese_name(rng), birth_year, needs, ["zh"]


def chinese_name(rng: random.Random) -> str:
    """Return a plausible Chinese name of two or three characters."""
    given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
    return rng.choice(SURNAMES) + given


def phone(rng: random.Random) -> str:
    """Return a plausible mainland mobile number."""
    return rng.choice(("135", "138", "139", "186", "189")) + f"{rng.randrange(10**8):08d}"


def masked_id(rng: random.Random) -> str:
    """Return a Shanghai resident ID number as stored: the birth date masked.

    Region (6 digits), eight stars where the birth date was, the sequence
    number and the check character; the full number is never kept.
    """
    check = rng.choice("0123456789X")
    return f"3101{rng.randint(1, 20):02d}********{rng.randrange(10**3):03d}{check}"


def task_records(
    rng: random.Random, letter: str, compound_id: str, so_far: list[NewRecord]
) -> list[NewRecord]:
    """Build a handful of open tasks in one compound."""
    households = [
        r for r in so_far if r.type == "household" and r.fields["compound_id"] == compound_id
    ]
    buildings = {r.id: r.fields["name"] for r in so_far if r.type == "building"}
    due = datetime(2022, 4, 2, 17, 0, tzinfo=UTC)
    out = []
    for index, (kind, title, priority) in enumerate(TASK_TEMPLATES * 2):
        home = rng.choice(households)
        fields: dict[str, Any] = {
            "kind": kind,
            "status": "open",
            "priority": priority,
            "compound_id": compound_id,
            "building_id": home.fields["building_id"],
            "title": title.format(
                b=buildings[home.fields["building_id"]],
                u=home.fields["unit"],
                r=home.fields["room"],
            ),
            "due_at": (due + timedelta(hours=index)).isoformat().replace("+00:00", "Z"),
        }
        if kind != "garbage":
            fields["household_id"] = home.id
        out.append(NewRecord("task", stable_id("task", letter, index), fields))
    return out


def supply_records(users: dict[str, User]) -> list[NewRecord]:
    """Build a group-buying round with packages, and a pinned notice."""
    compound_ids = [stable_id("compound", letter) for letter, *_ in COMPOUNDS]
    round_id = stable_id("supply_round", 1)
    day = datetime(2022, 4, 3, tzinfo=UTC)
    iso = {
        k: (day + timedelta(hours=h)).isoformat().replace("+00:00", "Z")
        for k, h in (("opens_at", 0), ("cutoff_at", 4), ("delivers_at", 9))
    }
    out = [
        NewRecord(
            "supply_round",
            round_id,
            {
                "title": "第一轮团购：蔬菜与主食",
                "compound_ids": compound_ids,
                "leader_id": users["leader-a"].id,
                **iso,
            },
        )
    ]
    out.extend(
        NewRecord(
            "package",
            stable_id("package", index),
            {"supply_round_id": round_id, "name": name, "price_cents": price, "stock": stock},
        )
        for index, (name, price, stock) in enumerate(PACKAGES)
    )
    out.append(
        NewRecord(
            "notice",
            stable_id("notice", 1),
            {
                "compound_ids": compound_ids,
                "pinned": True,
                "published": True,
                "published_at": "2022-04-01T08:00:00Z",
                "title": {
                    "zh-CN": "全员核酸检测通知",
                    "en": "Citywide PCR testing notice",
                    "ja": "全員PCR検査のお知らせ",
                    "ko": "전원 PCR 검사 안내",
                },
                "body": {
                    "zh-CN": "明早 7:00 起按楼栋顺序下楼检测，请携带健康码。",
                    "en": "Testing starts at 07:00 tomorrow, building by building. "
                    "Bring your health code.",
                    "ja": "明朝7時から棟ごとに検査を行います。健康コードをご持参ください。",
                    "ko": "내일 오전 7시부터 동별로 검사합니다. 건강 코드를 지참하세요.",
                },
            },
        )
    )
    return out


def open_round_records(users: dict[str, User], now: datetime) -> list[NewRecord]:
    """Build a round of compound A open at seed time, with its packages and some orders.

    It opened an hour before ``now`` and closes at the first noon (Asia/Shanghai)
    at least :data:`CUTOFF_AHEAD` later; goods come at 17:00 that day. Three
    orders are confirmed (phoned), two still placed.
    """
    round_id = stable_id("supply_round", "today")
    local = (now + CUTOFF_AHEAD).astimezone(NEIGHBOURHOOD_TZ)
    noon = local.replace(hour=12, minute=0, second=0, microsecond=0)
    cutoff = noon if noon >= local else noon + timedelta(days=1)
    out = [
        NewRecord(
            "supply_round",
            round_id,
            {
                "title": "今日团购：菜、肉蛋、粮油、婴幼儿、清真",
                "compound_ids": [stable_id("compound", "A")],
                "leader_id": users["leader-a"].id,
                "opens_at": format_datetime(now - timedelta(hours=1)),
                "cutoff_at": format_datetime(cutoff),
                "delivers_at": format_datetime(cutoff + timedelta(hours=5)),
                "household_limit": 3,
            },
        )
    ]
    packages = [stable_id("package", "today", index) for index in range(len(TODAY_PACKAGES))]
    out.extend(
        NewRecord(
            "package",
            package_id,
            {
                "supply_round_id": round_id,
                "name": name,
                "contents": contents,
                "price_cents": price,
                "stock": stock,
            },
        )
        for package_id, (name, contents, price, stock) in zip(
            packages, TODAY_PACKAGES, strict=True
        )
    )
    for building, unit, room, channel, confirmed, lines in TODAY_ORDERS:
        household_id = stable_id("household", "A", building, unit, room)
        fields: dict[str, Any] = {
            "supply_round_id": round_id,
            "household_id": household_id,
            "channel": channel,
            "lines": [{"package_id": packages[i], "qty": qty} for i, qty in lines.items()],
        }
        confirm = {"status": "confirmed", "phoned": True} if confirmed else None
        by = "leader-a" if channel == "hotline" else "vol-a"
        record_id = order_id(round_id, household_id)
        out.append(NewRecord("order", record_id, fields, by, confirm, "leader-a"))
    return out


def med_request_records() -> list[NewRecord]:
    """Build open medicine requests for residents of compound A, waiting for triage.

    The coordinator asked for them (a volunteer's device holds only the
    requests its volunteer made: contract, Privacy).
    """
    out = []
    for building, unit, room, medicine, dose, urgency in MED_REQUESTS:
        household_id = stable_id("household", "A", building, unit, room)
        resident_id = stable_id("resident", household_id, 0)
        fields = {"resident_id": resident_id, "medicine": medicine, "dose": dose}
        fields["urgency"] = urgency
        record_id = stable_id("med_request", resident_id)
        out.append(NewRecord("med_request", record_id, fields, by="coord"))
    return out


def field_records(
    rng: random.Random, users: dict[str, User], so_far: list[NewRecord], now: datetime
) -> list[NewRecord]:
    """Build the field work of ``now``'s day (the neighbourhood's): a round, shifts, screening.

    Today's testing round in compound A (with its first building's residents
    mostly marked), the volunteers with their skills and today's shifts at
    posts (most of those begun reported arrived), and the visits of the
    first buildings of compound A.
    """
    today = day_of(now)
    compound_a = stable_id("compound", "A")
    round_id = stable_id("test_round", "A", today.isoformat())
    out = [
        NewRecord(
            "test_round",
            round_id,
            {
                "compound_id": compound_a,
                "date": today.isoformat(),
                "kind": "pcr",
                "title": "全员核酸",
            },
        )
    ]
    households = {r.id: r for r in so_far if r.type == "household"}
    residents = [r for r in so_far if r.type == "resident"]
    marked = {stable_id("building", "A", n) for n in MARKED_BUILDINGS}
    for resident in residents:
        home = households[resident.fields["household_id"]]
        if home.fields["building_id"] not in marked or rng.random() < 0.2:
            continue
        outcome = rng.choices(("tested", "absent", "exempt"), weights=(90, 7, 3))[0]
        fields = {"test_round_id": round_id, "resident_id": resident.id, "outcome": outcome}
        if resident.fields["birth_year"] < 1945 and rng.random() < 0.5:
            fields["needs_registration_help"] = True
        out.append(NewRecord("test_result", mark_id(round_id, resident.id), fields))
    start = datetime.combine(today, datetime.min.time(), NEIGHBOURHOOD_ZONE)
    for account, name, skills, languages, team, letter, post, (begin, end) in VOLUNTEERS:
        user_id = users[account].id if account else None
        vid = volunteer_id(user_id) if user_id else stable_id("volunteer", name)
        fields: dict[str, Any] = {
            "compound_id": stable_id("compound", letter),
            "name": name,
            "phone": phone(rng),
            "skills": skills,
            "languages": languages,
            "team": team,
        }
        if user_id:
            fields["user_id"] = user_id
        out.append(NewRecord("volunteer", vid, fields))
        shift = {
            "volunteer_id": vid,
            "compound_id": fields["compound_id"],
            "post": post,
            "starts_at": format_datetime(start + timedelta(hours=begin)),
            "ends_at": format_datetime(start + timedelta(hours=end)),
        }
        if start + timedelta(hours=begin) <= now and rng.random() < 0.7:
            shift["arrived_at"] = format_datetime(start + timedelta(hours=begin, minutes=-5))
        out.append(NewRecord("shift", stable_id("shift", name, today.isoformat()), shift))
    out.extend(screening_records(rng, households, residents))
    return out


def screening_records(
    rng: random.Random, households: dict[str, NewRecord], residents: list[NewRecord]
) -> list[NewRecord]:
    """Build the visits of screening under way in the first buildings of compound A."""
    people: dict[str, list[NewRecord]] = {}
    for resident in residents:
        people.setdefault(resident.fields["household_id"], []).append(resident)
    out = []
    for number, done in SCREENED_BUILDINGS.items():
        building_id = stable_id("building", "A", number)
        homes = [h for h in households.values() if h.fields["building_id"] == building_id]
        homes.sort(key=lambda h: (h.fields["unit"], h.fields["floor"], h.fields["room"]))
        for home in homes[:done]:
            living = people.get(home.id, [])
            outcome = rng.choices(OUTCOME_WEIGHTS[0], weights=OUTCOME_WEIGHTS[1])[0]
            needs = {n for r in living for n in r.fields["needs"] if n != "language"}
            for resident in living:
                if "language" in resident.fields["needs"]:
                    needs |= {"translator", f"lang:{resident.fields['languages'][0]}"}
            fields: dict[str, Any] = {
                "household_id": home.id,
                "outcome": outcome,
                "present": len(living) if outcome == "answered" else 0,
                "needs": sorted(needs) if outcome == "answered" else [],
            }
            out.append(NewRecord("visit", stable_id("visit", home.id, 1), fields))
    return out


#: How doors answer on a screening round: outcomes and their weights.
OUTCOME_WEIGHTS = (("answered", "no_answer", "refused", "moved_out"), (80, 15, 3, 2))
