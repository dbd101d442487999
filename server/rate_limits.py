"""Rate limits: how often one device may push (Flask-Limiter).

The counts live in the Redis that ``WEIGUANG_MESSAGE_QUEUE`` names, when it
names one, so every server process counts a device's pushes together;
otherwise in memory, per process (:class:`SweptMemoryStorage`). Keys carry
a digest of the database URL: deployments (and test runs) that share a
Redis do not share counts.

Past its limit a request gets 429 problem+json with ``Retry-After`` (RFC
9110, sections 15.5.30 and 10.2.3): the seconds until the limit's window
resets. The PWA waits at least that long (``web/app/sync.js``, rule 7).
"""

from __future__ import annotations

import hashlib
import math
import time
from functools import partial

from flask import Flask, Response, current_app, g
from flask_limiter import Limiter, RateLimitExceeded
from limits.storage import MemoryStorage

from server.errors import problem_response
from server.extensions import limiter

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

    STORAGE_SCHEME = ["weiguang-memory"]  # noqa: RUF012 (limits registers schemes by this name)
    _next_sweep = 0.0

    def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_SECONDS
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]


def init_app(app: Flask) -> None:
    """Bind the limiter to ``app``, its storage chosen from the settings."""
    settings = app.config["WEIGUANG"]
    queue = settings["MESSAGE_QUEUE"] or ""
    database = hashlib.sha256(settings["DATABASE_URL"].encode()).hexdigest()[:12]
    app.config.update(
        RATELIMIT_STORAGE_URI=queue if queue.startswith(REDIS_SCHEMES) else "weiguang-memory://",
        RATELIMIT_KEY_PREFIX=f"weiguang-{database}",
        # A limiter whose storage is down lets requests through: sync goes on.
        RATELIMIT_SWALLOW_ERRORS=True,
    )
    limiter.init_app(app)
    if not (limiter.limit_manager.default_limits or limiter.limit_manager.application_limits):
        # Every limit here is a view's own (``@limiter.limit``), checked as
        # the view is called. Flask-Limiter's check before every request
        # looks for default, application and blueprint limits, none of which
        # Weiguang sets, at ~6% of an empty pull's time (issue #16).
        app.before_request_funcs[None].remove(limiter._check_request_limit)
    if not (limiter._headers_enabled or charged_by_response()):
        # After every request Flask-Limiter charges the limits that count by
        # the response (``deduct_when``) and adds the ``X-RateLimit-*``
        # headers, and at its end clears what the request noted (kept on the
        # request's context, which ends with it anyway): Weiguang uses
        # neither, and the two hooks cost ~3% of an empty pull's CPU (issue #16).
        app.after_request_funcs[None] = [
            hook for hook in app.after_request_funcs[None] if not is_header_hook(hook)
        ]
        app.teardown_request_funcs[None].remove(limiter._Limiter__release_context)  # type: ignore[attr-defined]
    app.register_error_handler(RateLimitExceeded, too_many_requests)


def charged_by_response() -> bool:
    """Tell whether any limit of the limiter is charged by the response (``deduct_when``)."""
    manager = limiter.limit_manager
    declared = [*manager._decorated_limits.values(), *manager._blueprint_limits.values()]
    limits = [*manager.default_limits, *manager.application_limits]
    limits += [limit for group in declared for limit in group]
    return any(limit.deduct_when for limit in limits)


def is_header_hook(hook: object) -> bool:
    """Tell whether ``hook`` is the limiter's ``after_request`` hook (charges and headers)."""
    return (
        isinstance(hook, partial)
        and hook.func is Limiter._Limiter__inject_headers  # type: ignore[attr-defined]
        and hook.args == (limiter,)
    )


def push_limit() -> str:
    """Return the configured limit on one device's pushes (``PUSH_RATE_LIMIT``)."""
    return str(current_app.config["WEIGUANG"]["PUSH_RATE_LIMIT"])


def device_key() -> str:
    """Return the key a device's requests count under (call after :func:`require_auth`)."""
    return f"device:{g.identity.device_id}"


def too_many_requests(error: RateLimitExceeded) -> Response:
    """Answer a request past its limit: 429 problem+json, with when to come back."""
    reset_at = limiter.current_limit.reset_at if limiter.current_limit else time.time() + 1
    retry_after = max(1, math.ceil(reset_at - time.time()))
    return problem_response(
        429,
        "rate-limited",
        "Too Many Requests",
        f"This device sends too often (at most {error.limit.limit}); "
        f"try again in {retry_after} s.",
        headers={"Retry-After": str(retry_after)},
    )
