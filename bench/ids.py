"""Ids as a device makes them, for every bench section that sends or loads records.

- Record and changeset ids (:func:`new_id`): UUID version 7 (RFC 9562 §5.7),
  as ``web/app/ids.js`` makes them with the vendored npm ``uuid`` (``v7``):
  48 bits of Unix time in ms, then a 32-bit counter (12 bits of ``rand_a``
  and the top 20 of ``rand_b``, RFC 9562 §6.2 method 1), then 42 random bits.
- Install ids (:func:`new_client_id`, a push's ``client_id``): UUID
  version 4, as ``web/app/app.js`` makes them (``crypto.randomUUID``).

(Python 3.14's ``uuid.uuid7`` makes version 7 ids; 3.11 has none.)
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

RANDOM_BITS = 74  # rand_a (12) and rand_b (62), RFC 9562 §5.7
COUNTER_BITS = 32  # npm uuid's v7 ``seq``
UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_lock = threading.Lock()
_last_ms = -1
_counter = 0


def unix_ms_of(at: datetime) -> int:
    """Return the Unix time of ``at`` (timezone-aware) in whole ms, rounded down, exactly."""
    return (at - UNIX_EPOCH) // timedelta(milliseconds=1)


def uuid7(unix_ms: int, rand: int) -> str:
    """Return the UUID version 7 of ``unix_ms`` and 74 bits ``rand``, in canonical lowercase text.

    :param unix_ms: Unix time in ms, 0 ≤ ``unix_ms`` < 2**48.
    :param rand: 0 ≤ ``rand`` < 2**74; its top 12 bits go to ``rand_a``, the
        other 62 to ``rand_b`` (RFC 9562 §5.7).
    :raises ValueError: either is out of range.
    """
    if not 0 <= unix_ms < 1 << 48 or not 0 <= rand < 1 << RANDOM_BITS:
        raise ValueError(f"out of range: unix_ms={unix_ms}, rand={rand}")
    rand_a, rand_b = rand >> 62, rand & ((1 << 62) - 1)
    value = unix_ms << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    return str(uuid.UUID(int=value))


def new_id() -> str:
    """Return a new record or changeset id, as the web app makes it: a UUID version 7.

    Monotonic in this process, as npm ``uuid``'s ``v7`` is in one page: each id
    sorts (as text or as a UUID) after the one before, from any thread. The
    first id of a millisecond starts the counter at a random value below 2**31;
    the next ids of that ms (or of an earlier one, if the clock stepped back)
    add one to it, and if it wraps past 2**32 the ms part moves on by one.
    """
    global _last_ms, _counter
    tail = secrets.randbits(RANDOM_BITS - COUNTER_BITS)
    with _lock:
        now_ms = time.time_ns() // 1_000_000
        if now_ms > _last_ms:
            _last_ms, _counter = now_ms, secrets.randbits(COUNTER_BITS - 1)
        else:
            _counter = (_counter + 1) % (1 << COUNTER_BITS)
            if _counter == 0:
                _last_ms += 1
        ms, counter = _last_ms, _counter
    return uuid7(ms, counter << (RANDOM_BITS - COUNTER_BITS) | tail)


def new_client_id() -> str:
    """Return a new install id (a push's ``client_id``) as the web app makes it: UUID version 4."""
    return str(uuid.uuid4())
