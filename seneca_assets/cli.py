"""The `seneca` command: the same Dagster code path as the UI, run in-process."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from seneca_assets.lib.config import ConfigurationError, IngestSettings, ModelSettings
from seneca_assets.lib.export import ExportPathError
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.query.errors import QueryError

EXIT_CONFIG = 2
EXIT_RUN_FAILED = 1


def _settings(args: argparse.Namespace) -> IngestSettings:
    """Settings from the command line and environment, checked; sets the environment for Dagster."""
    settings = IngestSettings.from_env(args.logs, args.lake).validated()
    ModelSettings.from_env()
    lake = Lake(settings.lake_dir)
    lake.ensure_writable()
    os.environ["SENECA_LOG_DIR"] = str(settings.log_dir.resolve())
    os.environ["SENECA_LAKE_DIR"] = lake.location
    return settings


def _execute(job_name: str, tags: dict[str, str] | None = None) -> Any:
    """Run a job of the code location in this process, on the configured instance."""
    import dagster as dg

    from seneca_assets.definitions import defs

    job = defs().resolve_job_def(job_name)
    instance = (
        dg.DagsterInstance.get()
        if os.environ.get("DAGSTER_HOME")
        else dg.DagsterInstance.ephemeral()
    )
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    return job.execute_in_process(
        instance=instance, raise_on_error=False, run_config=quiet, tags=tags
    )


def _metadata_text(metadata: dict[str, Any]) -> str:
    return ", ".join(f"{key}={getattr(value, 'value', value)}" for key, value in metadata.items())


def _print_run(result: Any) -> int:
    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION":
            materialization = event.event_specific_data.materialization
            built = materialization.metadata.get("silver_build")
            if built is not None:
                print(built.value)
            added = materialization.metadata.get("added")
            if added is not None:
                print(f"search index: {added.value:,} documents added")
            rows = materialization.metadata.get("dagster/row_count")
            key = materialization.asset_key.to_user_string()
            if rows is not None and key.startswith(("gold/", "ops/dq", "ops/audit")):
                print(f"{key}: {rows.value:,} rows")
            run = materialization.metadata.get("run")
            if run is not None:
                counts = run.value
                print(
                    f"stored {counts['events_stored']:,} events, quarantined "
                    f"{counts['quarantined']:,} lines, skipped {counts['duplicates_skipped']:,} "
                    f"duplicates, redacted {counts['redactions']:,} secrets; read "
                    f"{counts['lines_read']:,} lines from {counts['files_read']:,} of "
                    f"{counts['files_seen']:,} files"
                )
                if counts["files_unreadable"]:
                    print(
                        f"warning: {counts['files_unreadable']:,} files could not be read; "
                        "they are retried on the next run"
                    )
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed:
                level = "warning" if evaluation.severity.value == "WARN" else "error"
                print(
                    f"{level}: check {evaluation.check_name} on "
                    f"{evaluation.asset_key.to_user_string()} did not pass "
                    f"({_metadata_text(evaluation.metadata)})"
                )
    if not result.success:
        failure = next((e for e in result.all_events if e.is_failure), None)
        message = failure.message if failure is not None else "the run failed"
        print(f"error: {message}", file=sys.stderr)
        return EXIT_RUN_FAILED
    return 0


def _cmd_ingest(args: argparse.Namespace) -> int:
    _settings(args)
    return _print_run(_execute("ingest"))


def _cmd_run(args: argparse.Namespace) -> int:
    _settings(args)
    for job in ("ingest", "silver", "search"):
        failed = _print_run(_execute(job))
        if failed:
            return failed
    return _build_the_rest()


def _build_the_rest() -> int:
    """Build the stale rollups, then the analytics, data-quality checks and audit chain.

    The rollups: the hours first, then the closed days and months they are in: one run per range of
    consecutive partitions.
    """
    from datetime import UTC, datetime

    from seneca_assets.defs.resources import LakeResource
    from seneca_assets.defs.rollups.automation import closed_ranges, hour_ranges, range_tags

    now = datetime.now(UTC)
    hours = hour_ranges(LakeResource(), now)
    plan = {
        "hourly": hours,
        "daily": closed_ranges(hours, "daily", now),
        "monthly": closed_ranges(hours, "monthly", now),
    }
    for grain, ranges in plan.items():
        for first, last in ranges:
            failed = _print_run(_execute(f"{grain}_rollups", tags=range_tags(first, last)))
            if failed:
                return failed
    built = ", ".join(f"{len(ranges)} {grain} range(s)" for grain, ranges in plan.items())
    print(f"rollups built: {built}")
    for job in ("analytics", "quality", "audit"):
        failed = _print_run(_execute(job))
        if failed:
            return failed
    return 0


def _cmd_demo_logs(args: argparse.Namespace) -> int:
    from seneca_assets.lib.simulate import simulate_deployment

    truth = simulate_deployment(Path(args.dir), days=args.days, agents=args.agents, seed=args.seed)
    print(
        f"wrote {sum(truth.files.values()):,} lines in {len(truth.files):,} files "
        f"({truth.bytes_written:,} bytes) for {len(truth.tasks):,} tasks to {args.dir}"
    )
    return 0


def _cmd_quarantine(args: argparse.Namespace) -> int:
    from seneca_assets.lib.quarantine import quarantined, replay

    settings = IngestSettings.from_env(args.logs, args.lake)
    if args.action == "list":
        rows = quarantined(Lake(settings.lake_dir), limit=args.limit)
        for source, line, reason, _, text in rows.iter_rows():
            print(f"{source}:{line}: {reason}\n    {text[:120]}")
        print(f"{rows.height:,} quarantined line(s) shown")
        return 0
    report = replay(settings)
    print(
        f"replayed {report.examined:,} quarantined lines: {report.moved:,} now pass "
        f"({report.stored:,} stored as new events), {report.still_quarantined:,} still quarantined"
    )
    return 0


def _cmd_docs(args: argparse.Namespace) -> int:
    from seneca_assets.lib.catalog import metrics_markdown, tables_markdown

    folder = Path(args.dir)
    for name, text in (("TABLES.md", tables_markdown()), ("METRICS.md", metrics_markdown())):
        (folder / name).write_text(text, encoding="utf-8")
        print(f"wrote {folder / name}")
    return 0


def _query_lake(args: argparse.Namespace) -> Any:
    from seneca_assets.lib.config import QuerySettings
    from seneca_assets.lib.query import Lake as QueryLake

    where = str(args.lake or os.environ.get("SENECA_LAKE_DIR") or "data/lake")
    if "://" not in where and not Path(where).is_dir():
        raise ConfigurationError(
            f"lake folder {where} does not exist: point --lake or SENECA_LAKE_DIR at a lake "
            "(`seneca run` builds one)"
        )
    return QueryLake(where, QuerySettings.from_env())


def _show(frame: Any, as_json: bool) -> int:
    from seneca_assets.lib.query.render import as_json as json_text
    from seneca_assets.lib.query.render import as_text

    print(json_text(frame) if as_json else as_text(frame))
    return 0


def _cmd_query(args: argparse.Namespace) -> int:
    import warnings

    lake = _query_lake(args)
    if args.what == "metrics":
        tags = dict(_pair(text) for text in args.tag)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            frame = lake.metrics(
                args.name, args.start, args.end, tags=tags, resolution=args.resolution,
                aggregates=args.agg.split(","), by_tags=args.by_tags,
            )  # fmt: skip
        for warning in caught:
            print(f"note: {warning.message}", file=sys.stderr)
        return _show(frame, args.json)
    frame = lake.records(
        args.what.replace("-", "_"), agent=args.agent, task=args.task, project=args.project,
        kind=args.kind, start=args.start, end=args.end, limit=args.limit, offset=args.offset,
    )  # fmt: skip
    return _show(frame, args.json)


def _pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"--tag takes KEY=VALUE, not {text!r}")
    return key, value


def _cmd_sql(args: argparse.Namespace) -> int:
    lake = _query_lake(args)
    if args.as_of:
        lake = lake.as_of(args.as_of)
    return _show(lake.sql(args.query, args.param or None), args.json)


def _cmd_search(args: argparse.Namespace) -> int:
    from seneca_assets.lib.search import semantic
    from seneca_assets.lib.search.query import search

    root = _query_lake(args).location
    if args.tier == "warm":
        from seneca_assets.lib.query.times import time_range
        from seneca_assets.lib.search.warm import search_warm

        first, last = time_range(args.start, args.end)
        found = search_warm(
            Lake(root), args.text or "", agent=args.agent, start=first, end=last,
            limit=args.limit, offset=args.offset,
        )  # fmt: skip
        if not args.json:
            found = found.select("score", "source", "time", "agent", "kind", "snippet")
        return _show(found, args.json)
    if args.like or args.meaning:
        if args.like:
            near = semantic.like(Lake(root), args.like, limit=args.limit)
        else:
            near = semantic.meaning(Lake(root), args.text or "", limit=args.limit)
        columns = ["score", "source", "id", "time", "agent", "kind", "text"]
        return _show(near.select(columns if args.json else columns[:2] + columns[3:]), args.json)
    found = search(
        Lake(root).root, args.text, sources=args.source, agent=args.agent, kind=args.kind,
        start=args.start, end=args.end, limit=args.limit, offset=args.offset,
    )  # fmt: skip
    if not args.json:
        found = found.select("score", "source", "time", "agent", "kind", "snippet")
    return _show(found, args.json)


def _cmd_export(args: argparse.Namespace) -> int:
    import json
    from dataclasses import asdict

    from seneca_assets.lib.export import export

    def progress(done: int, total: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        bar = "#" * filled + "." * (width - filled)
        print(f"\r[{bar}] {done:,}/{total:,} rows", end="", file=sys.stderr, flush=True)

    manifest = export(
        _query_lake(args).location, args.table, args.format, args.out, since=args.since,
        until=args.until, incremental=args.incremental,
        progress=progress if sys.stderr.isatty() and not args.json else None,
    )  # fmt: skip
    if args.json:
        print(json.dumps(asdict(manifest)))
    else:
        if sys.stderr.isatty():
            print(file=sys.stderr)
        since = f" since v{manifest.from_version}" if manifest.from_version is not None else ""
        print(
            f"exported {manifest.rows:,} rows of {manifest.table} v{manifest.delta_version}{since} "
            f"to {Path(args.out) / manifest.file} (sha256 {manifest.sha256[:12]}…; manifest beside)"
        )
    return 0


def _cmd_tables(args: argparse.Namespace) -> int:
    return _show(_query_lake(args).tables(), args.json)


def _cmd_quality(args: argparse.Namespace) -> int:
    import polars as pl

    from seneca_assets.lib.quality.tables import DQ_FINDINGS
    from seneca_assets.lib.query.times import moment

    lake = Lake(_query_lake(args).location)
    if not lake.exists(DQ_FINDINGS):
        raise ConfigurationError(
            "the lake has no data-quality findings yet: `seneca run` checks it"
        )
    table = lake.read(DQ_FINDINGS)
    if args.since:
        since = moment(args.since)
        table = table.filter(pl.coalesce("window_end", "window_start").fill_null(since) >= since)
    if args.json:
        return _show(table, as_json=True)
    if table.is_empty():
        print("no findings")
        return 0
    for row in table.iter_rows(named=True):
        where = f" ({row['stream']})" if row["stream"] else ""
        print(f"{row['severity']:7} {row['check']}{where}: {row['subject']}")
        print(f"        observed: {row['observed']}")
        print(f"        expected: {row['expected']}")
        if row["evidence"]:
            print(f"        first evidence: event {row['evidence'][0]}")
    return 0


def _cmd_backup(args: argparse.Namespace) -> int:
    from seneca_assets.lib.backup import service
    from seneca_assets.lib.backup.seal import BackupError

    try:
        if args.at and args.action not in ("verify", "restore"):
            raise BackupError("--at chooses the backup to verify or restore")
        at = service.moment(args.at) if args.at else None
        chosen = {"backup_id": args.id, "at": at, "use_offsite": args.offsite}
        if args.action == "create":
            made = service.create(Lake(_query_lake(args).location), args.kind)
            size = sum(f.size for f in made.files)
            far = service.offsite()
            print(f"backup {made.id}: {len(made.versions)} tables, {len(made.files):,} files, "
                  f"{size:,} bytes{f'; copied to {far.label}' if far else ''}")  # fmt: skip
        elif args.action == "list":
            return _show(service.listing(args.offsite), args.json)
        elif args.action == "prune":
            gone, swept = service.prune(with_offsite=False)
            print(f"{len(gone)} backup(s) and {swept:,} sealed file(s) deleted by retention")
            pruned = service.prune_offsite()
            if pruned is not None:
                print(f"off-site: {len(pruned[0])} backup(s) and {pruned[1]:,} sealed file(s) "
                      "deleted by retention")  # fmt: skip
        elif args.action == "verify":
            checked = service.verify(**chosen)
            for problem in checked.problems:
                print(f"problem: {problem}", file=sys.stderr)
            print(f"backup {checked.backup}: {checked.files:,} files restored and "
                  f"{'verified' if checked.ok else 'NOT verified'}")  # fmt: skip
            return 0 if checked.ok else 1
        elif args.in_place and args.to:
            raise BackupError("restore goes --to a folder or --in-place, not both")
        elif args.in_place:
            done = service.restore_in_place(Lake(_query_lake(args).location), **chosen)
            print("\n".join(done.lines()))
        elif not args.to:
            raise BackupError(
                "restore needs --to DIR (a folder under $SENECA_RESTORE_DIR) or --in-place"
            )
        else:
            target, checked = service.restore(args.to, force=args.force, **chosen)
            print(f"backup {checked.backup} restored into {target} and verified")
    except (BackupError, ExportPathError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    return 0


def _cmd_snapshot(args: argparse.Namespace) -> int:
    import polars as pl

    from seneca_assets.lib import snapshots
    from seneca_assets.lib.schemas import SNAPSHOTS

    lake = Lake(_query_lake(args).location)
    try:
        if args.action == "take":
            taken = snapshots.take(lake, args.name or "")
            print(f"snapshot {args.name!r}: {len(taken)} tables")
        elif args.action == "list":
            listed = (
                lake.read(SNAPSHOTS)
                .group_by("name")
                .agg(pl.col("taken_at").first(), tables=pl.len())
            )
            return _show(listed.sort("taken_at"), args.json)
        else:
            done = snapshots.restore(lake, args.name or "", args.table or None)
            for table, (before, to) in sorted(done.items()):
                print(f"{table}: version {before} restored to {to} (as a new version)")
            print(f"{len(done)} table(s) restored to snapshot {args.name!r}")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    return 0


def _cmd_hold(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from seneca_assets.lib import holds

    lake = Lake(_query_lake(args).location)
    try:
        if args.action == "place":
            if not (args.kind and args.subject and args.reason):
                raise holds.HoldError("place needs a subject, --kind and --reason")
            hold = holds.place(lake, args.kind, args.subject, args.reason, datetime.now(UTC))
            print(f"hold {hold} placed on {args.kind} {args.subject}")
        elif args.action == "release":
            holds.release(lake, args.subject or "", datetime.now(UTC))
            print(f"hold {args.subject} released")
        else:
            return _show(lake.read(holds.LEGAL_HOLDS), args.json)  # empty before any hold
    except holds.HoldError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    return 0


def _cmd_retention(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    import polars as pl

    from seneca_assets.lib import retention, tiering

    lake = Lake(_query_lake(args).location)
    if args.action == "policies":
        from seneca_assets.lib.catalog import TABLES

        rows = [
            {"class": p.data_class, "table": p.table.name,
             "keep_days": p.keep.days if p.keep else None,
             "rows": f"{p.where[0]} = {p.where[1]}" if p.where else "all",
             "guarded_by": ", ".join(p.source_of) or None}
            for p in retention.declared(TABLES)
        ]  # fmt: skip
        return _show(pl.DataFrame(rows), args.json)
    now = datetime.now(UTC)
    flagged = tiering.flag_anomalies(lake, now)
    done = pl.concat([retention.apply(lake, now), tiering.move(lake, now)])
    print(retention.retention_summary(done, flagged))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from seneca_assets.lib.export import confined, export_root
    from seneca_assets.lib.report import write_report

    try:  # before anything else: a refused folder gets nothing written
        folder = confined(export_root(), args.out)
    except ExportPathError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    report = write_report(Lake(_query_lake(args).location), folder)
    for name, error in report.failed:
        print(f"warning: section {name} could not be built ({error})", file=sys.stderr)
    print(report.path)
    return 0


def _cmd_compliance_report(args: argparse.Namespace) -> int:
    from seneca_assets.lib.compliance import build_report, period_between, write
    from seneca_assets.lib.export import confined, export_root

    try:  # before anything else: a refused folder or period gets nothing written
        folder = confined(export_root(), args.out)
        period = period_between(args.start, args.end)
    except QueryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    report = build_report(_query_lake(args).location, period)
    written = write(report, folder)
    for section in report.attention:
        print(f"attention: {section.title}: {section.answer}", file=sys.stderr)
    for section in report.failed:
        print(f"warning: {section.title}: {section.answer}", file=sys.stderr)
    print("\n".join(str(path) for path in written))
    return EXIT_RUN_FAILED if report.failed else 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="seneca", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    def with_dirs(sub: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sub.add_argument(
            "--logs", help="Marcus log folder (default: $SENECA_LOG_DIR or data/marcus_logs)"
        )
        sub.add_argument("--lake", help="lake folder (default: $SENECA_LAKE_DIR or data/lake)")
        return sub

    with_dirs(commands.add_parser("ingest", help="ingest new log lines into bronze")).set_defaults(
        func=_cmd_ingest
    )
    with_dirs(commands.add_parser("run", help="materialize the whole asset graph")).set_defaults(
        func=_cmd_run
    )
    demo = commands.add_parser("demo-logs", help="write realistic Marcus logs")
    demo.add_argument("dir")
    demo.add_argument("--days", type=int, default=7)
    demo.add_argument("--agents", type=int, default=4)
    demo.add_argument("--seed", type=int, default=0)
    demo.set_defaults(func=_cmd_demo_logs)
    quarantine = with_dirs(commands.add_parser("quarantine", help="inspect or replay bad lines"))
    quarantine.add_argument("action", choices=["list", "replay"])
    quarantine.add_argument("--limit", type=int, default=50)
    quarantine.set_defaults(func=_cmd_quarantine)
    docs = commands.add_parser(
        "docs", help="write the table catalogue and the metric list generated from the code"
    )
    docs.add_argument("--dir", default="docs", help="folder of TABLES.md and METRICS.md")
    docs.set_defaults(func=_cmd_docs)
    _query_parsers(commands)
    return parser


def _query_parsers(commands: Any) -> None:
    """`seneca query`, `seneca sql` and `seneca tables`."""
    from seneca_assets.lib.query.metrics import DEFAULT_AGGREGATES, RESOLUTIONS
    from seneca_assets.lib.query.records import RECORDS

    def common(sub: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sub.add_argument("--lake", help="lake folder (default: $SENECA_LAKE_DIR or data/lake)")
        sub.add_argument("--json", action="store_true", help="JSON rows instead of a table")
        return sub

    def paged(sub: argparse.ArgumentParser, limit: int) -> argparse.ArgumentParser:
        """A time range and paging."""
        sub.add_argument("--start", help="ISO time or e.g. 24h, 7d")
        sub.add_argument("--end", help="ISO time or now")
        sub.add_argument("--limit", type=int, default=limit)
        sub.add_argument("--offset", type=int, default=0)
        return sub

    query = commands.add_parser("query", help="metrics and records from the lake")
    kinds = query.add_subparsers(dest="what", required=True)
    metrics = common(kinds.add_parser("metrics", help="one metric over a time range"))
    metrics.add_argument("name")
    metrics.add_argument("--start", default="24h", help="ISO time or e.g. 24h, 7d (default 24h)")
    metrics.add_argument("--end", help="ISO time or now (default now)")
    metrics.add_argument("--resolution", default="auto", choices=["auto", *RESOLUTIONS])
    metrics.add_argument("--tag", action="append", default=[], help="KEY=VALUE (repeatable)")
    metrics.add_argument("--agg", default=",".join(DEFAULT_AGGREGATES), help="comma-separated")
    metrics.add_argument("--by-tags", action="store_true", help="one row per tag set")
    metrics.set_defaults(func=_cmd_query)
    for table in RECORDS:
        records = common(kinds.add_parser(table.replace("_", "-"), help=f"silver/{table}"))
        for field in ("agent", "task", "project", "kind"):
            records.add_argument(f"--{field}", action="append", help="repeatable")
        paged(records, limit=20).set_defaults(func=_cmd_query)
    sql = common(commands.add_parser("sql", help="a read-only SELECT over the lake's tables"))
    sql.add_argument("query", help='e.g. "SELECT kind, count(*) FROM silver_messages GROUP BY 1"')
    sql.add_argument("--param", action="append", help="a value for each ? in order")
    sql.add_argument(
        "--as-of", metavar="TIME|SNAPSHOT",
        help="read every table as it was at TIME (ISO-8601) or in the named snapshot",
    )  # fmt: skip
    sql.set_defaults(func=_cmd_sql)
    search = common(commands.add_parser("search", help="full-text search of what agents wrote"))
    search.add_argument("text", nargs="?", default="", help='words, "a phrase", a prefix*, an id')
    search.add_argument("--meaning", action="store_true", help="by meaning (semantic model)")
    search.add_argument("--like", metavar="ID", help="texts like the record with this id")
    search.add_argument("--source", action="append", help="messages, decisions, system_events")
    search.add_argument("--agent")
    search.add_argument("--kind")
    search.add_argument(
        "--tier", choices=["hot", "warm"], default="hot",
        help="hot: the full-text index (default); warm: conversations moved out of silver",
    )  # fmt: skip
    paged(search, limit=10).set_defaults(func=_cmd_search)
    export = common(commands.add_parser("export", help="a table to csv, parquet or jsonl"))
    export.add_argument("table", help="e.g. silver/messages or silver_messages")
    export.add_argument("--format", required=True, choices=["csv", "parquet", "jsonl"])
    export.add_argument("--out", required=True, help="folder under $SENECA_EXPORT_DIR")
    export.add_argument("--since", help="ISO time or e.g. 7d")
    export.add_argument("--until", help="ISO time or now")
    export.add_argument(
        "--incremental", action="store_true", help="only what changed since the last export here"
    )
    export.set_defaults(func=_cmd_export)
    tables = common(commands.add_parser("tables", help="the catalogue: rows, size, version"))
    tables.set_defaults(func=_cmd_tables)
    quality = common(commands.add_parser("quality", help="what is wrong with what Marcus wrote"))
    quality.add_argument(
        "--since", help="findings reaching past this time (ISO, or e.g. 7d), and those of now"
    )
    quality.set_defaults(func=_cmd_quality)
    backup = common(commands.add_parser("backup", help="encrypted, verified lake backups"))
    backup.add_argument("action", choices=["create", "list", "verify", "restore", "prune"])
    backup.add_argument("id", nargs="?", help="a backup id (default: the newest)")
    backup.add_argument("--kind", default="full", choices=["full", "differential", "incremental"])
    backup.add_argument("--to", help="restore: a folder under $SENECA_RESTORE_DIR")
    backup.add_argument("--force", action="store_true", help="restore over a folder's contents")
    backup.add_argument(
        "--in-place", action="store_true",
        help="restore: return the live lake to the backup (a snapshot of it is taken first)",
    )  # fmt: skip
    backup.add_argument(
        "--at", metavar="TIME",
        help="verify, restore: the newest backup made at or before TIME (ISO-8601; UTC if no zone)",
    )  # fmt: skip
    backup.add_argument(
        "--offsite", action="store_true",
        help="list, verify, restore: the off-site copy at $SENECA_OFFSITE_URL",
    )  # fmt: skip
    backup.set_defaults(func=_cmd_backup)
    snapshot = common(commands.add_parser("snapshot", help="named consistent cuts of the lake"))
    snapshot.add_argument("action", choices=["take", "list", "restore"])
    snapshot.add_argument("name", nargs="?", help="the snapshot's name (take, restore)")
    snapshot.add_argument("--table", action="append", help="restore: only this table")
    snapshot.set_defaults(func=_cmd_snapshot)
    hold = common(commands.add_parser("hold", help="legal holds: data retention never deletes"))
    hold.add_argument("action", choices=["place", "release", "list"])
    hold.add_argument("subject", nargs="?", help="place: the held id; release: the hold's id")
    hold.add_argument("--kind", choices=["conversation", "task", "agent", "project"])
    hold.add_argument("--reason", help="place: why (a matter, a request)")
    hold.set_defaults(func=_cmd_hold)
    kept = common(commands.add_parser("retention", help="apply or list the retention policies"))
    kept.add_argument("action", choices=["run", "policies"])
    kept.set_defaults(func=_cmd_retention)
    report = commands.add_parser(
        "report", help="a static HTML page of the analytics, with plots of the main series"
    )
    report.add_argument("--lake", help="lake folder (default: $SENECA_LAKE_DIR or data/lake)")
    report.add_argument(
        "--out", default="report", help="folder under $SENECA_EXPORT_DIR (default: report)"
    )
    report.set_defaults(func=_cmd_report)
    compliance = commands.add_parser(
        "compliance-report",
        help="the audit questions answered for a period, each with its query (Markdown, JSON)",
    )
    compliance.add_argument("--lake", help="lake folder (default: $SENECA_LAKE_DIR or data/lake)")
    compliance.add_argument(
        "--from",
        dest="start",
        metavar="DAY|TIME",
        help="first day or ISO time, UTC (default: last month's first)",
    )
    compliance.add_argument(
        "--to",
        dest="end",
        metavar="DAY|TIME",
        help="last day (included) or ISO time (excluded), UTC (default: last month's last)",
    )
    compliance.add_argument(
        "--out", default="compliance", help="folder under $SENECA_EXPORT_DIR (default: compliance)"
    )
    compliance.set_defaults(func=_cmd_compliance_report)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `seneca` command."""
    args = _parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigurationError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except (QueryError, argparse.ArgumentTypeError) as exc:
        print(f"query error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except BrokenPipeError:  # the reader (e.g. `head`) stopped reading: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
