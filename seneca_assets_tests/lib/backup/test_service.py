"""`--at TIME` for verify and restore: the newest finished backup made at or before TIME (UTC
when it names no zone) is chosen, and a time before every backup, a time that is not one, or a
time with an id is refused with a clear error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from seneca_assets.cli import main
from seneca_assets.lib.backup import repository as repo
from seneca_assets.lib.backup import service
from seneca_assets.lib.catalog import TABLES
from seneca_assets.lib.lake import Lake
from seneca_assets_tests.lib.backup.conftest import rows

NOON = datetime(2026, 11, 27, 12, tzinfo=UTC)


def _three_backups(setup: Path) -> list[str]:
    """Backups at 10:00, 11:00 and 12:00 UTC, rows added to silver/messages after the first."""
    lake, root = Lake(setup / "lake"), setup / "backups"
    seal = service.sealer(root)
    made = [repo.create(lake, root, seal, "full", NOON - timedelta(hours=2)).id]
    spec = next(t for t in TABLES if t.name == "silver/messages")
    extra = lake.read(spec).head(10).with_columns(pl.col("message_id") + "x")
    lake.write(spec, extra)
    for hours in (1, 0):
        made.append(repo.create(lake, root, seal, "incremental", NOON - timedelta(hours=hours)).id)
    return made


def test_at_chooses_the_newest_backup_made_at_or_before_the_time(setup: Path, capsys):
    first, second, third = _three_backups(setup)
    capsys.readouterr()
    for at, chosen in [
        ("2026-11-27T10:30", first),  # naive: UTC
        ("2026-11-27T11:00:00+00:00", second),  # exactly when it was made
        ("2026-11-27T13:59:59+02:00", second),  # 11:59:59 UTC
        ("2026-11-27T12:00:00Z", third),
        ("2027-01-01", third),
    ]:
        assert main(["backup", "verify", "--at", at]) == 0, at
        assert f"backup {chosen}:" in capsys.readouterr().out, at
    assert main(["backup", "restore", "--at", "2026-11-27T10:59", "--to", "then"]) == 0
    assert first in capsys.readouterr().out
    then, now = rows(setup / "restores" / "then"), rows(setup / "lake")
    assert then["silver/messages"] == now["silver/messages"] - 10


def test_at_refuses_a_time_before_every_backup_or_that_is_not_a_time(setup: Path, capsys):
    first, *_ = _three_backups(setup)
    capsys.readouterr()
    assert main(["backup", "restore", "--at", "2026-11-27T09:59", "--to", "x"]) == 2
    err = capsys.readouterr().err
    assert "no finished backup" in err and "at or before 2026-11-27T09:59:00+00:00" in err
    assert first in err  # the oldest there is, named
    assert main(["backup", "verify", "--at", "yesterday"]) == 2
    assert "ISO-8601" in capsys.readouterr().err
    assert main(["backup", "verify", first, "--at", "2026-11-27T12:00"]) == 2
    assert "not both" in capsys.readouterr().err
    assert main(["backup", "create", "--at", "2026-11-27T12:00"]) == 2
    assert not (setup / "restores" / "x").exists()
