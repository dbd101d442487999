"""The gate (issue #11): decision time on the guard's device, and a guard's first sync.

Decision: Debian's chromium (Playwright), CPU throttled 4x over CDP
(``Emulation.setCPUThrottlingRate``), on the demo server's origin. The
device store (the app's own ``web/app/db.js``, a database of its own) is
filled with 20,000 passes of one compound (1,000 of them revoked), the
compound with its published key, its policy and 500 of the guard's gate
events; then a real server-signed token (``server.passes``) is judged as the
gate screen judges it after decoding (``web/app/gate/check.js``
``judgeToken``: WebCrypto signature, key, compound, validity, the revocation
read from the store, today's exits counted from the store, the policy).
Median of 31 runs after 3 warm-ups, for a good pass and a revoked one.
Floor: the one WebCrypto ``verify`` of the same token on the same throttled
page, the part no implementation can skip.

First sync: ``guard-a`` pulls the demo neighbourhood from cursor 0 (pages of
1,000, ``Accept-Encoding: gzip``): bytes on the wire and records, and the
bytes per ``gate_pass`` (the part that grows with residents: 20,000 of them
cost about that many times this).
"""

from __future__ import annotations

import gzip
import json
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import harness, servers
from bench.harness import Figure
from bench.ids import new_id
from bench.web import CHROME_FLAGS, CHROMIUM

PASSES = 20_000
REVOKED = 1_000
EVENTS = 500
RUNS = 31
WARM_UPS = 3
THROTTLE = 4
TARGET_MS = 50
SECRET = "bench pass key secret, not a real one"

DEVICE_CODE = Path(__file__).with_name("gate_device.js").read_text(encoding="utf-8")


def page_function(name: str) -> str:
    """Return the source of one function of ``bench/gate_device.js``."""
    start = DEVICE_CODE.index(f"export const {name} =\n") + len(f"export const {name} =\n")
    return DEVICE_CODE[start : DEVICE_CODE.index("\n};\n", start) + 2]


def signed_tokens(
    compound_id: str, pid: str, revoked_pid: str
) -> tuple[list[dict[str, str]], str, str]:
    """Return a compound key (public JWK) and two tokens signed with it by the server's code."""
    from server import passes

    key = passes.new_key(SECRET)
    now = datetime.now(UTC)
    claims = {
        "cid": compound_id,
        "kind": "resident",
        "nbf": int((now - timedelta(days=1)).timestamp()),
        "exp": int((now + timedelta(days=7)).timestamp()),
        "ini": "Z.W.",
        "addr": "12-3-502",
    }
    good = passes.sign(key, SECRET, {**claims, "pid": pid})
    bad = passes.sign(key, SECRET, {**claims, "pid": revoked_pid})
    return [dict(key.public_jwk)], good, bad


def decision_figures(base_url: str, quick: bool) -> list[Figure]:
    """Time the device's decision in throttled chromium; return the figures."""
    from playwright.sync_api import sync_playwright

    from sync.gate import default_rules

    compound_id, pid, revoked_pid = (new_id() for _ in range(3))
    keys, token, revoked_token = signed_tokens(compound_id, pid, revoked_pid)
    passes = 2_000 if quick else PASSES
    args = {
        "compoundId": compound_id,
        "keys": keys,
        "token": token,
        "revokedToken": revoked_token,
        "pid": pid,
        "revokedPid": revoked_pid,
        "passes": passes,
        "revoked": REVOKED,
        "events": EVENTS,
        "runs": 7 if quick else RUNS,
        "warmUps": WARM_UPS,
    }
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROME_FLAGS.split()[1:]
        )
        try:
            page = browser.new_page()
            page.goto(base_url + "/", wait_until="load")
            page.evaluate(page_function("fill"), {**args, "rules": default_rules()})
            cdp = page.context.new_cdp_session(page)
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": THROTTLE})
            answer = page.evaluate(page_function("time"), args)
        finally:
            browser.close()
    timings, outcomes = answer["timings"], answer["outcomes"]
    if outcomes != ["allow/allowed deny/revoked"]:
        why = f"unexpected decisions: {outcomes}"
        return [harness.missing("gate", "decision after decode", "ms", why)]
    floor = harness.median(timings["floor"])
    label = f"{passes:,} passes, {REVOKED:,} revoked, {EVENTS} events, {THROTTLE}x CPU"
    target = harness.value_at_most(TARGET_MS, f"< {TARGET_MS} ms")
    return [
        Figure(
            "gate",
            f"decision after decode, good pass ({label})",
            "ms",
            harness.median(timings["good"]),
            floor,
            target,
            note=f"p90 {harness.percentile(timings['good'], 0.9):.1f} ms",
            floor_label="one WebCrypto verify",
        ),
        Figure(
            "gate",
            f"decision after decode, revoked pass ({label})",
            "ms",
            harness.median(timings["revoked"]),
            floor,
            target,
            note=f"p90 {harness.percentile(timings['revoked'], 0.9):.1f} ms",
            floor_label="one WebCrypto verify",
        ),
    ]


def first_sync_figures(base_url: str) -> list[Figure]:
    """Pull everything ``guard-a`` receives from cursor 0; return its size figures."""
    login = json.dumps({"username": "guard-a", "password": servers.DEMO_PASSWORD}).encode()
    request = urllib.request.Request(
        base_url + "/api/v1/auth/login", login, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request) as answer:
        token = json.load(answer)["token"]
    wire = records = passes = pass_bytes = json_bytes = 0
    cursor, more = 0, True
    while more:
        request = urllib.request.Request(
            f"{base_url}/api/v1/sync/pull?cursor={cursor}&limit=1000",
            headers={"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"},
        )
        with urllib.request.urlopen(request) as answer:
            body = answer.read()
            raw = (
                gzip.decompress(body) if answer.headers.get("Content-Encoding") == "gzip" else body
            )
        wire += len(body) if len(body) != len(raw) else len(gzip.compress(raw, 6))
        json_bytes += len(raw)
        page = json.loads(raw)
        for record in page["changes"]:
            records += 1
            if record["type"] == "gate_pass":
                passes += 1
                pass_bytes += len(json.dumps(record, separators=(",", ":")))
        cursor, more = page["cursor"], page["more"]
    # The passes' share of the gzip bytes, by their share of the JSON.
    per_pass = wire * pass_bytes / max(json_bytes, 1) / max(passes, 1)
    return [
        Figure(
            "gate",
            f"guard-a first sync, demo compound A ({records:,} records, {passes:,} passes)",
            "KiB",
            wire / 1024,
            note="gzip on the wire",
        ),
        Figure(
            "gate",
            "first sync bytes per pass (gzip share)",
            "B",
            per_pass,
            note=f"{pass_bytes / max(passes, 1):.0f} B of JSON per pass before gzip",
        ),
    ]


def run(base_url: str, quick: bool) -> list[Figure]:
    """Measure the gate figures against the demo server at ``base_url``."""
    return [*first_sync_figures(base_url), *decision_figures(base_url, quick)]
