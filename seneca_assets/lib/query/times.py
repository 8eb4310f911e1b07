"""Times and time ranges as people and programs give them.

Datetimes, ISO 8601 text, `now`, and durations back from now (`24h`, `now-7d`, `90m`).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from seneca_assets.lib.query.errors import BadTimeRange

Moment = datetime | date | str
"""What a time argument may be."""

_AGO = re.compile(r"^(?:now\s*-\s*)?(\d+(?:\.\d+)?)\s*(s|m|h|d|w)$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def moment(value: Moment, now: datetime | None = None) -> datetime:
    """`value` as an aware UTC datetime; naive times are taken as UTC.

    Text may be ISO 8601 (`2026-11-27`, `2026-11-27T10:00:00+01:00`), `now`, or a duration
    back from now (`24h`, `now-7d`; units s, m, h, d, w). Relative times count from the start
    of the current minute, so that a dashboard's repeated queries ask the same range (and hit
    the cache) within a minute.
    """
    now = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    text = value.strip().lower()
    if text == "now":
        return now
    ago = _AGO.match(text)
    if ago:
        return now - timedelta(**{_UNITS[ago.group(2)]: float(ago.group(1))})
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadTimeRange(
            f"cannot read {value!r} as a time: give ISO 8601 (2026-11-27 or "
            "2026-11-27T10:00:00Z), 'now', or a duration back from now such as '24h' or '7d'"
        ) from None
    return moment(parsed)


def time_range(
    start: Moment | None, end: Moment | None, now: datetime | None = None
) -> tuple[datetime | None, datetime | None]:
    """Both ends read by `moment` (None stays open); BadTimeRange if the range is reversed."""
    now = now or datetime.now(UTC)
    first = moment(start, now) if start is not None else None
    last = moment(end, now) if end is not None else None
    if first is not None and last is not None and first >= last:
        raise BadTimeRange(
            f"the time range ends ({last.isoformat()}) before or when it starts "
            f"({first.isoformat()}): give the earlier time first"
        )
    return first, last
