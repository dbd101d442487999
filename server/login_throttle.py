"""Slow password guessing down without locking the right person out.

Failed sign-ins are kept for ``LOGIN_WINDOW_SECONDS`` and counted three ways:

- per *(account, address)* pair: after ``LOGIN_MAX_FAILURES_PER_PAIR`` the
  pair gets 429 with ``Retry-After`` until its oldest failure ages out. The
  account's owner at another address is not affected.
- per account from any address, and per address for any account: past
  ``LOGIN_SLOW_AFTER_ACCOUNT_FAILURES`` or ``LOGIN_SLOW_AFTER_ADDRESS_FAILURES``
  every attempt is held before its password is checked, for
  ``LOGIN_FIRST_DELAY_SECONDS`` doubling with each further failure up to
  ``LOGIN_MAX_DELAY_SECONDS``. The right password still signs in, after the
  wait, so a guesser cannot lock out an account or everyone behind one proxy.
- each count that reaches its limit writes a ``login_alert`` audit entry,
  which coordinators read with ``GET /api/v1/auth/alerts``.

The wait comes before the password is checked, for right and wrong passwords
alike, so that a guesser learns nothing by giving up early.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, delete, func, select

from server import grants
from server.clock import aware, utcnow
from server.errors import ApiError
from server.extensions import db, socketio
from server.models import AuditEntry, LoginFailure, User

ALERT = "login_alert"
ALERTS_SHOWN = timedelta(days=7)
ALERTS_SHOWN_MAX = 200


@dataclass(frozen=True)
class Attempt:
    """One sign-in attempt: the username as typed and the client's address."""

    username: str
    address: str

    def pair(self) -> ColumnElement[bool]:
        return (LoginFailure.username == self.username) & (LoginFailure.address == self.address)

    def account(self) -> ColumnElement[bool]:
        return LoginFailure.username == self.username

    def from_address(self) -> ColumnElement[bool]:
        return LoginFailure.address == self.address


def settings() -> dict[str, Any]:
    """Return the app's settings (``LOGIN_*`` among them)."""
    return dict(current_app.config["WEIGUANG"])


def window() -> timedelta:
    """Return how long a failed sign-in counts."""
    return timedelta(seconds=settings()["LOGIN_WINDOW_SECONDS"])


def failures(condition: ColumnElement[bool]) -> int:
    """Count the failed sign-ins within the window that match ``condition``."""
    since = utcnow() - window()
    query = select(func.count()).where(condition, LoginFailure.at > since)
    return int(db.session.scalar(query) or 0)


def hold(attempt: Attempt) -> None:
    """Refuse a locked pair (429), else wait as long as the attempt's delay.

    The database connection goes back to the pool before the wait.
    """
    config = settings()
    if failures(attempt.pair()) >= config["LOGIN_MAX_FAILURES_PER_PAIR"]:
        raise ApiError(
            429,
            "too-many-logins",
            "Too many failed sign-ins from here; wait a few minutes and try again.",
            headers={"Retry-After": str(seconds_until_unlocked(attempt))},
        )
    seconds = delay(
        failures(attempt.account()) - config["LOGIN_SLOW_AFTER_ACCOUNT_FAILURES"],
        failures(attempt.from_address()) - config["LOGIN_SLOW_AFTER_ADDRESS_FAILURES"],
    )
    db.session.close()
    if seconds:
        socketio.sleep(seconds)


def delay(*excess: int) -> float:
    """Return the wait, in seconds, for counts ``excess`` failures past their limits.

    Nothing below every limit; at a limit ``LOGIN_FIRST_DELAY_SECONDS``,
    doubling with each failure more, up to ``LOGIN_MAX_DELAY_SECONDS``.
    """
    worst = max(excess)
    if worst < 0:
        return 0.0
    config = settings()
    return float(
        min(config["LOGIN_MAX_DELAY_SECONDS"], config["LOGIN_FIRST_DELAY_SECONDS"] * 2.0**worst)
    )


def seconds_until_unlocked(attempt: Attempt) -> int:
    """Return when the pair's oldest failure in the window stops counting."""
    oldest = db.session.scalar(
        select(func.min(LoginFailure.at)).where(
            attempt.pair(), LoginFailure.at > utcnow() - window()
        )
    )
    if oldest is None:
        return 1
    left = aware(oldest) + window() - utcnow()
    return max(1, math.ceil(left.total_seconds()))


def record_failure(attempt: Attempt) -> list[dict[str, Any]]:
    """Keep a failed sign-in, forget those out of the window; return the alerts it raises.

    Each alert is the ``detail`` of a ``login_alert`` audit entry: ``reason``
    (``pair``, ``account`` or ``address``: the count that reached its limit),
    ``address``, ``failures`` and, unless the reason is the address alone,
    ``username``.
    """
    now = utcnow()
    db.session.execute(delete(LoginFailure).where(LoginFailure.at < now - window()))
    db.session.add(LoginFailure(username=attempt.username, address=attempt.address, at=now))
    db.session.flush()
    config = settings()
    limits = (
        ("pair", attempt.pair(), config["LOGIN_MAX_FAILURES_PER_PAIR"]),
        ("account", attempt.account(), config["LOGIN_SLOW_AFTER_ACCOUNT_FAILURES"]),
        ("address", attempt.from_address(), config["LOGIN_SLOW_AFTER_ADDRESS_FAILURES"]),
    )
    return [
        {"reason": reason, "address": attempt.address, "failures": limit}
        | ({} if reason == "address" else {"username": attempt.username})
        for reason, condition, limit in limits
        if failures(condition) == limit
    ]


def alerts_for(coordinator: User) -> list[dict[str, Any]]:
    """Return the recent ``login_alert`` entries ``coordinator`` may see, newest first.

    An alert about an account shows to the coordinators whose scope holds
    the account's (:func:`server.grants.within`); one about an address or an
    unknown username only to neighbourhood-wide coordinators. Each is its
    audit ``detail`` with ``at``. The last :data:`ALERTS_SHOWN` days, at most
    :data:`ALERTS_SHOWN_MAX` entries.
    """
    since = utcnow() - ALERTS_SHOWN
    entries = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.at > since, AuditEntry.action == ALERT)
        .order_by(AuditEntry.id.desc())
        .limit(ALERTS_SHOWN_MAX)
    )
    return [{"at": aware(e.at), **e.detail} for e in entries if shown_to(coordinator, e)]


def shown_to(coordinator: User, entry: AuditEntry) -> bool:
    account = db.session.get(User, entry.user_id) if entry.user_id is not None else None
    if account is None:
        return coordinator.scope_kind == "neighbourhood"
    return account.neighbourhood_id == coordinator.neighbourhood_id and grants.within(
        coordinator, account.scope_kind, account.scope_ids
    )


def forget_pair(attempt: Attempt) -> None:
    """Forget the pair's failures once its owner signs in from there."""
    db.session.execute(delete(LoginFailure).where(attempt.pair()))
