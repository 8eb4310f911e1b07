"""`Lake`: the query interface over a lake's Delta tables, for Python, SQL and the command.

Every answer is cached under the query and the Delta versions of the tables it read, so a new
commit is never hidden by the cache. Results are bounded in rows and in time.
"""

from __future__ import annotations

import difflib
import functools
import os
import threading
import time
import warnings
from collections.abc import Callable, Hashable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.dataset as ds
from deltalake import DeltaTable

from seneca_assets.lib.catalog import TABLES
from seneca_assets.lib.config import QuerySettings
from seneca_assets.lib.lake import Lake as StorageLake
from seneca_assets.lib.lake import time_bound
from seneca_assets.lib.query import metrics as M
from seneca_assets.lib.query import records as Rec
from seneca_assets.lib.query import sql as Q
from seneca_assets.lib.query.cache import CacheStats, ResultCache
from seneca_assets.lib.query.errors import (
    QueryError,
    QueryTimeout,
    ResultTooLarge,
    UnknownMetricWarning,
    UnknownName,
)
from seneca_assets.lib.query.times import Moment, moment, time_range
from seneca_assets.lib.query.traffic import Traffic
from seneca_assets.lib.schemas import TableSpec
from seneca_assets.lib.snapshots import versions as snapshot_versions

SQL_NAMES = {
    **{spec.name.replace("/", "_"): spec for spec in TABLES},
    **{spec.name: spec for spec in TABLES},
}
"""Names a table answers to in SQL: `silver_messages`, or `"silver/messages"` quoted."""


