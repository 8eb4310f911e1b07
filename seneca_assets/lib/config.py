"""Settings shared by the command, the Dagster resources and the library, from the environment."""

from __future__ import annotations

import math
import os
import shutil
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from seneca_assets.lib.timestamps import check_time_zone

DEFAULT_LOG_DIR = "data/marcus_logs"
DEFAULT_LAKE_DIR = "data/lake"
DEFAULT_NAIVE_TZ = "UTC"
DEFAULT_TAIL_GRACE_S = 3600.0
"""An unterminated last line is taken as it is once its file has been still this long."""


DEFAULT_ABANDON_AFTER_H = 24.0
"""An open task or task thread without a line for this long is abandoned."""


class ConfigurationError(ValueError):
    """A setting that cannot work; the message says what to fix."""


def _number_from_env(variable: str, default: float, unit: str) -> float:
    """A number of `unit` from the environment, or `default`; ConfigurationError if not one."""
    text = os.environ.get(variable, str(default))
    try:
        return float(text)
    except ValueError as exc:
        raise ConfigurationError(f"{variable}={text!r} is not a number of {unit}") from exc


@dataclass(frozen=True)
class IngestSettings:
    """Where logs are read from, where the lake is, and how lines are interpreted."""

    log_dir: Path
    lake_dir: str | Path
    """A folder, or an object-store URL such as `s3://bucket/prefix` (`lib/storage.py`)."""
    naive_tz: str = DEFAULT_NAIVE_TZ
    tail_grace_s: float = DEFAULT_TAIL_GRACE_S

    @classmethod
    def from_env(
        cls, log_dir: str | Path | None = None, lake_dir: str | Path | None = None
    ) -> IngestSettings:
        """Settings from arguments, falling back to `SENECA_*` environment variables."""
        grace_s = _number_from_env("SENECA_TAIL_GRACE_S", DEFAULT_TAIL_GRACE_S, "seconds")
        return cls(
            log_dir=Path(log_dir or os.environ.get("SENECA_LOG_DIR") or DEFAULT_LOG_DIR),
            lake_dir=str(lake_dir or os.environ.get("SENECA_LAKE_DIR") or DEFAULT_LAKE_DIR),
            naive_tz=os.environ.get("SENECA_NAIVE_TZ") or DEFAULT_NAIVE_TZ,
            tail_grace_s=grace_s,
        )

    def validated(self) -> IngestSettings:
        """Check that the settings can work; raise ConfigurationError saying what to fix."""
        if not self.log_dir.is_dir():
            raise ConfigurationError(
                f"log folder {self.log_dir} does not exist or is not a folder: point --logs or "
                "SENECA_LOG_DIR at the folder Marcus writes its logs to"
            )
        try:
            check_time_zone(self.naive_tz)
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from exc
        if self.tail_grace_s < 0:
            raise ConfigurationError("SENECA_TAIL_GRACE_S must not be negative")
        return self


@dataclass(frozen=True)
class ModelSettings:
    """How the silver model judges what it cannot read in the logs."""

    abandon_after_h: float = DEFAULT_ABANDON_AFTER_H

    @classmethod
    def from_env(cls) -> ModelSettings:
        """Settings from `SENECA_ABANDON_AFTER_H`, checked; ConfigurationError says what to fix."""
        hours = _number_from_env("SENECA_ABANDON_AFTER_H", DEFAULT_ABANDON_AFTER_H, "hours")
        if not hours > 0:
            raise ConfigurationError("SENECA_ABANDON_AFTER_H must be a positive number of hours")
        return cls(abandon_after_h=hours)

    @property
    def abandon_after(self) -> timedelta:
        """`abandon_after_h` as a duration."""
        return timedelta(hours=self.abandon_after_h)


DEFAULT_CACHE_MB = 256.0
DEFAULT_CACHE_TTL_S = 3600.0
DEFAULT_MAX_RESULT_SIZE = 10_000
DEFAULT_QUERY_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class QuerySettings:
    """Bounds of the query interface: its result cache, result size and query time."""

    cache_mb: float = DEFAULT_CACHE_MB
    cache_ttl_s: float = DEFAULT_CACHE_TTL_S
    max_result_size: int = DEFAULT_MAX_RESULT_SIZE
    timeout_s: float = DEFAULT_QUERY_TIMEOUT_S

    @classmethod
    def from_env(cls) -> QuerySettings:
        """Settings from `SENECA_QUERY_*`, checked; ConfigurationError says what to fix."""
        settings = cls(
            cache_mb=_number_from_env("SENECA_QUERY_CACHE_MB", DEFAULT_CACHE_MB, "megabytes"),
            cache_ttl_s=_number_from_env(
                "SENECA_QUERY_CACHE_TTL_S", DEFAULT_CACHE_TTL_S, "seconds"
            ),
            max_result_size=int(
                _number_from_env("SENECA_QUERY_MAX_ROWS", DEFAULT_MAX_RESULT_SIZE, "rows")
            ),
            timeout_s=_number_from_env(
                "SENECA_QUERY_TIMEOUT_S", DEFAULT_QUERY_TIMEOUT_S, "seconds"
            ),
        )
        return settings.validated()

    def validated(self) -> QuerySettings:
        """Check the bounds; raise ConfigurationError saying which one cannot work."""
        if self.cache_mb < 0 or self.cache_ttl_s < 0:
            raise ConfigurationError("the query cache's size and lifetime must not be negative")
        if self.max_result_size < 1:
            raise ConfigurationError("SENECA_QUERY_MAX_ROWS must be at least 1")
        if not self.timeout_s > 0:
            raise ConfigurationError("SENECA_QUERY_TIMEOUT_S must be a positive number of seconds")
        return self


CAPACITY_LIMIT_VARIABLE = "SENECA_CAPACITY_LIMIT_GB"
GB = 1_000_000_000


@dataclass(frozen=True)
class CapacitySettings:
    """The lake-wide size limit: a number of gigabytes, or None for the disk's free space."""

    limit_gb: float | None = None

    @classmethod
    def from_env(cls) -> CapacitySettings:
        """Settings from `SENECA_CAPACITY_LIMIT_GB`; ConfigurationError says what to fix."""
        text = os.environ.get(CAPACITY_LIMIT_VARIABLE, "").strip()
        if not text:
            return cls()
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value > 0):
            raise ConfigurationError(
                f"{CAPACITY_LIMIT_VARIABLE}={text!r} is not a positive number of gigabytes "
                "(10^9 bytes): "
                "set it to the lake's size limit, e.g. 500, or unset it to plan against the "
                "free space of the lake's disk"
            )
        return cls(limit_gb=value)

    def limit(self, root: Path, lake_bytes: int) -> tuple[int, str]:
        """The limit in bytes and its basis (`setting` or `disk`) for a lake of `lake_bytes`."""
        if self.limit_gb is not None:
            return max(1, round(self.limit_gb * GB)), "setting"
        return max(1, lake_bytes + shutil.disk_usage(_existing(root)).free), "disk"


def _existing(path: Path) -> Path:
    """`path`, or its nearest existing parent (the disk a lake not created yet will be on)."""
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path
