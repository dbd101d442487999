"""What one Socket.IO connection may cost a real ``weiguang serve`` (eventlet): bounded memory.

Clients that break the rules of :mod:`server.socket_limits` — big or many
messages before signing in, in one frame, in fragments or over long-polling;
a signed-in socket that never reads — against a served process whose
resident memory (``VmRSS``) is watched from ``/proc`` and whose ``/health``
is asked all along. Every loop here is bounded in count and time.
"""

from __future__ import annotations

import contextlib
import gc
import json
import socket
import sqlite3
import threading
import time
import urllib.error
import urllib.request
import uuid

import pytest
import socketio
import websocket

from server import seed
from tests.helpers import a_task_create
from tests.servers import ServedApp, call, login

MIB = 1024 * 1024
COMPOUND_A = seed.stable_id("compound", "A")
# Far above what the limits let a connection hold (64 KiB in, 4 MiB out), far
# below what the same attack took before them (1.3 GB for the pre-auth one).
MAX_GROWTH_MIB = 48


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


class Watch:
    """Sample a server's memory and ask its /health while an attack runs."""

    def __init__(self, server):
        self.server = server
        self.pid = server.process.pid
        self.baseline = rss_mib(self.pid)
        self.peak = self.baseline
        self.health_failures = []
        self.health_answers = 0
        self.done = threading.Event()
        self.threads = [threading.Thread(target=self.sample), threading.Thread(target=self.ask)]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def sample(self):
        while not self.done.wait(0.05):
            self.peak = max(self.peak, rss_mib(self.pid))

    def ask(self):
        while True:
            try:
                with urllib.request.urlopen(self.server.url + "/api/v1/health", timeout=15):
                    self.health_answers += 1
            except OSError as error:
                self.health_failures.append(repr(error))
            if self.done.wait(0.2):
                return

    def assert_bounded(self):
        growth = self.peak - self.baseline
        assert growth < MAX_GROWTH_MIB, f"the server grew by {growth:.0f} MiB"
        assert not self.health_failures, self.health_failures[:3]
        assert self.health_answers > 0


# Raw WebSockets opened by the running test; each is shut at its end.
OPENED = []


@pytest.fixture(autouse=True)
def shut_websockets():
    yield
    while OPENED:
        OPENED.pop().shutdown()
    gc.collect()  # anything left unclosed is reported here, in the test that left it


def engine_socket(server, **options):
    """Open an engine.io WebSocket as a client would, and read its OPEN packet."""
    ws = websocket.create_connection(
        f"ws://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=websocket",
        timeout=30,
        **options,
    )
    OPENED.append(ws)
    assert ws.recv().startswith("0{")
    return ws


def closed_by_server(ws, deadline_s=15):
    """Return whether the server closes ``ws`` within ``deadline_s`` (discarding what it sends).

    The deadline is shorter than engine.io's ping interval (25 s): a
    connection that answers no ping is not closed for that before it.
    """
    deadline = time.monotonic() + deadline_s
    try:
        while (left := deadline - time.monotonic()) > 0:
            ws.settimeout(left)
            if ws.recv_data()[1] in (b"", None):
                return True
    except (websocket.WebSocketConnectionClosedException, ConnectionError):
        return True
    except websocket.WebSocketTimeoutException:
        pass
    return False


def send_quietly(send):
    """Send; a server that closed the connection mid-way is what the test expects."""
    with contextlib.suppress(websocket.WebSocketConnectionClosedException, OSError):
        send()


def big_frames(ws):
    for _ in range(3):
        send_quietly(lambda: ws.send("4" + "4" * (9 * MIB)))


