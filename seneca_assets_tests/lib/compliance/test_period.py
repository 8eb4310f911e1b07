"""A report's period: dates include their whole last day, times are exact, the default is the
month before, and a reversed or half-given period is refused saying why."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from seneca_assets.lib.compliance import Period, month_before, period_between
from seneca_assets.lib.query.errors import BadTimeRange

NOW = datetime(2026, 11, 27, 19, 42, tzinfo=UTC)


def test_dates_cover_whole_days_and_times_are_exact():
    november = period_between("2026-11-01", "2026-11-30", NOW)
    assert november == Period(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    assert november.stem == "compliance-2026-11-01-2026-11-30"
    assert november.params == ["2026-11-01T00:00:00+00:00", "2026-12-01T00:00:00+00:00"]
    one_day = period_between("2026-11-05", "2026-11-05", NOW)
    assert one_day.label == "2026-11-05 to 2026-11-05"
    hours = period_between("2026-11-05T10:00:00+01:00", "2026-11-05T12:30:00Z", NOW)
    assert hours.params == ["2026-11-05T09:00:00+00:00", "2026-11-05T12:30:00+00:00"]
    assert hours.stem == "compliance-20261105T090000Z-20261105T123000Z"
    naive = period_between("2026-11-05T10:00", "2026-11-05T11:00", NOW)
    assert naive.start == datetime(2026, 11, 5, 10, tzinfo=UTC)


def test_the_default_is_the_calendar_month_before():
    assert period_between(None, None, NOW).label == "2026-10-01 to 2026-10-31"
    january = datetime(2027, 1, 1, 0, 30, tzinfo=UTC)
    assert month_before(january).label == "2026-12-01 to 2026-12-31"
    assert month_before(datetime(2028, 3, 10, tzinfo=UTC)).label == "2028-02-01 to 2028-02-29"


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-11-30", "2026-11-01", "--to 2026-11-01 is before --from 2026-11-30"),
        ("2026-11-05T12:00Z", "2026-11-05T12:00Z", "(or the same time)"),
        ("2026-11-01", None, "give both --from and --to"),
        (None, "2026-11-01", "give both --from and --to"),
        ("last tuesday", "2026-11-01", "--from: cannot read 'last tuesday'"),
    ],
)
def test_a_reversed_or_unreadable_period_is_refused(start, end, message):
    with pytest.raises(BadTimeRange, match=re.escape(message)):
        period_between(start, end, NOW)
