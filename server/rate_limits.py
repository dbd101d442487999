"""Rate limits: how often one device may push (the ``limits`` library).

The counts live in the Redis that ``WEIGUANG_MESSAGE_QUEUE`` names, when it
names one, so every server process counts a device's pushes together;
otherwise in memory, per process (:class:`SweptMemoryStorage`). Keys carry
a digest of the database URL: deployments (and test runs) that share a
Redis do not share counts.

Past its limit a request gets 429 problem+json with ``Retry-After`` (RFC
9110, sections 15.5.30 and 10.2.3): the seconds until the limit's window
resets. The PWA waits at least that long (``web/app/sync.js``, rule 7).

Each limit counts in fixed windows (``limits``' ``FixedWindowRateLimiter``),
checked by :func:`check_push` once the push's token is known. Flask-Limiter,
which was used before on top of the same library, worked out at every push
which limits, exemptions and key applied to the endpoint: 125 us of CPU a
push, a sixth of the ceiling's whole single-change push (issue #16).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass

from flask import Flask, current_app
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from server.config import ConfigError
from server.errors import ApiError

LOGGER = logging.getLogger(__name__)
EXTENSION = "weiguang.rate_limits"
REDIS_SCHEMES = ("redis://", "rediss://")
# How often the in-memory counts drop their expired keys, at most.
SWEEP_SECONDS = 60.0


class SweptMemoryStorage(MemoryStorage):
    """limits' in-memory storage, whose expired keys are dropped by a request once a minute.

    ``MemoryStorage`` starts a timer thread (a green thread under eventlet)
    on every count unless the last one is still pending: 10 ms later, so
    nearly every push of a device started one, about 0.9 ms of CPU a push
    under eventlet (issue #16). Counts expire when read whatever the sweep
    (``MemoryStorage.get``), so the sweep only frees the memory of devices
    gone quiet. The hook overridden is ``MemoryStorage``'s private
    ``__schedule_expiry`` (limits 4 and 5); ``tests/server/test_rate_limits.py``
    fails if a count starts a thread again.
    """

    _next_sweep = 0.0

    def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_SECONDS
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]


@dataclass(frozen=True)
class PushLimits:
    """An app's limits on one device's pushes, and where they count.

    :param limits: ``PUSH_RATE_LIMIT`` parsed, each checked in turn.
    :param counter: the fixed-window strategy over the app's storage.
    :param prefix: the first part of every key: the deployment's.
    """

    limits: tuple[RateLimitItem, ...]
    counter: FixedWindowRateLimiter
    prefix: str


def init_app(app: Flask) -> None:
    """Parse the app's push limits and open their storage.

    :raises ConfigError: ``PUSH_RATE_LIMIT`` is not in the ``limits``
        notation (``"10/second;120 per minute"``), or allows no push at all.
    """
    settings = app.config["WEIGUANG"]
    queue = settings["MESSAGE_QUEUE"] or ""
    database = hashlib.sha256(settings["DATABASE_URL"].encode()).hexdigest()[:12]
    try:
        items = tuple(parse_many(str(settings["PUSH_RATE_LIMIT"])))
    except ValueError as error:
        raise ConfigError(
            f"WEIGUANG_PUSH_RATE_LIMIT: {error} (write it as '10/second;120 per minute')"
        ) from None
    if any(item.amount < 1 for item in items):
        raise ConfigError("WEIGUANG_PUSH_RATE_LIMIT: a limit of 0 would refuse every push")
    shared = queue.startswith(REDIS_SCHEMES)
    storage = storage_from_string(queue) if shared else SweptMemoryStorage()
    app.extensions[EXTENSION] = PushLimits(
        items, FixedWindowRateLimiter(storage), f"weiguang-{database}"
    )


def push_limits() -> PushLimits:
    """Return the current app's push limits (:func:`init_app`)."""
    configured: PushLimits = current_app.extensions[EXTENSION]
    return configured


def check_push(device_id: int) -> None:
    """Count a push of device ``device_id`` against each limit in turn.

    A storage that fails (Redis down) lets the push through, logged: sync
    goes on without limits rather than stopping.

    :raises ApiError: 429 ``rate-limited`` past a limit, with ``Retry-After``
        in whole seconds, rounded up, until that limit's window resets.
    """
    configured = push_limits()
    counter, prefix, key = configured.counter, configured.prefix, f"device:{device_id}"
    for item in configured.limits:
        try:
            if counter.hit(item, prefix, key):
                continue
            reset_at = counter.get_window_stats(item, prefix, key).reset_time
        except Exception:  # whatever the storage's client raises
            LOGGER.warning("push rate limit not counted: its storage failed", exc_info=True)
            return
        retry_after = max(1, math.ceil(reset_at - time.time()))
        raise ApiError(
            429,
            "rate-limited",
            f"This device sends too often (at most {item}); try again in {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )
