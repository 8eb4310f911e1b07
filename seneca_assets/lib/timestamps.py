"""Parsing the timestamp shapes Marcus writes into UTC instants.

Accepted: ISO-8601 date and time with `T` or a space, optional fraction (up to nanoseconds,
kept to microseconds), and either `Z`, an offset (`+05:30`, `-0800`), or nothing. A naive time
is read in the configured time zone and flagged as assumed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

EARLIEST_PLAUSIBLE = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_PLAUSIBLE = datetime(2100, 1, 1, tzinfo=UTC)

_OFFSET = r"(Z|z|[+-]\d{2}:?\d{2})$"
_AWARE_FORMAT = "%Y-%m-%dT%H:%M:%S%.f%z"
_NAIVE_FORMAT = "%Y-%m-%dT%H:%M:%S%.f"


def check_time_zone(name: str) -> str:
    """Return `name` if it is an IANA time zone, else raise ValueError saying what to set."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"SENECA_NAIVE_TZ={name!r} is not an IANA time zone name (for example 'UTC' or "
            "'America/New_York')"
        ) from exc
    return name


def parse_timestamps(text: pl.Series, naive_tz: str) -> pl.DataFrame:
    """Parse timestamp strings.

    Returns a frame with `event_time` (UTC, null where the text is not a timestamp),
    `time_zone_assumed` and `timestamp_error` (a reason where `event_time` is null).
    """
    frame = pl.DataFrame({"text": text.cast(pl.String)})
    iso = pl.col("text").str.strip_chars().str.replace(r"^(\d{4}-\d{2}-\d{2}) ", "${1}T")
    has_offset = iso.str.contains(_OFFSET)
    aware = (
        iso.str.replace(r"[Zz]$", "+00:00")
        .str.strptime(pl.Datetime("us", "UTC"), _AWARE_FORMAT, strict=False)
        .dt.convert_time_zone("UTC")
    )
    naive_wall = iso.str.strptime(pl.Datetime("us"), _NAIVE_FORMAT, strict=False)
    naive = naive_wall.dt.replace_time_zone(
        naive_tz, ambiguous="earliest", non_existent="null"
    ).dt.convert_time_zone("UTC")
    parsed = frame.with_columns(
        has_offset=has_offset,
        event_time=pl.when(has_offset).then(aware).otherwise(naive),
        naive_wall_ok=naive_wall.is_not_null(),
    )
    error = (
        pl.when(pl.col("event_time").is_not_null())
        .then(None)
        .when(~pl.col("has_offset") & pl.col("naive_wall_ok"))
        .then(pl.lit(f"naive timestamp does not exist in {naive_tz} (clock change gap): "))
        .otherwise(pl.lit("unparsable timestamp: "))
        + pl.lit("'")
        + pl.col("text").str.slice(0, 80)
        + pl.lit("'")
    )
    return parsed.select(
        pl.col("event_time"),
        time_zone_assumed=~pl.col("has_offset"),
        timestamp_error=error,
    )
