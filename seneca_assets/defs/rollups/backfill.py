"""Parallel backfills of the rollups: one run, its range cut into chunks built by several processes.

`rollups_backfill` takes a grain and a range of its partitions (first and last key, both
included), cuts the range into consecutive chunks and builds each chunk in its own step. With
`processes` above 1 (`SENECA_PROCESSES`, default 1) the job runs on the multiprocess executor:
chunk steps run in spawned processes (deltalake cannot run in a forked child), at most
`processes` at once; with 1, every step runs in the run's own process. Every chunk step is in the
`seneca_gold` pool, whose limit bounds the rollup writers across all runs: it is 1 unless raised
(`dagster instance concurrency set seneca_gold N`).

Chunks of one grain write the same two tables, each chunk its own time range. Their commits race;
`Lake.write` re-runs a write that lost the race against the table's new version, so concurrent
chunks lose and duplicate no row. Each chunk records its partitions as materialized once its
rows are committed; a last step runs the grain's checks over the whole tables.
"""

import os
from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster_duckdb import DuckDBResource
from pydantic import Field

from seneca_assets.defs.partitions import BY_GRAIN
from seneca_assets.defs.resources import LakeResource
from seneca_assets.defs.rollups.assets import GOLD_POOL, check_results
from seneca_assets.defs.tables import table_key
from seneca_assets.lib.config import ConfigurationError
from seneca_assets.lib.gold_tables import TIERS
from seneca_assets.lib.rollup_build import build_range

PROCESSES_VARIABLE = "SENECA_PROCESSES"
MAX_PROCESSES = 64


def processes_from_env() -> int:
    """The process count of a backfill run: `SENECA_PROCESSES`, 1 if unset."""
    text = os.environ.get(PROCESSES_VARIABLE, "").strip() or "1"
    if not text.isdigit() or not 1 <= int(text) <= MAX_PROCESSES:
        raise ConfigurationError(
            f"{PROCESSES_VARIABLE}={text!r} is not a process count: set it to a whole number "
            f"from 1 to {MAX_PROCESSES} (the processes a rollup backfill may use)"
        )
    return int(text)


class BackfillConfig(dg.Config):
    """Which rollups to build, and in how many chunks."""

    grain: str = Field(default="daily", description="hourly, daily or monthly.")
    first: str = Field(description="The first partition key, e.g. 2026-11-01 (daily).")
    last: str = Field(description="The last partition key, included.")
    chunks: int = Field(
        default=0,
        ge=0,
        description="Consecutive ranges the partitions are cut into, each built by one step; "
        "0 for one per process of the run.",
    )


def partition_chunks(grain: str, first: str, last: str, chunks: int) -> list[list[str]]:
    """The partition keys from `first` to `last`, cut into at most `chunks` consecutive runs.

    The runs differ in length by one partition at most, longer ones first.
    """
    if grain not in BY_GRAIN:
        raise ConfigurationError(f"grain {grain!r} is not one of {', '.join(BY_GRAIN)}")
    keys = BY_GRAIN[grain].get_partition_keys_in_range(dg.PartitionKeyRange(first, last))
    if not keys:
        raise ConfigurationError(f"no {grain} partitions from {first} to {last}")
    count = min(max(chunks, 1), len(keys))
    size, extra = divmod(len(keys), count)
    cut, start = [], 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        cut.append(list(keys[start:end]))
        start = end
    return cut


def run_config(grain: str, first: str, last: str, processes: int | None = None) -> dict[str, Any]:
    """The run config of a backfill of `grain` from `first` to `last` (partition keys, included).

    Without `processes`, the run gets the executor's default (`SENECA_PROCESSES`, or 1).
    """
    config: dict[str, Any] = {
        "ops": {"rollup_chunks": {"config": {"grain": grain, "first": first, "last": last}}}
    }
    if processes is not None:
        config["execution"] = {"config": {"processes": processes}}
    return config


def _run_processes(context: dg.OpExecutionContext) -> int:
    """The `processes` this run's executor was given (its default if not given)."""
    run_config: dict[str, Any] = dict(context.run_config)
    given = run_config.get("execution", {}).get("config", {}).get("processes")
    return int(given or processes_from_env())


@dg.op(out=dg.DynamicOut(dict))
def rollup_chunks(
    context: dg.OpExecutionContext, config: BackfillConfig
) -> Iterator[dg.DynamicOutput[dict[str, Any]]]:
    """Cut the range of partitions into consecutive chunks, one step each."""
    chunks = config.chunks or _run_processes(context)
    cut = partition_chunks(config.grain, config.first, config.last, chunks)
    context.log.info(
        f"{sum(map(len, cut))} {config.grain} partitions in {len(cut)} chunks: "
        + ", ".join(f"{keys[0]}..{keys[-1]}" for keys in cut)
    )
    for index, keys in enumerate(cut):
        yield dg.DynamicOutput(
            {"grain": config.grain, "keys": keys}, mapping_key=f"chunk_{index:03d}"
        )


@dg.op(pool=GOLD_POOL)
def rollup_chunk(
    context: dg.OpExecutionContext, lake: LakeResource, chunk: dict[str, Any]
) -> Iterator[dg.AssetMaterialization | dg.Output[dict[str, Any]]]:
    """Build one chunk's rollups (one commit per table), then record its partitions."""
    grain, keys = chunk["grain"], chunk["keys"]
    partitions = BY_GRAIN[grain]
    start = partitions.time_window_for_partition_key(keys[0]).start
    end = partitions.time_window_for_partition_key(keys[-1]).end
    store = lake.lake()
    written = build_range(store, grain, start, end)
    context.log.info(f"{grain} rollups of {start} .. {end} (pid {os.getpid()}): {written}")
    for table in TIERS[grain]:
        for key in keys:
            yield dg.AssetMaterialization(
                asset_key=table_key(table),
                partition=key,
                metadata={
                    "dagster/uri": store.uri(table),
                    "chunk": f"{start.isoformat()} .. {end.isoformat()}",
                    "chunk_rows_written": written[table.name],
                },
            )
    yield dg.Output({"grain": grain, "keys": keys, "written": written, "pid": os.getpid()})


@dg.op(out={})
def rollup_backfill_checks(
    context: dg.OpExecutionContext,
    lake: LakeResource,
    duckdb: DuckDBResource,
    built: list[dict[str, Any]],
) -> Iterator[dg.AssetCheckEvaluation]:
    """Run the grain's checks once every chunk is in."""
    (grain,) = {chunk["grain"] for chunk in built}
    rows = {
        table.name: sum(chunk["written"][table.name] for chunk in built) for table in TIERS[grain]
    }
    context.log.info(f"{len(built)} chunks of {grain} rollups built: {rows}")
    for result in check_results(grain, lake.lake(), duckdb):
        yield dg.AssetCheckEvaluation(
            asset_key=result.asset_key,  # type: ignore[arg-type]  # every check names its asset
            check_name=result.check_name,  # type: ignore[arg-type]
            passed=result.passed,
            metadata=result.metadata,
        )


def _executor_config(config: dict[str, Any]) -> dict[str, Any]:
    """One process: the steps run in the run's own; more: spawned ones, `processes` at once."""
    processes = config["processes"]
    if not 1 <= processes <= MAX_PROCESSES:
        raise ConfigurationError(f"processes must be 1 to {MAX_PROCESSES}, not {processes}")
    if processes == 1:
        return {"in_process": {}}
    return {"multiprocess": {"max_concurrent": processes, "start_method": {"spawn": {}}}}


PARALLEL_EXECUTOR = dg.multi_or_in_process_executor.configured(
    _executor_config,
    name="chunks_in_processes",
    config_schema={
        "processes": dg.Field(
            int,
            default_value=processes_from_env(),
            description="Chunk steps run at once, each in its own spawned process; with 1, every "
            f"step runs in the run's process (default {PROCESSES_VARIABLE}, or 1).",
        )
    },
    description="Dagster's default executor: in process for 1 process, else the multiprocess "
    "executor, spawning its processes (deltalake cannot run in a forked child).",
)


@dg.job(
    executor_def=PARALLEL_EXECUTOR,
    description="Build the rollups of a range of partitions in chunks, on several processes.",
)
def rollups_backfill() -> None:
    """Chunks of the range, built in parallel steps, then the grain's checks."""
    rollup_backfill_checks(rollup_chunks().map(rollup_chunk).collect())
