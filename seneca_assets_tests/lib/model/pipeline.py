"""Hand-written Marcus logs through ingestion and the silver build, for the model's tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from seneca_assets.lib.config import IngestSettings
from seneca_assets.lib.ingest import ingest
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.model.build import build_silver

Record = dict[str, Any]
"""One log line, as a JSON object."""


def write_logs(logs: Path, files: dict[str, list[Record]], *, append: bool = False) -> None:
    """Write (or append) each file's records, one JSON object a line."""
    for name, records in files.items():
        text = "".join(json.dumps(record) + "\n" for record in records)
        with (logs / name).open("a" if append else "w") as out:
            out.write(text)


def run_pipeline(logs: Path, lake_dir: Path) -> Lake:
    """Ingest what is new in `logs` and build silver; the lake."""
    ingest(IngestSettings(log_dir=logs, lake_dir=lake_dir, tail_grace_s=0))
    lake = Lake(lake_dir)
    build_silver(lake)
    return lake
