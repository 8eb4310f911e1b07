"""A lake with everything a compliance report asks about, built from logs as Seneca builds it.

The simulated deployment (November 2026), plus hand-written lines carrying secrets (redacted at
ingestion), a retention deletion logged as retention logs it, two logged backups (one verified),
a snapshot, and the audit chain extended over all of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from seneca_assets.lib import audit_chain, snapshots
from seneca_assets.lib.backup.tables import BACKUP_LOG
from seneca_assets.lib.compliance import Period
from seneca_assets.lib.lake import time_literal
from seneca_assets.lib.model.tables import METRICS
from seneca_assets.lib.retention_log import RETENTION_LOG
from seneca_assets_tests.conftest import copy_tree
from seneca_assets_tests.lib.model.pipeline import run_pipeline, write_logs
from seneca_assets_tests.lib.query.conftest import START, built_lake  # noqa: F401

OPENAI_KEY = "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAB7cD"
GITHUB_TOKEN = "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
EMAIL = "alice.auditor@example.com"
SECRETS = (OPENAI_KEY, GITHUB_TOKEN, EMAIL, "bob.owner@example.org")
"""Every secret written into the logs: none may reach the lake or a report."""
DAY5 = START + timedelta(days=4)
"""The hand-written lines are from 2026-11-05, after the simulated days."""
DELETED_BEFORE = START + timedelta(days=1)


def _stamp(hours: float) -> str:
    return (DAY5 + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


SECRET_LINES = {
    "data/audit_logs/audit_20261105.jsonl": [
        {"timestamp": _stamp(9), "event_type": "tool_call", "client_id": "agent-7",
         "client_type": "agent", "tool_name": "configure_integration", "success": True,
         "details": {"arguments": {"api_key": OPENAI_KEY, "repo_token": GITHUB_TOKEN}}},
        {"timestamp": _stamp(9.5), "event_type": "access_denied", "client_id": "agent-7",
         "client_type": "agent", "tool_name": "delete_project", "success": False,
         "details": {"reason": f"not allowed for {EMAIL}"},
         "error": f"Tool 'delete_project' not allowed for {EMAIL}"},
    ],
    "logs/conversations/conversations_20261105_090000.jsonl": [
        {"conversation_type": "decision", "decision": "Assign task 'Rotate keys' to agent-7",
         "rationale": "Asked by bob.owner@example.org, who holds the old key",
         "alternatives_considered": [], "confidence_score": 0.42,
         "decision_factors": {"agent_id": "agent-7"}, "timestamp": _stamp(10),
         "event": "pm_decision", "logger": "marcus", "level": "info"},
    ],
}  # fmt: skip


@dataclass(frozen=True)
class Built:
    """The lake and the period that covers everything in it."""

    root: Path
    logs: Path
    period: Period


def whole_period() -> Period:
    """From the simulated start (or today, if earlier) to tomorrow's midnight (or later)."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return Period(min(START, today), max(today, DAY5) + timedelta(days=1))


def build(root: Path) -> Built:
    """Add the secret lines, ingest and model them, delete and log, back up, snapshot, chain."""
    logs = root / "logs"
    write_logs(logs, SECRET_LINES)
    lake = run_pipeline(logs, root / "lake")
    before = lake.table(METRICS).version()
    predicate = f"timestamp < {time_literal(DELETED_BEFORE)}"
    deleted = lake.delete(METRICS, predicate)
    assert deleted > 0
    now = datetime.now(UTC)
    log = {
        "table": METRICS.name, "predicate": predicate, "rows": deleted,
        "version_before": before, "version_after": lake.table(METRICS).version(),
        "boundary": DELETED_BEFORE, "at": now, "reason": "raw points past 30 days",
    }  # fmt: skip
    lake.write(RETENTION_LOG, pl.DataFrame([log], schema=RETENTION_LOG.schema))
    backups = [
        {"backup_id": "20261105T020000Z-full", "kind": "full", "parent": None,
         "created_at": DAY5 + timedelta(hours=2), "tables": 14, "files": 60, "bytes": 123_456,
         "seconds": 1.5, "verified": True, "problems": None,
         "verified_at": DAY5 + timedelta(hours=2, minutes=1)},
        {"backup_id": "20261105T030000Z-incremental", "kind": "incremental",
         "parent": "20261105T020000Z-full", "created_at": DAY5 + timedelta(hours=3),
         "tables": 14, "files": 61, "bytes": 2_000, "seconds": 0.2, "verified": True,
         "problems": None, "verified_at": DAY5 + timedelta(hours=3, minutes=1)},
    ]  # fmt: skip
    lake.write(BACKUP_LOG, pl.DataFrame(backups, schema=BACKUP_LOG.schema))
    snapshots.take(lake, "before-the-report")
    assert audit_chain.extend(lake) > 0
    return Built(root / "lake", logs, whole_period())


@pytest.fixture(scope="module")
def full_lake(built_lake: Path, tmp_path_factory: pytest.TempPathFactory) -> Built:  # noqa: F811
    """The lake with every kind of record, shared by the tests that only read it."""
    root = tmp_path_factory.mktemp("compliance")
    copy_tree(built_lake, root)
    return build(root)


@pytest.fixture
def own_lake(full_lake: Built, tmp_path: Path) -> Built:
    """A copy of the full lake that a test may change."""
    copy_tree(full_lake.root, tmp_path / "lake")
    return Built(tmp_path / "lake", full_lake.logs, full_lake.period)
