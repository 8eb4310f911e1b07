"""Exactly once under real conditions: kill -9, concurrent runs, growing files, huge folders.

Ingestion runs in real subprocesses here (no mocks); the expected final state is what one clean,
in-process run over the same logs stores.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

from seneca_assets.lib.config import IngestSettings
from seneca_assets.lib.ingest import ingest
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.schemas import EVENTS, INGEST_FILES, QUARANTINE, REDACTIONS
from seneca_assets.lib.simulate import simulate_deployment

CHUNK = 64 << 10
RUNNER = """
import json, sys, time
from pathlib import Path
from seneca_assets.lib.config import IngestSettings
from seneca_assets.lib.ingest import ingest
logs, lake, chunk, go = sys.argv[1:]
print("ready", flush=True)
while go != "-" and not Path(go).exists():
    time.sleep(0.001)
report = ingest(IngestSettings(Path(logs), Path(lake)), chunk_bytes=int(chunk))
print(json.dumps(report.as_dict()), flush=True)
"""
"""Ingests `logs` into `lake` with small chunks; says `ready` once imported, starts on `go`."""

BAD_LINES = [
    b"this is not JSON",
    b'{"timestamp": 1768471200}',
    b'{"timestamp": "2026-11-01T00:00:00Z", "cut": "off',
    b"\xff\xfe not UTF-8",
]
"""Lines appended to the corpus that must be quarantined."""
SECRET = (
    b'{"timestamp": "2026-11-01T00:00:00Z", "type": "k", "key": "sk-proj-Ab3dEf6hIj9kLm2nOp5q"}'
)
"""An event with a secret: one row in ops/redactions."""


@dataclass(frozen=True)
class LakeState:
    """What a lake holds, as sets that must match exactly."""

    event_ids: list[str]
    quarantined: list[tuple[str, int]]
    redactions: list[tuple[str, str, str, str]]
    files: list[tuple[str, int, int]]

    @classmethod
    def of(cls, lake_dir: Path) -> LakeState:
        lake = Lake(lake_dir)
        return cls(
            event_ids=sorted(lake.read(EVENTS).get_column("event_id")),
            quarantined=sorted(lake.read(QUARANTINE).select("source_file", "byte_offset").rows()),
            redactions=sorted(
                lake.read(REDACTIONS).select("table", "row_id", "field_path", "kind").rows()
            ),
            files=sorted(lake.read(INGEST_FILES).select("path", "size", "offset").rows()),
        )


def _corpus(root: Path) -> Path:
    """Simulated Marcus logs (all five streams, decisions copies) with some bad lines appended."""
    logs = root / "logs"
    simulate_deployment(logs, days=3, agents=4, seed=7)
    files = sorted(p for p in logs.rglob("*.jsonl") if p.stat().st_size)
    for i, bad in enumerate([*BAD_LINES, SECRET]):
        with files[(7 * i) % len(files)].open("ab") as handle:
            handle.write(bad + b"\n")
    return logs


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, LakeState]:
    """A log folder and the state one clean in-process run stores from it."""
    root = tmp_path_factory.mktemp("corpus")
    logs = _corpus(root)
    ingest(IngestSettings(logs, root / "expected_lake"), chunk_bytes=CHUNK)
    expected = LakeState.of(root / "expected_lake")
    assert len(list(logs.rglob("*.jsonl"))) >= 30
    assert len(expected.event_ids) > 5000
    assert len(expected.quarantined) == len(BAD_LINES)
    assert len(expected.redactions) == 1
    return logs, expected


def _start(logs: Path, lake: Path, go: Path | None = None) -> subprocess.Popen[str]:
    """Start a runner and wait until it has imported everything."""
    proc = subprocess.Popen(
        [sys.executable, "-c", RUNNER, str(logs), str(lake), str(CHUNK), str(go or "-")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready", proc.stderr.read() if proc.stderr else ""
    return proc


def _finish(proc: subprocess.Popen[str]) -> dict[str, int]:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def _assert_state(lake: Path, expected: LakeState) -> None:
    state = LakeState.of(lake)
    ids, want = set(state.event_ids), set(expected.event_ids)
    assert len(state.event_ids) == len(ids), "an event is stored twice"
    assert len(state.quarantined) == len(set(state.quarantined)), "a line is quarantined twice"
    assert not want - ids, f"{len(want - ids)} events missing"
    assert not ids - want, f"{len(ids - want)} unexpected events"
    assert state.quarantined == expected.quarantined
    assert state.redactions == expected.redactions
    unfinished = sorted(set(state.files) - set(expected.files))
    assert not unfinished, f"files not read to the end (path, size, offset): {unfinished}"
    assert state == expected


def _kill_after(proc: subprocess.Popen[str], delay: float) -> bool:
    """SIGKILL the runner `delay` seconds after it started ingesting; True if it was running."""
    time.sleep(delay)
    running = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    return running


@pytest.mark.slow
def test_kill_9_at_any_moment_then_rerun_stores_every_line_once(
    corpus: tuple[Path, LakeState], tmp_path: Path
):
    logs, expected = corpus
    started = time.monotonic()
    clean = _finish(_start(logs, tmp_path / "clean"))
    duration = time.monotonic() - started
    assert clean["batches"] > 20
    _assert_state(tmp_path / "clean", expected)

    total = sum(size for _, size, _ in expected.files)
    partial = 0
    for i, fraction in enumerate((0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.95)):
        lake = tmp_path / f"lake{i}"
        killed_running = _kill_after(_start(logs, lake), fraction * duration)
        done = Lake(lake).read(INGEST_FILES).get_column("offset").sum()
        partial += int(killed_running and 0 < done < total)
        # A second kill, sooner: recovery itself may be interrupted.
        _kill_after(_start(logs, lake), fraction * duration / 2)
        ingest(IngestSettings(logs, lake), chunk_bytes=CHUNK)
        print(f"killed after {fraction:.0%} of a clean run")
        _assert_state(lake, expected)
        assert ingest(IngestSettings(logs, lake)).bytes_read == 0
    assert partial >= 3, "too few kills landed in the middle of a run"


def test_a_run_killed_in_the_middle_of_a_file_is_resumed_by_the_next_run(tmp_path: Path):
    logs, lake = tmp_path / "logs", tmp_path / "lake"
    logs.mkdir()
    lines = [_appended_line(n) for n in range(20_000)]
    big = logs / "seneca_events_20261105.jsonl"
    big.write_bytes(b"".join(line + b"\n" for line in lines))
    size = big.stat().st_size

    proc = _start(logs, lake)
    offset = 0
    while proc.poll() is None and not 0 < offset < size:
        time.sleep(0.01)
        offset = Lake(lake).read(INGEST_FILES).get_column("offset").sum()
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert 0 < offset < size, "the run was not caught in the middle of the file"
    # The run may have committed more between that read and the kill: what it left is what the
    # lake says now.
    left = size - Lake(lake).read(INGEST_FILES).get_column("offset").sum()

    report = ingest(IngestSettings(logs, lake), chunk_bytes=CHUNK)
    events = Lake(lake).read(EVENTS)
    assert events.get_column("event_id").is_unique().all()
    assert events.height == len(lines), f"{len(lines) - events.height} lines never stored"
    assert sorted(events.get_column("payload")) == sorted(line.decode() for line in lines)
    assert report.bytes_read >= left
    state = Lake(lake).read(INGEST_FILES).row(0, named=True)
    assert (state["offset"], state["pending_tail_bytes"]) == (size, 0)


def test_two_runs_at_once_store_every_line_once(corpus: tuple[Path, LakeState], tmp_path: Path):
    logs, expected = corpus
    go, lake = tmp_path / "go", tmp_path / "lake"
    first, second = _start(logs, lake, go), _start(logs, lake, go)
    go.touch()
    reports = [_finish(first), _finish(second)]

    _assert_state(lake, expected)
    assert sum(r["events_stored"] for r in reports) == len(expected.event_ids)
    assert sum(r["quarantined"] for r in reports) == len(expected.quarantined)
    assert sorted(r["bytes_read"] for r in reports)[0] == 0  # the second found nothing new


def _appended_line(n: int) -> bytes:
    return json.dumps(
        {
            "timestamp": f"2026-11-05T10:{n // 60 % 60:02d}:{n % 60:02d}.{n:06d}Z",
            "type": "metric",
            "source": "writer",
            "data": {"name": "tick", "value": n, "pad": "p" * 200},
        }
    ).encode()


def test_a_file_appended_to_during_a_run_is_stored_exactly_once(
    corpus: tuple[Path, LakeState], tmp_path: Path
):
    logs, _ = corpus
    work = tmp_path / "logs"
    subprocess.run(["cp", "-r", str(logs), str(work)], check=True)
    growing = work / "seneca" / "seneca_events_29991231.jsonl"  # read last: planned size is stale
    written: list[bytes] = []
    stop = threading.Event()

    def append(count: int) -> None:
        with growing.open("ab") as handle:
            for _ in range(count):
                line = _appended_line(len(written))
                half = len(line) // 2 if len(written) % 3 == 0 else len(line)
                handle.write(line[:half])  # sometimes half a line is visible for a moment
                handle.flush()
                handle.write(line[half:] + b"\n")
                handle.flush()
                written.append(line)

    def writer() -> None:
        while not stop.is_set():
            append(1)
            time.sleep(0.002)

    append(20)
    thread = threading.Thread(target=writer)
    proc = _start(work, tmp_path / "lake")
    thread.start()
    _finish(proc)
    stop.set()
    thread.join()
    lake = Lake(tmp_path / "lake")
    rel = "seneca/seneca_events_29991231.jsonl"
    first = lake.read(EVENTS).filter(pl.col("source_file") == rel).height
    append(5)  # after the run: these can only be stored by the next one
    after = ingest(IngestSettings(work, tmp_path / "lake"), chunk_bytes=CHUNK)

    mine = lake.read(EVENTS).filter(pl.col("source_file") == rel)
    assert sorted(mine.get_column("payload")) == sorted(line.decode() for line in written)
    assert mine.get_column("event_id").is_unique().all()
    assert lake.read(QUARANTINE).filter(pl.col("source_file") == rel).is_empty()
    assert first >= 20  # the lines there before the run started
    assert after.events_stored == len(written) - first >= 5
    assert after.duplicates_skipped == 0


@pytest.mark.slow
def test_50000_files_in_one_folder(settings: IngestSettings):
    expected = 0
    for n in range(50_000):
        record = {"timestamp": "2026-01-15T10:00:00Z", "event_type": "tool_call", "n": n}
        lines = [json.dumps(record | {"k": k}) + "\n" for k in range(n % 3)]  # 0, 1 or 2
        (settings.log_dir / f"audit_{n:05d}.jsonl").write_text("".join(lines))
        expected += len(lines)
    report = ingest(settings)

    lake = Lake(settings.lake_dir)
    assert (report.files_seen, report.quarantined) == (50_000, 0)
    assert report.events_stored == expected == lake.read(EVENTS).height
    files = lake.read(INGEST_FILES)
    assert files.height == 50_000
    assert (files.get_column("offset") == files.get_column("size")).all()
    second = ingest(settings)
    assert (second.files_seen, second.files_read, second.bytes_read) == (50_000, 0, 0)
    assert lake.read(EVENTS).height == report.events_stored


def test_a_rerun_after_appending_reads_only_the_new_bytes(settings: IngestSettings):
    simulate_deployment(settings.log_dir, days=1, agents=2, seed=3)
    first = ingest(settings)
    files = sorted(p for p in settings.log_dir.rglob("*.jsonl") if p.stat().st_size)[:3]
    appended = 0
    for k, path in enumerate(files):
        line = json.dumps({"timestamp": "2026-11-02T00:00:00Z", "type": "late", "k": k}) + "\n"
        with path.open("a") as handle:
            handle.write(line)
        appended += len(line.encode())
    second = ingest(settings)

    assert first.bytes_read > 100 * appended
    assert second.bytes_read == appended
    assert (second.lines_read, second.events_stored, second.files_read) == (3, 3, 3)
