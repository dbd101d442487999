"""Parse and format the contract's timestamps.

The wire form is ISO 8601 in UTC with milliseconds and a ``Z``
(``2022-03-23T10:00:00.000Z``), as JavaScript's ``Date.toISOString`` writes
it. Times are truncated to milliseconds on the way in so that a time read
back from its wire form compares equal to the original; the conflict rules
depend on that.
"""

from __future__ import annotations

from datetime import UTC, datetime

DATETIME_FORMAT = "must be an ISO 8601 date-time with Z or an offset"


def parse_datetime(value: object) -> datetime:
    """Parse an ISO 8601 date-time with ``Z`` or an offset into UTC milliseconds.

    A time without a zone is refused: a device's local time is ambiguous
    (``sync-contract.md``, Push). So is one that leaves the years 1 to 9999
    once moved to UTC (``9999-12-31T23:59:59-01:00``).

    :raises ValueError: if ``value`` is not such a string.
    """
    if not isinstance(value, str) or not 10 <= len(value) <= 40:
        raise ValueError(DATETIME_FORMAT)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(DATETIME_FORMAT) from None
    if parsed.tzinfo is None:
        raise ValueError(DATETIME_FORMAT + ": the zone is missing")
    try:
        return to_utc_ms(parsed)
    except OverflowError:
        raise ValueError("must lie between the years 1 and 9999 in UTC") from None


def to_utc_ms(moment: datetime) -> datetime:
    """Return ``moment`` in UTC, truncated to milliseconds (naive taken as UTC)."""
    # Every step is skipped when it would change nothing: a device's time
    # (``toISOString``) arrives in UTC with milliseconds, and these calls
    # cost more than parsing it.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    elif moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    extra = moment.microsecond % 1000
    return moment if not extra else moment.replace(microsecond=moment.microsecond - extra)


def format_datetime(moment: datetime) -> str:
    """Format ``moment`` as the wire form, ``YYYY-MM-DDTHH:MM:SS.mmmZ``."""
    # A time already in UTC (every parsed one) skips the conversion; the
    # milliseconds are truncated here, and the year padded to four digits
    # (strftime's %Y does not below 1000). Printf-style from the fields, not
    # isoformat then a replace of its "+00:00": half the time, paid by every
    # record a push writes (its stamp) (issue #16).
    if moment.tzinfo is not UTC:
        moment = to_utc_ms(moment)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (  # noqa: UP031
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
        moment.microsecond // 1000,
    )
