"""The contract's date-times: ISO 8601 with ``Z`` or an offset, in years 1 to 9999 UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.times import format_datetime, parse_datetime, to_utc_ms

ZONES = st.builds(
    timezone, st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timedelta(minutes=m))
)


@pytest.mark.parametrize(
    "value",
    [
        "2022-03-23T10:00:00",  # issue 7 item 5: local time, no zone
        "2022-03-23T10:00:00.000",
        "2022-03-23",
        "9999-12-31T23:59:59-01:00",  # issue 7 item 4: past year 9999 in UTC
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
        "yesterday",
        "",
        None,
        1648029600,
    ],
)
def test_anything_but_a_zoned_date_time_within_the_years_is_refused(value: object) -> None:
    with pytest.raises(ValueError):
        parse_datetime(value)


@pytest.mark.parametrize(
    ("value", "utc"),
    [
        ("2022-03-23T10:00:00.000Z", datetime(2022, 3, 23, 10, tzinfo=UTC)),
        ("2022-03-23T18:00:00+08:00", datetime(2022, 3, 23, 10, tzinfo=UTC)),
        ("9999-12-31T23:59:59+01:00", datetime(9999, 12, 31, 22, 59, 59, tzinfo=UTC)),
    ],
)
def test_a_zoned_date_time_is_read_in_utc(value: str, utc: datetime) -> None:
    assert parse_datetime(value) == utc


@given(moment=st.datetimes(timezones=ZONES))
def test_every_zoned_date_time_is_read_or_refused_never_raising_anything_else(
    moment: datetime,
) -> None:
    try:
        parsed = parse_datetime(moment.isoformat())
    except ValueError:
        return  # only when UTC leaves the years 1 to 9999
    assert parsed.tzinfo is UTC
    assert parse_datetime(format_datetime(parsed)) == parsed


@given(moment=st.datetimes())
def test_every_date_time_without_a_zone_is_refused(moment: datetime) -> None:
    with pytest.raises(ValueError, match="zone"):
        parse_datetime(moment.isoformat())


def test_a_year_before_1000_keeps_four_digits_and_reads_back() -> None:
    moment = datetime(999, 3, 23, 10, tzinfo=UTC)
    assert format_datetime(moment) == "0999-03-23T10:00:00.000Z"
    assert parse_datetime(format_datetime(moment)) == moment


@given(moment=st.datetimes(timezones=st.none() | st.just(UTC) | ZONES))
def test_a_time_is_formatted_in_utc_to_the_millisecond_truncated(moment: datetime) -> None:
    try:
        utc = to_utc_ms(moment)
    except OverflowError:
        return  # outside the years 1 to 9999 once in UTC
    wire = (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:"
        f"{utc.second:02d}.{utc.microsecond // 1000:03d}Z"
    )
    assert format_datetime(moment) == wire
