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
_NAIVE_FORMAT = "%Y-%m-%dT%H:%M:%S%.f"
MAX_OFFSET_HOURS = 23


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
    The wall-clock part is parsed once for every shape; the offset is applied arithmetically.
    """
    iso = pl.col("text").str.strip_chars().str.replace(" ", "T", literal=True, n=1)
    suffix = pl.col("suffix")
    digits = suffix.str.replace(":", "", literal=True)
    hours = (
        pl.when(suffix.str.to_uppercase() == "Z")
        .then(0)
        .otherwise(digits.str.slice(1, 2).cast(pl.Int32))
    )
    minutes = (
        pl.when(suffix.str.to_uppercase() == "Z")
        .then(0)
        .otherwise(digits.str.slice(3, 2).cast(pl.Int32))
    )
    sign = pl.when(suffix.str.starts_with("-")).then(-1).otherwise(1)
    wall = pl.col("wall")
    aware = (
        pl.when((hours <= MAX_OFFSET_HOURS) & (minutes < 60))
        .then(wall - pl.duration(minutes=sign * (hours * 60 + minutes)))
        .dt.replace_time_zone("UTC")
    )
    naive = wall.dt.replace_time_zone(
        naive_tz, ambiguous="earliest", non_existent="null"
    ).dt.convert_time_zone("UTC")
    frame = (
        pl.DataFrame({"text": text.cast(pl.String)})
        .with_columns(iso=iso)
        .with_columns(suffix=pl.col("iso").str.extract(_OFFSET))
        .with_columns(
            wall=pl.when(suffix.is_null())
            .then(pl.col("iso"))
            .otherwise(
                pl.col("iso").str.head(-suffix.str.len_chars().cast(pl.Int64)).str.strip_chars_end()
            )
            .str.strptime(pl.Datetime("us"), _NAIVE_FORMAT, strict=False)
        )
        .with_columns(
            time_zone_assumed=suffix.is_null(),
            event_time=pl.when(suffix.is_null()).then(naive).otherwise(aware),
        )
    )
    error = (
        pl.when(pl.col("event_time").is_not_null())
        .then(None)
        .when(pl.col("time_zone_assumed") & wall.is_not_null())
        .then(pl.lit(f"naive timestamp does not exist in {naive_tz} (clock change gap): "))
        .otherwise(pl.lit("unparsable timestamp: "))
        + pl.lit("'")
        + pl.col("text").str.slice(0, 80)
        + pl.lit("'")
    )
    no_text = pl.col("text").is_null()
    return frame.select(
        "event_time",
        "time_zone_assumed",
        timestamp_error=pl.when(no_text).then(pl.lit("no timestamp field")).otherwise(error),
    )