def big_message_in_fragments(ws):
    frame = websocket.ABNF.create_frame("4" * (32 * 1024), websocket.ABNF.OPCODE_TEXT, fin=0)
    send_quietly(lambda: ws.send_frame(frame))
    for _ in range(9 * MIB // (32 * 1024)):
        piece = websocket.ABNF.create_frame("4" * (32 * 1024), websocket.ABNF.OPCODE_CONT, fin=0)
        send_quietly(lambda piece=piece: ws.send_frame(piece))


def many_small_events(ws):
    event = "42" + json.dumps(["hello", "x" * 1000])
    for _ in range(20_000):
        send_quietly(lambda: ws.send(event))


def events_before_connect_then_connect(ws):
    send_quietly(lambda: ws.send("42" + json.dumps(["changes", {}])))
    send_quietly(lambda: ws.send("40" + json.dumps({"token": "guess"})))


@pytest.mark.parametrize(
    "attack",
    [big_frames, big_message_in_fragments, many_small_events, events_before_connect_then_connect],
)
def test_messages_before_sign_in_are_refused_and_cost_little(served, attack):
    with Watch(served) as watch:
        sockets = [engine_socket(served) for _ in range(4)]
        attackers = [threading.Thread(target=attack, args=(ws,)) for ws in sockets]
        for thread in attackers:
            thread.start()
        for thread in attackers:
            thread.join(timeout=300)
        closed = [closed_by_server(ws) for ws in sockets]
    assert all(closed), "a connection that broke the rules stayed open"
    watch.assert_bounded()


def test_a_long_polling_body_over_the_limit_is_refused_before_it_is_read(served):
    with urllib.request.urlopen(served.url + "/socket.io/?EIO=4&transport=polling") as reply:
        sid = json.loads(reply.read().decode()[1:])["sid"]
    with Watch(served) as watch:
        for _ in range(4):
            request = urllib.request.Request(
                f"{served.url}/socket.io/?EIO=4&transport=polling&sid={sid}",
                data=b"4" * (9 * MIB),
                method="POST",
                headers={"Content-Type": "text/plain"},
            )
            try:
                urllib.request.urlopen(request, timeout=60).close()
            except urllib.error.HTTPError as error:
                error.close()
                assert error.code == 400
            except urllib.error.URLError as error:
                # Closed while the body was still being sent: refused all the same.
                assert isinstance(error.reason, ConnectionError), error
            else:
                raise AssertionError("a 9 MiB long-polling body was accepted")
    watch.assert_bounded()


def test_a_connection_that_does_not_sign_in_is_closed(sqlite_url):
    server = ServedApp(sqlite_url, {"WEIGUANG_SOCKET_CONNECT_SECONDS": "1"}).start()
    try:
        silent = engine_socket(server)
        assert closed_by_server(silent)
        refused = engine_socket(server)
        refused.send("40" + json.dumps({"token": "not-a-token"}))
        assert refused.recv().startswith("44")  # CONNECT_ERROR
        assert closed_by_server(refused)
    finally:
        server.stop()


@pytest.mark.parametrize(
    "packet",
    ['42["changes",{"changes":[]}]', '42["connect",{"token":"x"}]', "430[]", '451-["x",{}]'],
    ids=["unknown-event", "reserved-event", "ack", "binary-event"],
)
def test_a_signed_in_socket_that_sends_what_the_app_does_not_handle_is_closed(served, packet):
    ws = engine_socket(served)
    ws.send("40" + json.dumps({"token": login(served.url, "vol-a")}))
    assert ws.recv().startswith("40")
    ws.send(packet)
    assert closed_by_server(ws)


def notes_update(task_ids, text):
    return {
        "client_id": "load",
        "changesets": [
            {
                "id": str(uuid.uuid4()),
                "made_at": "2022-04-02T10:00:00.000Z",
                "changes": [
                    {"type": "task", "id": task_id, "op": "update", "fields": {"notes": text}}
                    for task_id in task_ids
                ],
            }
        ],
    }


def task_creates(count):
    changes = [a_task_create(COMPOUND_A) for _ in range(count)]
    changeset = {"id": str(uuid.uuid4()), "made_at": "2022-04-02T10:00:00.000Z"}
    body = {"client_id": "load", "changesets": [{**changeset, "changes": changes}]}
    return [change["id"] for change in changes], body


def open_sockets(served):
    """Return how many sockets the server has recorded as open."""
    connection = sqlite3.connect(served.database_url.removeprefix("sqlite:///"))
    try:
        return connection.execute("SELECT count(*) FROM socket_session").fetchone()[0]
    finally:
        connection.close()


def slow_consumer(served, username):
    """Sign in over a raw WebSocket with a tiny receive buffer that is never read.

    It answers pings blindly (a PONG every second), so engine.io's ping
    timeout never closes it. Returns its token and a function that stops it.
    """
    token = login(served.url, username)
    ws = engine_socket(served, sockopt=((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),))
    ws.send("40" + json.dumps({"token": token}))
    assert ws.recv().startswith("40")
    stop = threading.Event()

    def pong():
        while not stop.wait(1):
            send_quietly(lambda: ws.send("3"))

    ponger = threading.Thread(target=pong)
    ponger.start()

    def close():
        stop.set()
        ponger.join(timeout=10)

    return token, close


def test_a_signed_in_socket_that_never_reads_is_dropped(served):
    coord = login(served.url, "coord")
    task_ids, creates = task_creates(200)
    call(served.url, "POST", "/api/v1/sync/push", coord, creates)
    _, close = slow_consumer(served, "vol-a")
    try:
        with Watch(served) as watch:
            # 200 tasks' notes, 2,000 characters each: about 2.4 MB an event.
            for round_number in range(30):
                text = "楼道消毒" * 499 + f"{round_number:04d}"
                call(served.url, "POST", "/api/v1/sync/push", coord, notes_update(task_ids, text))
        assert open_sockets(served) == 0, "the socket that never reads was not dropped"
        watch.assert_bounded()
    finally:
        close()


def test_a_logout_does_not_wait_for_a_socket_that_never_reads(sqlite_url):
    # A bound high enough that the backlog stays: closing must not wait for it.
    server = ServedApp(sqlite_url, {"WEIGUANG_SOCKET_QUEUE_BYTES": str(256 * MIB)}).start()
    coord = login(server.url, "coord")
    task_ids, creates = task_creates(20)
    call(server.url, "POST", "/api/v1/sync/push", coord, creates)
    token, close = slow_consumer(server, "vol-a")
    try:
        # About 10 MB of events: more than the kernel's buffers take.
        for round_number in range(40):
            text = "楼道消毒" * 499 + f"{round_number:04d}"
            call(server.url, "POST", "/api/v1/sync/push", coord, notes_update(task_ids, text))
        assert open_sockets(server) == 1
        request = urllib.request.Request(
            server.url + "/api/v1/auth/logout",
            data=b"",
            method="POST",
            headers={"Authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(request, timeout=60) as reply:
            assert reply.status == 204
        assert open_sockets(server) == 0
    finally:
        close()
        server.stop()


def test_a_socket_that_reads_gets_every_event_of_a_burst(served):
    coord = login(served.url, "coord")
    task_ids, creates = task_creates(200)
    call(served.url, "POST", "/api/v1/sync/push", coord, creates)
    reader = socketio.Client(reconnection=False)
    cursors = []
    reader.on("changes", lambda event: cursors.append(event["cursor"]))
    reader.connect(served.url, auth={"token": coord}, transports=["websocket"])
    try:
        for round_number in range(30):
            reply = call(
                served.url,
                "POST",
                "/api/v1/sync/push",
                coord,
                notes_update(task_ids, f"第{round_number}轮"),
            )
        deadline = time.monotonic() + 60
        while cursors[-1:] != [reply["cursor"]] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert cursors[-1:] == [reply["cursor"]], "the reader missed events"
        assert reader.connected
    finally:
        reader.disconnect()