class Lake:
    """Read-only queries over the lake at `root`, at its latest versions or as of a moment."""

    def __init__(
        self,
        root: str | Path,
        settings: QuerySettings | None = None,
        *,
        cache: ResultCache | None = None,
        pinned: Mapping[str, int] | None = None,
    ) -> None:
        self._storage = StorageLake(root)
        self.location = self._storage.location
        """Where the tables are: a folder or an object-store URL."""
        self.root = self._storage.root
        """The local folder of the lake (its state folder for a remote lake)."""
        self.settings = settings or QuerySettings.from_env()
        self.cache = cache or ResultCache(
            int(self.settings.cache_mb * 2**20), self.settings.cache_ttl_s,
            traffic=Traffic(self.root),
        )  # fmt: skip
        self._pinned = dict(pinned) if pinned is not None else None
        self._open: dict[str, DeltaTable] = {}
        self._log_seen: dict[str, int] = {}
        self._duck: Any = None
        self._lock = threading.Lock()

    # -- tables and versions ------------------------------------------------------------------

    def version(self, spec: TableSpec) -> int:
        """The version of `spec` this lake reads (-1: the table does not exist at that point)."""
        table = self._delta(spec)
        return -1 if table is None else table.version()

    def _delta(self, spec: TableSpec) -> DeltaTable | None:
        with self._lock:
            table = self._open.get(spec.name)
            if self._pinned is not None:
                if spec.name not in self._pinned:
                    return None
                if table is None:
                    table = DeltaTable(self._storage.uri(spec), version=self._pinned[spec.name])
                    self._open[spec.name] = table
                return table
            if self._storage.remote:  # no folder to stat: ask the store for newer commits
                return self._remote(spec, table)
            log = self._storage.uri(spec) + "/_delta_log"
            try:
                seen = os.stat(log).st_mtime_ns
            except FileNotFoundError:
                return None
            if table is not None:
                # A commit adds a file to the log folder: an unchanged folder is an unchanged
                # table, known from one stat instead of reading the log.
                if self._log_seen.get(spec.name) != seen:
                    table.update_incremental()
                    self._log_seen[spec.name] = _settled(seen)
                return table
            if not DeltaTable.is_deltatable(self._storage.uri(spec)):
                return None
            table = self._open[spec.name] = DeltaTable(self._storage.uri(spec))
            self._log_seen[spec.name] = _settled(seen)
            return table

    def _remote(self, spec: TableSpec, table: DeltaTable | None) -> DeltaTable | None:
        """The latest version of a table on an object store (one listing of its new commits)."""
        if table is not None:
            table.update_incremental()
            return table
        if not self._storage.exists(spec):
            return None
        table = self._open[spec.name] = DeltaTable(self._storage.uri(spec))
        return table

    def scan(self, spec: TableSpec) -> pl.LazyFrame:
        """A lazy scan of `spec` at the version this lake reads (empty if it did not exist)."""
        table = self._delta(spec)
        return spec.empty().lazy() if table is None else pl.scan_delta(table)

    def _dataset(self, spec: TableSpec) -> ds.Dataset:
        table = self._delta(spec)
        if table is None:
            return ds.dataset(spec.empty().to_arrow())
        return table.to_pyarrow_dataset()

    def as_of(self, when: Moment) -> Lake:
        """This lake as it was at `when` (a time) or in the snapshot named `when`.

        Each table is read at the last version committed at or before that time; a table
        created later reads as empty.
        """
        if isinstance(when, str):
            named = snapshot_versions(self._storage, when)
            if named is not None:
                return Lake(self.location, self.settings, cache=self.cache, pinned=named)
        at = moment(when)
        pinned = {}
        for spec in TABLES:
            if not self._storage.exists(spec):
                continue
            committed = [
                commit["version"]
                for commit in DeltaTable(self._storage.uri(spec)).history()
                if commit["timestamp"] <= at.timestamp() * 1000
            ]
            if committed:
                pinned[spec.name] = max(committed)
        return Lake(self.location, self.settings, cache=self.cache, pinned=pinned)

    # -- the bounds: cache, time, size -----------------------------------------------------

    def cache_stats(self) -> CacheStats:
        """Hits, misses and contents of the result cache (shared with `as_of` lakes)."""
        return self.cache.stats()

    def _cached(
        self, key: Hashable, specs: Sequence[TableSpec], compute: Callable[[], pl.DataFrame]
    ) -> pl.DataFrame:
        full = (key, tuple((spec.name, self.version(spec)) for spec in specs))
        found = self.cache.get(full)
        if found is not None:
            return found
        result = compute()
        self.cache.put(full, result)
        return result

    def _collector(self) -> Callable[[pl.LazyFrame], pl.DataFrame]:
        return collector(self.settings.timeout_s)

    def _bounded(self, limit: int | None) -> int:
        bound = self.settings.max_result_size
        if limit is not None and limit > bound:
            raise ResultTooLarge(
                f"limit {limit:,} is over max_result_size ({bound:,}): page with offset instead"
            )
        return limit if limit is not None else bound

    # -- metrics ------------------------------------------------------------------------------

    def metrics(
        self,
        name: str,
        start: Moment,
        end: Moment | None = None,
        tags: Mapping[str, str] | None = None,
        resolution: str = "auto",
        aggregates: Sequence[str] = M.DEFAULT_AGGREGATES,
        by_tags: bool = False,
    ) -> pl.DataFrame:
        """One metric over [start, end) as rows of `time`, the aggregates and `resolution`.

        `tags` keeps the series whose tags include these values; without `by_tags`, series are
        merged per bucket (percentiles from their merged sketches). `resolution` is `raw`,
        `hourly`, `daily`, `monthly` or `auto`: the finest tier whose span limit (raw 2 days,
        hourly 90 days, daily 5 years) covers the range, that still holds its start, and whose
        answer fits in `max_result_size`. An unknown name gives an empty frame and an
        UnknownMetricWarning naming close ones.
        """
        first, last = time_range(start, end if end is not None else "now")
        assert first is not None and last is not None
        query = M.MetricQuery(
            name, first, last, tuple(sorted((tags or {}).items())), tuple(aggregates), by_tags
        )
        specs = [M.table_of(r) for r in M.RESOLUTIONS]

        def compute() -> pl.DataFrame:
            earliest = {r: self._earliest(M.table_of(r), M.time_column(r)) for r in M.RESOLUTIONS}
            tiers = M.candidates(query, resolution, earliest)
            collect = self._collector()
            return M.answer(query, tiers, self.scan, collect, self.settings.max_result_size)

        found = self._cached(("metrics", query, resolution), specs, compute)
        if found.is_empty() and name not in self.metric_names():
            close = difflib.get_close_matches(name, self.metric_names(), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            warnings.warn(f"no metric named {name!r}{hint}", UnknownMetricWarning, stacklevel=2)
        return found

    def metric_names(self) -> list[str]:
        """Every metric name the lake holds, raw or rolled up."""
        specs = [M.table_of(r) for r in M.RESOLUTIONS]

        def names() -> pl.DataFrame:
            frames = [self.scan(spec).select("name").unique() for spec in specs]
            return pl.concat(frames).unique().sort("name").collect()

        return self._cached(("metric_names",), specs, names).get_column("name").to_list()

    def _earliest(self, spec: TableSpec, column: str) -> datetime | None:
        """The first time `spec` holds at the version this lake reads."""
        table = self._delta(spec)
        return None if table is None else time_bound(table, column, "min")

    # -- records ------------------------------------------------------------------------------

    def records(
        self,
        table: str,
        *,
        agent: Rec.Wanted = None,
        task: Rec.Wanted = None,
        project: Rec.Wanted = None,
        kind: Rec.Wanted = None,
        start: Moment | None = None,
        end: Moment | None = None,
        limit: int | None = 100,
        offset: int = 0,
    ) -> pl.DataFrame:
        """Rows of a record table, newest first, `limit` rows from `offset`.

        The tables are `messages`, `conversations`, `decisions`, `tasks` and `system_events`.
        Each filter takes one value or a list. `kind` is a message's kind, a conversation's
        kind (`task` or `session`), a task's status and a system event's category; decisions
        have no project or kind. A limit over `max_result_size` is refused (page instead); None
        means `max_result_size`.
        """
        records = Rec.RECORDS.get(table)
        if records is None:
            raise UnknownName(f"no record table {table!r}: choose one of {', '.join(Rec.RECORDS)}")
        first, last = time_range(start, end)
        rows = self._bounded(limit)
        filters = {"agent": agent, "task": task, "project": project, "kind": kind}
        wanted = Rec.predicate(records, filters, first, last)
        key = (table, first, last, rows, offset, _hashable(filters))
        collect = self._collector()
        return self._cached(
            key,
            [records.table],
            lambda: collect(
                Rec.page(self.scan(records.table).filter(wanted), records, rows, offset)
            ),
        )

    messages = functools.partialmethod(records, "messages")
    """silver/messages: `records("messages", ...)`."""
    conversations = functools.partialmethod(records, "conversations")
    """silver/conversations by their context: `records("conversations", ...)`."""
    decisions = functools.partialmethod(records, "decisions")
    """silver/decisions: `records("decisions", ...)`."""
    tasks = functools.partialmethod(records, "tasks")
    """silver/tasks by last activity; `kind` is the status: `records("tasks", ...)`."""
    system_events = functools.partialmethod(records, "system_events")
    """silver/system_events, the audit trail; `kind` is the category."""

    # -- SQL and the catalogue ----------------------------------------------------------------

    def sql(
        self, query: str, params: Sequence[Any] | Mapping[str, Any] | None = None
    ) -> pl.DataFrame:
        """A read-only SELECT over the lake's tables (`silver_messages` or `"silver/messages"`).

        Values go in `params` (`?` or `$name` in the text), bound by DuckDB.
        """
        specs = sorted({SQL_NAMES[n] for n in Q.parse(query) if n in SQL_NAMES}, key=str)
        datasets = {
            name: (lambda spec=spec: self._dataset(spec)) for name, spec in SQL_NAMES.items()
        }
        key = ("sql", query, _hashable(params))
        return self._cached(
            key,
            specs,
            lambda: Q.run(
                self._database(),
                query,
                params,
                datasets,
                self.settings.max_result_size,
                self.settings.timeout_s,
            ),
        )

    def _database(self) -> Any:
        """This lake's DuckDB for SQL, opened at the first query."""
        with self._lock:
            if self._duck is None:
                self._duck = Q.database()
            return self._duck

    def tables(self) -> pl.DataFrame:
        """The catalogue: every table with its rows, bytes, files, version and last commit."""
        rows: list[tuple[Any, ...]] = []
        for spec in TABLES:
            table = self._delta(spec)
            if table is None:
                rows.append((spec.name, 0, 0, 0, None, None))
                continue
            actions = pl.DataFrame(table.get_add_actions(flatten=True))
            count = int(actions.get_column("num_records").sum()) if actions.height else 0
            size = int(actions.get_column("size_bytes").sum()) if actions.height else 0
            when = table.history(1)[0].get("timestamp")
            committed = datetime.fromtimestamp(when / 1000, UTC) if when else None
            rows.append((spec.name, count, size, actions.height, table.version(), committed))
        return pl.DataFrame(
            rows,
            schema={
                "table": pl.String, "rows": pl.Int64, "bytes": pl.Int64, "files": pl.Int64,
                "version": pl.Int64, "committed_at": pl.Datetime("us", "UTC"),
            },
            orient="row",
        )  # fmt: skip

    def table(self, name: str) -> TableSpec:
        """The table called `name` (`silver/messages` or `silver_messages`); UnknownName if none."""
        spec = SQL_NAMES.get(name)
        if spec is None:
            raise UnknownName(
                f"no table {name!r}: the tables are {', '.join(s.name for s in TABLES)}"
            )
        return spec


MTIME_SETTLE_NS = 2_000_000_000
"""A folder time this recent may not move for a commit within the file system's clock tick."""


def _settled(mtime_ns: int) -> int:
    """`mtime_ns` if it is old enough to stand for the folder's contents, else -1 (look again)."""
    return mtime_ns if time.time_ns() - mtime_ns > MTIME_SETTLE_NS else -1


def collector(timeout_s: float) -> Callable[[pl.LazyFrame], pl.DataFrame]:
    """A `collect` that cancels any query started through it once `timeout_s` has passed.

    The deadline is shared: several collects of one answer have `timeout_s` between them. The
    query runs in Polars' background mode; a thread waits for it, so the answer is taken the
    moment it is ready. The thread keeps the query's handle until the query has ended: Polars
    aborts the process if a query ends after its handle is gone.
    """
    deadline = time.monotonic() + timeout_s

    def collect(frame: pl.LazyFrame) -> pl.DataFrame:
        running = frame.collect(background=True)
        finished = threading.Event()
        outcome: dict[str, Any] = {}

        def wait() -> None:
            try:
                outcome["frame"] = running.fetch_blocking()
            except Exception as exc:
                outcome["error"] = exc
            finally:
                finished.set()

        threading.Thread(target=wait, name="seneca-query", daemon=True).start()
        if not finished.wait(max(deadline - time.monotonic(), 0)):
            running.cancel()
            raise QueryTimeout(
                f"the query ran over {timeout_s:g} s and was stopped: narrow it, or raise "
                "SENECA_QUERY_TIMEOUT_S"
            )
        if "error" in outcome:
            raise outcome["error"]
        return outcome["frame"]

    return collect


def _hashable(value: object) -> Hashable:
    """A cache-key form of filter values and SQL parameters."""
    if isinstance(value, Mapping):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    if isinstance(value, list | tuple | set):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, Hashable):
        return value
    raise QueryError(f"cannot use {value!r} as a query value")
