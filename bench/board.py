"""Board: update-to-paint latency of the live board with 5,000 tasks at 20 updates a second.

A seeded SQLite bench server gets tasks pushed by ``coord`` (untimed) up to
:data:`TASKS`, spread over the three compounds, half open and half claimed
by ``vol-a``. Chromium (Debian's, through Playwright) signs in as ``coord``
on another device, syncs, opens ``#/board`` and then runs with
``Emulation.setCPUThrottlingRate`` 4. :data:`WRITERS` threads push one
update a changeset, :data:`RATE` a second in all, to tasks drawn at random
from their own share (so a slow push holds up only its writer): a priority
change (the card moves within its column), a claim for ``vol-a`` (it moves
to another column) or a new title (redrawn in place).

In the page, ``live.js`` marks each ``changes`` event's arrival
(``live:changes``, with the record ids) and the board marks the first
animation frame after it has repainted the changed cards
(``board:painted``, with the ids). A PerformanceObserver pairs each event
with the first paint mark naming one of its ids: that difference is one
sample. Floor: from the same arrival mark to the first animation frame
after it (a requestAnimationFrame loop records when every frame's callbacks
run): the least an update can take to reach the screen.
"""

from __future__ import annotations

import os
import random
import threading
import time
from typing import Any

from bench import client, harness, servers
from bench.harness import Figure
from bench.ids import new_client_id, new_id
from bench.push import changeset
from bench.web import CHROME_FLAGS, CHROMIUM

TASKS = 5000
RATE = 20.0  # updates a second, all writers together
WRITERS = (
    4  # each pushes RATE / WRITERS a second to its own tasks: a slow push delays only its own
)
FULL_SECONDS = 30.0
QUICK_SECONDS = 8.0
THROTTLE = 4
P95_TARGET_MS = 100.0
BATCH = 250  # task creates a push while filling (one changeset each)
SYNC_TIMEOUT_MS = 240_000
SETTLE_S = 3.0  # after the last update: late paints still count
ENGLISH = "try { localStorage.setItem('weiguang.language', 'en'); } catch (e) {}"

# Pairs arrivals with paints as the marks are made (observers see cleared marks too).
OBSERVE = """() => {
  window.boardBench = { samples: [], arrivals: [], frames: [], events: 0 };
  const waiting = [];
  // When each frame's callbacks run, as the board's mark is timed (a frame's
  // own timestamp is its start, which may precede an arrival it then paints).
  const frame = () => {
    window.boardBench.frames.push(performance.now());
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.name === 'live:changes') {
        window.boardBench.events += 1;
        const ids = new Set(entry.detail?.ids ?? []);
        if (ids.size === 0) continue;
        waiting.push({ at: entry.startTime, ids });
        window.boardBench.arrivals.push(entry.startTime);
      } else if (entry.name === 'board:painted') {
        const painted = new Set(entry.detail?.ids ?? []);
        for (let i = waiting.length - 1; i >= 0; i -= 1) {
          const event = waiting[i];
          if (event.at <= entry.startTime && [...event.ids].some((id) => painted.has(id))) {
            window.boardBench.samples.push(entry.startTime - event.at);
            waiting.splice(i, 1);
          }
        }
      }
    }
  }).observe({ entryTypes: ['mark'] });
}"""
# The floor: from each arrival to the first frame after it (a frame with no board work).
FLOOR = """() => {
  const { arrivals, frames } = window.boardBench;
  const next = (at) => frames.find((f) => f > at);
  return arrivals.filter((at) => next(at) !== undefined).map((at) => next(at) - at);
}"""


