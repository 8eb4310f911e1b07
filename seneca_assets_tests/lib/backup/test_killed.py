"""A backup killed with SIGKILL while it writes, in a real `seneca backup create` process: the
unfinished backup is never listed, and the next backup removes it, completes and verifies, and
restores the lake's rows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from seneca_assets.cli import main
from seneca_assets.lib.backup import repository as repo
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.schemas import QUARANTINE
from seneca_assets_tests.lib.backup.conftest import contents

BULK_BYTES = 96 << 20
"""Random quarantined lines added to the lake: enough to take a backup a while to seal."""
LINE_BYTES = 64 << 10
WAIT_S = 120.0


def _bulk(lake_dir: Path) -> None:
    """Quarantined lines of random bytes (which no compression shrinks), in one commit."""
    count = BULK_BYTES // LINE_BYTES
    rows = pl.DataFrame(
        {
            "quarantine_id": [uuid.uuid4().hex for _ in range(count)],
            "stream": "agent_events",
            "source_file": "logs/agent_events/agent_events_20261101.jsonl",
            "line_number": range(1, count + 1),
            "byte_offset": [n * LINE_BYTES for n in range(count)],
            "raw_line": [os.urandom(LINE_BYTES) for _ in range(count)],
            "reason": "not JSON",
            "ingested_at": datetime(2026, 11, 2, tzinfo=UTC),
            "ingest_batch": 1,
        },
        schema=QUARANTINE.schema,
    )
    Lake(lake_dir).write(QUARANTINE, rows)


def _started_writing(root: Path, child: subprocess.Popen[bytes]) -> Path:
    """Wait (polling, no fixed delay) until the child has an unfinished backup with blobs."""
    deadline = time.monotonic() + WAIT_S
    while True:
        partials = list((root / "backups").glob("*.partial"))
        if partials and any((root / "blobs").glob("*/*")):
            return partials[0]
        assert child.poll() is None, f"the backup ended before it was killed: {child.stderr}"
        assert time.monotonic() < deadline, "the backup never started writing"
        time.sleep(0.002)


def test_a_backup_killed_mid_way_is_never_listed_and_the_next_completes(setup: Path, capsys):
    lake_dir, root = setup / "lake", setup / "backups"
    _bulk(lake_dir)
    command = [sys.executable, "-m", "seneca_assets.cli", "backup", "create"]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        partial = _started_writing(root, child)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()  # a no-op once it is dead; never leaves it running if the test fails
        child.wait(timeout=WAIT_S)
    assert child.returncode == -signal.SIGKILL
    # Killed while writing: its folder is there, its blobs only in part, nothing finished.
    assert partial.is_dir() and not (partial / "index.json").exists()
    written = [p for p in (root / "blobs").glob("*/*") if not p.name.endswith(".tmp")]
    assert repo.listed(root).is_empty()
    capsys.readouterr()
    assert main(["backup", "list", "--json"]) == 0
    assert capsys.readouterr().out.strip() == "[]"

    assert main(["backup", "create"]) == 0
    assert not partial.exists() and not list((root / "blobs").glob("*/*.tmp"))
    done = repo.listed(root)
    assert done.height == 1 and len(written) < done.item(0, "files")
    assert main(["backup", "verify"]) == 0
    assert main(["backup", "restore", "--to", "after"]) == 0
    assert contents(setup / "restores" / "after") == contents(lake_dir)
