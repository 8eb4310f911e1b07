"""The period a compliance report covers: UTC times from a start up to, not including, an end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from seneca_assets.lib.query.errors import BadTimeRange
from seneca_assets.lib.query.times import moment


@dataclass(frozen=True)
class Period:
    """`[start, end)` in UTC; BadTimeRange if it ends before or when it starts."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", moment(self.start))  # aware, in UTC itself
        object.__setattr__(self, "end", moment(self.end))
        if self.end <= self.start:
            raise BadTimeRange(
                f"the period ends ({self.end.isoformat()}) before or when it starts "
                f"({self.start.isoformat()}): give --from before --to"
            )

    @property
    def params(self) -> list[str]:
        """The bound parameters of every period query: `$1` the start, `$2` the end, as ISO text.

        Text, so that the same values can be given to `seneca sql --param`; DuckDB casts them to
        the time columns they are compared with.
        """
        return [self.start.isoformat(), self.end.isoformat()]

    @property
    def whole_days(self) -> bool:
        """True when the period starts and ends at midnight UTC."""
        return all(t == t.replace(hour=0, minute=0, second=0, microsecond=0) for t in self.ends)

    @property
    def ends(self) -> tuple[datetime, datetime]:
        """The start and the (excluded) end."""
        return self.start, self.end

    @property
    def label(self) -> str:
        """The days covered (`2026-11-01 to 2026-11-30`), or the exact times."""
        if self.whole_days:
            last = (self.end - timedelta(days=1)).date()
            return f"{self.start.date()} to {last}"
        return f"{self.start:%Y-%m-%dT%H:%M:%SZ} to {self.end:%Y-%m-%dT%H:%M:%SZ}"

    @property
    def stem(self) -> str:
        """The report's file name without its suffix: `compliance-2026-11-01-2026-11-30`."""
        if self.whole_days:
            return f"compliance-{self.label.replace(' to ', '-')}"
        return f"compliance-{self.start:%Y%m%dT%H%M%SZ}-{self.end:%Y%m%dT%H%M%SZ}"

    def describe(self) -> str:
        """The period in words, with both ends exact."""
        return f"from {self.start.isoformat()} up to, not including, {self.end.isoformat()} (UTC)"


def month_before(now: datetime) -> Period:
    """The calendar month before the one `now` is in."""
    first = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    previous = (first - timedelta(days=1)).replace(day=1)
    return Period(previous, first)


def period_between(start: str | None, end: str | None, now: datetime | None = None) -> Period:
    """The period from command-line text: dates or ISO times (naive ones are UTC).

    A date as `end` includes that whole day; a time as `end` is excluded. With neither given,
    the calendar month before `now`; with only one, BadTimeRange (a report's period is chosen,
    not guessed).
    """
    now = now or datetime.now(UTC)
    if start is None and end is None:
        return month_before(now)
    if start is None or end is None:
        raise BadTimeRange("give both --from and --to, or neither (the previous calendar month)")
    first, last = _read(start, now, "--from"), _read(end, now, "--to")
    whole_day = isinstance(last, date) and not isinstance(last, datetime)
    first_time, last_time = moment(first), moment(last) + timedelta(days=1 if whole_day else 0)
    if last_time <= first_time:
        raise BadTimeRange(
            f"--to {end} is before --from {start}"
            + ("" if whole_day else " (or the same time)")
            + ": the period must end after it starts; give the earlier time with --from"
        )
    return Period(first_time, last_time)


def _read(text: str, now: datetime, option: str) -> date | datetime:
    """A date if `text` is one (`2026-11-30`), else a time read by `query.times.moment`."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        pass
    try:
        return moment(text, now)
    except BadTimeRange as exc:
        raise BadTimeRange(f"{option}: {exc}") from None