class Writer:
    """Push updates of seeded tasks at a steady rate, one changeset each."""

    def __init__(
        self, base_url: str, token: str, tasks: dict[str, dict[str, Any]], holder: int, seed: int
    ) -> None:
        self.http = client.Http(base_url, token)
        self.tasks = tasks
        self.holder = holder
        self.client_id = new_client_id()
        self.sent = 0
        self.errors = 0
        self.seconds = 0.0
        self.rng = random.Random(seed)

    def update(self) -> dict[str, Any]:
        """Return one update of a random task, on the version last seen."""
        task_id = self.rng.choice(list(self.tasks))
        task = self.tasks[task_id]
        roll = self.rng.random()
        if roll < 0.25 and task["status"] == "open":
            fields: dict[str, Any] = {"status": "claimed", "assignee_id": self.holder}
        elif roll < 0.75:
            fields = {"priority": 1 + (task["priority"] % 3)}
        else:
            fields = {"title": f"送菜上门 #{self.rng.randrange(10**6)}"}
        return {
            "type": "task",
            "id": task_id,
            "op": "update",
            "base_version": task["version"],
            "fields": fields,
        }

    def push(self, change: dict[str, Any]) -> None:
        """Push one change; remember the task's new state and version."""
        reply = self.http.request(
            "POST",
            "/api/v1/sync/push",
            {"client_id": self.client_id, "changesets": [changeset([change])]},
        )
        self.sent += 1
        result = reply.json()["results"][0] if reply.status == 200 else None
        if result is None or result["status"] != "applied":
            self.errors += 1
            return
        task = self.tasks[change["id"]]
        task.update(change["fields"])
        task["version"] = result["changes"][0]["version"]

    def run(self, seconds: float, rate: float) -> None:
        """Send updates every 1/``rate`` s for ``seconds`` (late ones go at once, none skipped)."""
        started = time.perf_counter()
        count = int(seconds * rate)
        for index in range(count):
            delay = started + index / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            self.push(self.update())
        self.seconds = time.perf_counter() - started


def fill(
    base_url: str, token: str, compounds: dict[str, str], holder: int
) -> dict[str, dict[str, Any]]:
    """Push tasks until the board holds :data:`TASKS`; return id → {status, priority, version}."""
    http = client.Http(base_url, token)
    rng = random.Random(5)
    tasks: dict[str, dict[str, Any]] = {}
    demo_tasks = http.request("GET", "/api/v1/sync/pull?cursor=0&limit=1000&types=task").json()
    target = TASKS - len(demo_tasks["changes"])  # the demo's own tasks are on the board too
    letters = sorted(compounds)
    try:
        while len(tasks) < target:
            changes = []
            for _ in range(min(BATCH, target - len(tasks))):
                task_id = new_id()
                claimed = rng.random() < 0.5
                fields = {
                    "kind": rng.choice(["delivery", "medicine", "garbage", "check_in"]),
                    "title": f"送菜上门：{rng.randrange(1, 15)}号楼 {rng.randrange(101, 603)}室",
                    "status": "claimed" if claimed else "open",
                    "compound_id": compounds[letters[len(tasks) % len(letters)]],
                    "priority": rng.randrange(1, 4),
                }
                if claimed:
                    fields["assignee_id"] = holder
                changes.append(
                    {
                        "type": "task",
                        "id": task_id,
                        "op": "create",
                        "base_version": 0,
                        "fields": fields,
                    }
                )
            reply = http.request(
                "POST",
                "/api/v1/sync/push",
                {"client_id": new_client_id(), "changesets": [changeset([c]) for c in changes]},
            )
            if reply.status != 200:
                raise RuntimeError(
                    f"filling the board failed: {reply.status} {reply.body[:300]!r}"
                )
            for change, result in zip(changes, reply.json()["results"], strict=True):
                if result["status"] != "applied":
                    raise RuntimeError(f"a task create was refused: {result}")
                tasks[change["id"]] = {
                    "status": change["fields"]["status"],
                    "priority": change["fields"]["priority"],
                    "version": result["changes"][0]["version"],
                }
    finally:
        http.close()
    return tasks


