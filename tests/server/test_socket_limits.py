"""The parts of :mod:`server.socket_limits` and :mod:`server.websocket`, one at a time.

The served tests (``test_socket_limits_served.py``) hold them together on
eventlet; here each rule meets every case: the gate's packet × state matrix,
the queue's invariants under any sequence of puts and gets, the unmasking
against eventlet's own.
"""

from __future__ import annotations

import queue
import time
import warnings

import pytest
import socketio
from engineio import packet as eio_packet
from hypothesis import given
from hypothesis import strategies as st

from server import socket_limits

MAX_BYTES = 1000


def a_packet(size):
    return eio_packet.Packet(eio_packet.MESSAGE, data="x" * size)


def a_queue(max_bytes=MAX_BYTES):
    return socket_limits.bounded_queue(queue.Queue, queue.Empty, max_bytes)()


def test_a_queue_holds_packets_up_to_its_bound():
    held = a_queue()
    for _ in range(5):
        held.put(a_packet(100))
    assert held.qsize() == 5
    assert held.held_bytes == 5 * socket_limits.cost_of(a_packet(100))
    assert held.get().data == "x" * 100
    assert held.held_bytes == 4 * socket_limits.cost_of(a_packet(100))


def test_one_packet_larger_than_the_bound_goes_into_an_empty_queue():
    held = a_queue()
    held.put(a_packet(5 * MAX_BYTES))
    assert held.qsize() == 1
    assert not held.overflowed


def test_passing_the_bound_frees_the_backlog_closes_the_queue_and_says_so():
    held = a_queue()
    told = []
    held.on_overflow = lambda: told.append(True)
    for _ in range(8):
        held.put(a_packet(100))
    assert held.overflowed
    assert told == [True]
    assert held.qsize() == 0
    assert held.held_bytes == 0
    held.put(a_packet(1))
    held.put(None)
    assert held.qsize() == 0, "a closed queue takes nothing, not even the wake-up"
    with pytest.raises(queue.Empty):
        held.get(timeout=1)
    assert held.unfinished_tasks == 0


def test_closing_waits_a_bounded_time_for_a_reader_that_never_comes(monkeypatch):
    monkeypatch.setattr(socket_limits, "CLOSE_WAIT_SECONDS", 0.2)
    held = a_queue()
    held.put(a_packet(10))
    started = time.monotonic()
    held.join()
    assert held.unfinished_tasks == 1
    assert time.monotonic() - started < 60  # it returned at all: the old join never did


@given(
    st.lists(
        st.one_of(st.integers(min_value=0, max_value=3 * MAX_BYTES), st.just("get")),
        max_size=60,
    )
)
def test_a_queue_never_holds_more_than_its_bound_or_one_packet(operations):
    held = a_queue()
    for operation in operations:
        if operation == "get":
            if held.qsize():
                held.get()
                held.task_done()
        else:
            held.put(a_packet(operation))
        items = list(held.queue)
        assert held.held_bytes == sum(socket_limits.cost_of(item) for item in items)
        assert len(items) <= 1 or held.held_bytes <= MAX_BYTES


HANDLED = "ping-me"
PACKETS = {
    "connect": '0{"token":"t"}',
    "connect-without-auth": "0",
    "connect-other-namespace": '0/admin,{"token":"t"}',
    "disconnect": "1",
    "handled-event": f'2["{HANDLED}",1]',
    "handled-event-with-ack": f'27["{HANDLED}"]',
    "unknown-event": '2["changes",{}]',
    "reserved-event": '2["connect",{"token":"t"}]',
    "event-not-a-list": '2{"a":1}',
    "event-bad-json": '2["ping-me"',
    "ack": "30[]",
    "connect-error": '4{"message":"x"}',
    "binary-event": '51-["ping-me",{"_placeholder":true,"num":0}]',
    "binary-ack": '61-1[{"_placeholder":true,"num":0}]',
    "not-a-packet": "x",
    "empty": "",
    "bytes": b"\x00\x01",
}
ALLOWED = {
    "signed-out": {"connect", "connect-without-auth"},
    "connected": {"disconnect", "handled-event", "handled-event-with-ack"},
}


@pytest.fixture
def gate():
    server = socketio.Server(async_mode="threading")
    server.on("connect", lambda sid, environ, auth=None: True)
    server.on(HANDLED, lambda sid, *args: None)
    return socket_limits.Gate(server, connect_seconds=30)


@pytest.mark.parametrize("state", sorted(ALLOWED))
@pytest.mark.parametrize("name", sorted(PACKETS))
def test_the_gate_lets_through_only_what_the_app_handles_now(gate, state, name):
    if state == "connected":
        gate.server.manager.connect("eio-1", "/")
    assert gate.allowed("eio-1", PACKETS[name]) == (name in ALLOWED[state])


with warnings.catch_warnings():
    # Eventlet announces its own deprecation on import (see server/green.py).
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    from eventlet.websocket import RFC6455WebSocket

    from server.websocket import BoundedWebSocket


@given(
    st.binary(max_size=300),
    st.tuples(*[st.integers(min_value=0, max_value=255)] * 4),
    st.integers(min_value=0, max_value=7),
)
def test_unmasking_agrees_with_eventlets_byte_by_byte_loop(data, mask, offset):
    expected = RFC6455WebSocket._apply_mask(data, mask, length=len(data), offset=offset)
    assert BoundedWebSocket._apply_mask(data, mask, length=len(data), offset=offset) == expected
    assert BoundedWebSocket._apply_mask(data, mask) == RFC6455WebSocket._apply_mask(data, mask)
