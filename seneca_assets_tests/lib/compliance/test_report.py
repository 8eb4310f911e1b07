"""The compliance report answers each audit question with the figures of the tables, each table
comes back when its query is run again through the SQL API, no secret is shown, a tampered audit
row is named, and an empty period or a lake without the tables says so."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from seneca_assets.cli import main
from seneca_assets.lib import audit_chain
from seneca_assets.lib.backup.tables import BACKUP_LOG
from seneca_assets.lib.catalog import TABLES
from seneca_assets.lib.compliance import QUESTIONS, Period, Report, build_report, markdown, write
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.model.tables import DECISIONS, SYSTEM_EVENTS
from seneca_assets.lib.query import Lake as QueryLake
from seneca_assets.lib.retention_log import RETENTION_LOG
from seneca_assets.lib.schemas import REDACTIONS
from seneca_assets_tests.lib.compliance.conftest import (
    EMAIL,
    SECRETS,
    Built,
    full_lake,  # noqa: F401
    own_lake,  # noqa: F401
)
from seneca_assets_tests.lib.query.conftest import START, built_lake  # noqa: F401


@pytest.fixture(scope="module")
def report(full_lake: Built) -> Report:  # noqa: F811
    return build_report(full_lake.root, full_lake.period)


def _sections(report: Report) -> dict:
    return {s.key: s for s in report.sections}


def _within(frame: pl.DataFrame, column: str, period: Period) -> pl.DataFrame:
    return frame.filter((pl.col(column) >= period.start) & (pl.col(column) < period.end))


def _evidence(section, caption_start: str) -> pl.DataFrame:
    (found,) = [e for e in section.evidence if e.caption.startswith(caption_start)]
    return found.frame


def test_the_audit_trail_and_decisions_have_the_figures_of_the_tables(
    full_lake: Built,  # noqa: F811
    report: Report,
):
    lake, period = Lake(full_lake.root), full_lake.period
    events = _within(lake.read(SYSTEM_EVENTS), "event_time", period)
    trail = _sections(report)["audit-trail"]
    assert trail.status == "answered"
    totals = _evidence(trail, "Totals").row(0, named=True)
    assert totals["events"] == events.height > 4000
    assert totals["actors"] == events.get_column("actor").drop_nulls().n_unique()
    assert totals["errors"] == events.filter(pl.col("category") == "error").height > 0
    denials = events.filter(pl.col("event_type") == "access_denied").height
    assert totals["denials"] == denials > 0
    assert f"{events.height:,} audit and server events" in trail.answer
    audited = events.filter(pl.col("category").is_in(["audit", "error"]))
    ranked = (
        audited.group_by("actor", "action", "category")
        .len()
        .sort(["len", "actor", "action", "category"], descending=[True, False, False, False],
              nulls_last=True)
    )  # fmt: skip
    top = _evidence(trail, "The 20 most frequent")
    assert top.height == 20
    assert top.select("actor", "action", "category", "events").rows() == ranked.head(20).rows()
    per_day = _evidence(trail, "Per day")
    assert per_day.get_column("events").sum() == events.height
    failures = _evidence(trail, "The 20 latest errors")
    latest = events.filter(
        (pl.col("category") == "error") | (pl.col("event_type") == "access_denied")
    ).sort("event_time", descending=True)
    assert failures.item(0, "event_time") == latest.item(0, "event_time")
    assert failures.item(0, "action") == "delete_project"  # the hand-written denial

    decisions = _within(lake.read(DECISIONS), "event_time", period)
    section = _sections(report)["decisions"]
    totals = _evidence(section, "Totals").row(0, named=True)
    placeholders = decisions.filter("confidence_is_placeholder")
    judged = decisions.filter(
        ~pl.col("confidence_is_placeholder") & pl.col("confidence").is_not_null()
    )
    assert totals["decisions"] == decisions.height > 60
    assert totals["placeholder_confidence"] == placeholders.height > 0
    assert totals["judged_confidence"] == judged.height > 0
    mean = round(judged.get_column("confidence").mean(), 3)  # type: ignore[arg-type]
    assert totals["mean_judged_confidence"] == pytest.approx(mean)
    assert f"Confidence: {placeholders.height:,} placeholders" in section.answer
    samples = _evidence(section, "The latest decision of each code path")
    assert samples.height == decisions.get_column("call_site_id").n_unique()
    assert samples.get_column("placeholder").sum() > 0, "placeholder confidences are flagged"


def test_redactions_retention_backups_chain_and_versions_are_answered(
    full_lake: Built,  # noqa: F811
    report: Report,
):
    lake, period = Lake(full_lake.root), full_lake.period
    sections = _sections(report)

    redactions = _within(lake.read(REDACTIONS), "redacted_at", period)
    by_kind = dict(redactions.group_by("kind").len().iter_rows())
    assert by_kind == {"openai_api_key": 1, "github_token": 1, "email": 3}
    section = sections["redactions"]
    shown = _evidence(section, "Redactions by kind")
    assert dict(shown.group_by("kind").agg(pl.col("redactions").sum()).iter_rows()) == by_kind
    assert set(shown.get_column("stream")) == {"audit", "conversations"}
    assert f"{redactions.height:,} secrets of 3 kinds" in section.answer

    (deletion,) = lake.read(RETENTION_LOG).iter_rows(named=True)
    section = sections["retention"]
    assert section.status == "answered"
    assert f"1 transaction: {deletion['rows']:,} rows deleted from silver/metrics" in section.answer
    (listed,) = _evidence(section, "Each transaction").iter_rows(named=True)
    assert (listed["version_before"], listed["version_after"]) == (
        deletion["version_before"],
        deletion["version_before"] + 1,
    )

    section = sections["backups"]
    assert section.status == "answered"
    assert "2 backups were made (1 full, 1 incremental); 2 were verified" in section.answer
    assert lake.read(BACKUP_LOG).height == 2

    section = sections["audit-chain"]
    assert section.status == "answered" and "intact" in section.answer
    assert audit_chain.head(lake) in section.answer
    chained = _evidence(section, "The period's audit rows").row(0, named=True)
    in_period = _within(lake.read(SYSTEM_EVENTS), "event_time", period).height
    assert chained == {"events": in_period, "chained": in_period, "not_chained": 0}

    section = sections["reproducibility"]
    assert "before-the-report (during" in section.answer
    # The report read each table at the version `as_of(built_at)` reads, as it says.
    then = QueryLake(full_lake.root).as_of(report.built_at)
    assert report.read == {t.name: then.version(t) for t in TABLES if then.version(t) >= 0}
    states = _evidence(section, "Every table")
    at = min(period.end, report.built_at)
    at_end = QueryLake(full_lake.root).as_of(at)
    for row in states.iter_rows(named=True):
        spec = at_end.table(row["table"])
        assert row["version"] == at_end.version(spec), row["table"]
        assert row["rows"] == at_end.scan(spec).select(pl.len()).collect().item()
        assert row["state"] == "readable"


def test_every_table_comes_back_from_its_query_through_the_sql_api(
    full_lake: Built,  # noqa: F811
    report: Report,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
):
    same_lake = QueryLake(full_lake.root).as_of(report.built_at)
    ran = 0
    for section in report.sections:
        for evidence in section.evidence:
            if evidence.language != "sql":
                continue
            again = same_lake.sql(evidence.query, list(evidence.params) or None)
            assert again.equals(evidence.frame), (section.key, evidence.caption)
            ran += 1
    assert ran >= 14
    # The JSON twin holds the same queries, parameters and rows.
    monkeypatch.setenv("SENECA_EXPORT_DIR", str(tmp_path))
    _, data = write(report, tmp_path)
    twin = json.loads(data.read_text())
    assert [s["answer"] for s in twin["sections"]] == [s.answer for s in report.sections]
    first = twin["sections"][0]["evidence"][1]  # the audit trail per day
    again = same_lake.sql(first["query"], first["params"])
    assert json.loads(again.write_json()) == first["rows"]
    # And `seneca sql` takes a query and its parameters as printed.
    assert main(["sql", first["query"], "--lake", str(full_lake.root), "--json",
                 *[arg for p in first["params"] for arg in ("--param", p)]]) == 0  # fmt: skip
    assert json.loads(capsys.readouterr().out) == first["rows"]


def test_no_secret_appears_in_the_report(full_lake: Built, report: Report, tmp_path: Path):  # noqa: F811
    logs = "".join(p.read_text() for p in full_lake.logs.rglob("*_20261105*.jsonl"))
    assert all(secret in logs for secret in SECRETS), "the secrets were in the logs"
    md, data = write(report, tmp_path)
    for text in (md.read_text(), data.read_text()):
        for secret in SECRETS:
            assert secret not in text
            assert json.dumps(secret)[1:-1] not in text
        assert "[REDACTED:email]" in text, "the redacted denial and rationale are shown redacted"
    assert EMAIL.split("@")[0] not in md.read_text()


def test_a_tampered_audit_row_makes_the_report_say_the_chain_is_broken_and_name_it(
    own_lake: Built,  # noqa: F811
):
    lake = Lake(own_lake.root)
    chain = lake.read(audit_chain.AUDIT_CHAIN).sort("seq")
    victim = str(chain.item(chain.height // 2, "event_id"))
    rows = lake.read(SYSTEM_EVENTS)
    edited = pl.when(pl.col("event_id") == victim).then(pl.lit("nothing happened"))
    lake.write(SYSTEM_EVENTS, rows.with_columns(error=edited.otherwise("error")), mode="overwrite")
    report = build_report(own_lake.root, own_lake.period)
    section = _sections(report)["audit-chain"]
    assert section.status == "attention" and report.attention == [section]
    assert f"BROKEN at audit row {victim}" in section.answer
    assert "the audit row was changed" in section.answer
    (named,) = _evidence(section, "The first row that breaks").iter_rows(named=True)
    assert named["event_id"] == victim
    assert named["seq"] == chain.filter(pl.col("event_id") == victim).item(0, "seq")
    assert f"BROKEN at audit row {victim}" in markdown(report)


def test_an_empty_period_and_a_lake_without_the_tables_say_so(
    full_lake: Built,  # noqa: F811
    tmp_path: Path,
):
    october = Period(START - timedelta(days=31), START)
    sections = _sections(build_report(full_lake.root, october))
    for key in ("audit-trail", "decisions", "redactions", "retention", "backups"):
        assert sections[key].status == "nothing", key
        assert "in this period" in sections[key].answer
        assert sections[key].evidence, "the query that found nothing is shown"
    assert "The period has no audit row." in sections["audit-chain"].answer
    assert "no table had been created yet" in sections["reproducibility"].answer

    (tmp_path / "lake").mkdir()
    empty = build_report(tmp_path / "lake", october)
    by_key = _sections(empty)
    assert not empty.failed
    for key in ("audit-trail", "decisions", "redactions", "retention", "backups", "audit-chain"):
        assert by_key[key].status == "missing", key
        assert "does not exist in the lake" in by_key[key].answer
    assert "does not exist" in markdown(empty)


def test_the_command_writes_both_files_and_refuses_a_reversed_period_or_an_outside_folder(
    full_lake: Built,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
):
    exports = tmp_path / "exports"
    monkeypatch.setenv("SENECA_EXPORT_DIR", str(exports))
    lake = ["--lake", str(full_lake.root)]
    assert main(["compliance-report", *lake, "--from", "2026-11-01", "--to", "2026-11-30",
                 "--out", "monthly"]) == 0  # fmt: skip
    written = capsys.readouterr().out.split()
    stem = exports / "monthly" / "compliance-2026-11-01-2026-11-30"
    assert written == [f"{stem}.md", f"{stem}.json"]
    twin = json.loads(Path(f"{stem}.json").read_text())
    assert twin["period"]["to"] == "2026-12-01T00:00:00+00:00"  # --to's whole day is included
    assert [s["key"] for s in twin["sections"]] == [
        "audit-trail", "decisions", "redactions", "retention", "backups", "audit-chain",
        "reproducibility",
    ]  # fmt: skip
    assert (
        Path(f"{stem}.md").read_text().startswith("# Compliance report, 2026-11-01 to 2026-11-30")
    )

    before = sorted(tmp_path.rglob("*"))
    reversed_period = ["--from", "2026-11-30", "--to", "2026-11-01", "--out", "again"]
    assert main(["compliance-report", *lake, *reversed_period]) == 2
    assert "--to 2026-11-01 is before --from 2026-11-30" in capsys.readouterr().err
    assert main(["compliance-report", *lake, "--out", "../outside"]) == 2
    assert "outside the export root" in capsys.readouterr().err
    assert main(["compliance-report", *lake, "--from", "2026-11-01"]) == 2
    assert "give both --from and --to" in capsys.readouterr().err
    assert sorted(tmp_path.rglob("*")) == before, "nothing was written"


def test_times_bound_the_period_exactly(full_lake: Built, report: Report):  # noqa: F811
    hour = START + timedelta(hours=5)
    narrow = build_report(full_lake.root, Period(hour, hour + timedelta(hours=1)))
    events = _within(Lake(full_lake.root).read(SYSTEM_EVENTS), "event_time",
                     Period(hour, hour + timedelta(hours=1)))  # fmt: skip
    totals = _evidence(_sections(narrow)["audit-trail"], "Totals").row(0, named=True)
    assert totals["events"] == events.height > 0
    assert narrow.period.stem == "compliance-20261101T050000Z-20261101T060000Z"
    assert narrow.built_at >= report.built_at
    assert datetime.now(UTC) >= narrow.built_at


def test_a_question_that_fails_is_reported_as_not_answered_and_the_rest_still_are(
    full_lake: Built,  # noqa: F811
):
    def boom(ctx):
        """Does the impossible hold?"""
        raise RuntimeError("the table could not be read")

    report = build_report(full_lake.root, full_lake.period, questions=(QUESTIONS[0], boom))
    answered, failed = report.sections
    assert answered.status == "answered" and report.failed == [failed]
    assert (failed.key, failed.status, failed.question) == (
        "boom",
        "failed",
        "Does the impossible hold?",
    )
    assert "RuntimeError: the table could not be read" in failed.answer
    assert "(NOT ANSWERED)" in markdown(report)


def test_audit_rows_retention_retired_are_counted_and_keep_the_chain_intact(
    own_lake: Built,  # noqa: F811
):
    lake = Lake(own_lake.root)
    rows = lake.read(SYSTEM_EVENTS)
    debug = rows.filter(pl.col("category") == "debug").head(10)
    audit_chain.retire(lake, debug, "debug events are kept 7 days", datetime.now(UTC))
    kept = rows.join(debug.select("event_id"), on="event_id", how="anti")
    lake.write(SYSTEM_EVENTS, kept, mode="overwrite")
    sections = _sections(build_report(own_lake.root, own_lake.period))
    trail = sections["audit-trail"]
    totals = _evidence(trail, "Totals").row(0, named=True)
    assert (totals["events"], totals["retired_since"]) == (kept.height, 10)
    assert "A further 10 events of the period have since been deleted by retention" in trail.answer
    assert sections["audit-chain"].status == "answered"