def user_ids(base_url: str, token: str) -> dict[str, int]:
    """Return display name → user id from the directory."""
    http = client.Http(base_url, token)
    try:
        users = http.request("GET", "/api/v1/users/directory").json()["users"]
    finally:
        http.close()
    return {u["display_name"]: int(u["id"]) for u in users}


def measure(base_url: str, password: str, writers: list[Writer], seconds: float) -> dict[str, Any]:
    """Open the board in throttled Chromium, run the writer, return the page's samples."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROME_FLAGS.split()[1:]
        )
        try:
            context = browser.new_context(
                base_url=base_url, viewport={"width": 1920, "height": 1080}
            )
            context.add_init_script(ENGLISH)
            page = context.new_page()
            page.goto("/")
            page.get_by_label("Username").fill("coord")
            page.get_by_label("Password").fill(password)
            page.get_by_role("button", name="Sign in", exact=True).click()
            status = page.get_by_role("status")
            expect(status).to_contain_text("All changes synced", timeout=SYNC_TIMEOUT_MS)
            expect(status).to_contain_text("Last sync", timeout=SYNC_TIMEOUT_MS)
            page.evaluate("() => { location.hash = '/board'; }")
            expect(page.locator(".board-card").first).to_be_visible(timeout=SYNC_TIMEOUT_MS)
            shown = page.locator(".board-count").all_inner_texts()
            cards = page.locator(".board-card").count()
            page.context.new_cdp_session(page).send(
                "Emulation.setCPUThrottlingRate", {"rate": THROTTLE}
            )
            page.evaluate(OBSERVE)
            threads = [
                threading.Thread(target=w.run, args=(seconds, RATE / len(writers)))
                for w in writers
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            time.sleep(SETTLE_S)
            result = dict(page.evaluate("() => window.boardBench"))
            result["floor"] = page.evaluate(FLOOR)
            result["shown"] = sum(int(n) for n in shown)
            result["cards"] = cards
            return result
        finally:
            browser.close()


def run(quick: bool) -> list[Figure]:
    """Measure the board's update-to-paint latency on a fresh SQLite bench server."""
    name = f"update-to-paint p95 ({TASKS:,} tasks, {RATE:.0f} updates/s, CPU ×{THROTTLE})"
    with servers.served("sqlite") as server:
        token = client.log_in(server.url, "coord", servers.DEMO_PASSWORD, "bench-board-writer")
        compounds = servers.demo(server.url)["compounds"]
        holder = user_ids(server.url, token)["志愿者 A"]
        tasks = list(fill(server.url, token, compounds, holder).items())
        writers = [
            Writer(server.url, token, dict(tasks[n::WRITERS]), holder, seed=n)
            for n in range(WRITERS)
        ]
        seconds = QUICK_SECONDS if quick else FULL_SECONDS
        try:
            result = measure(server.url, servers.DEMO_PASSWORD, writers, seconds)
        finally:
            for writer in writers:
                writer.http.close()
    samples, floor = result["samples"], result["floor"]
    if not samples:
        return [harness.missing("board", name, "ms", f"no update was painted: {result}")]
    sent = sum(w.sent for w in writers)
    rate = sent / max(w.seconds for w in writers)
    p50 = harness.percentile(samples, 0.5)
    note = (
        f"{len(samples)} of {result['events']} events painted, p50 {p50:.0f} ms,"
        f" max {max(samples):.0f} ms; {sent} updates at {rate:.1f}/s,"
        f" {sum(w.errors for w in writers)} refused; load average {os.getloadavg()[0]:.1f}"
        f" on {os.cpu_count()} CPUs;"
        f" {result['shown']:,} tasks on the board, {result['cards']} cards drawn"
    )
    return [
        Figure(
            "board",
            name,
            "ms",
            harness.percentile(samples, 0.95),
            floor=harness.percentile(floor, 0.95) if floor else None,
            floor_label="next frame",
            target=harness.value_at_most(P95_TARGET_MS, "< 100 ms"),
            note=note,
        )
    ]
