"""A real PostgreSQL server for the deployment tests: Debian's `initdb` and `pg_ctl` into a
temporary folder, on a free loopback port, one server for the whole session.

`initdb` refuses to run as root, and CI runs as root: there the server runs as the `postgres`
user that Debian's package creates (through `runuser`). `.ci/run` installs the package when it
is missing; outside CI the tests are skipped, with the reason, when PostgreSQL is not installed.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_HOME = ROOT / "deploy" / "postgres"
"""The DAGSTER_HOME of the PostgreSQL instance (`make run INSTANCE=postgres`)."""

SUPERUSER = "seneca"
START_TIMEOUT_S = 60
START_ATTEMPTS = 3


def _bindir() -> Path | None:
    """The newest PostgreSQL server binaries: Debian's /usr/lib/postgresql/<ver>/bin, or PATH."""
    debian = [
        path.parent
        for path in Path("/usr/lib/postgresql").glob("*/bin/initdb")
        if path.parts[-3].isdigit()
    ]
    if debian:
        return max(debian, key=lambda bindir: int(bindir.parts[-2]))
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class PostgresServer:
    """A running server: where it listens and its superuser's credentials."""

    host: str
    port: int
    user: str
    password: str

    def connect(self, dbname: str = "postgres"):
        """A psycopg2 connection to one database, in autocommit mode."""
        connection = psycopg2.connect(
            host=self.host, port=self.port, user=self.user, password=self.password, dbname=dbname
        )
        connection.autocommit = True
        return connection

    def create_database(self) -> str:
        """A new, empty database; its name."""
        name = f"seneca_{uuid.uuid4().hex[:12]}"
        connection = self.connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()
        return name


def _run(command: list[str], what: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{what} failed ({result.returncode}):\n{result.stdout}{result.stderr}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """Start PostgreSQL in a temporary folder for the session, and remove it afterwards."""
    bindir = _bindir()
    if bindir is None:
        reason = (
            "PostgreSQL's server binaries (initdb, pg_ctl) are not installed: "
            "`apt-get install postgresql` (.ci/run does it in CI)"
        )
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)

    as_user: list[str] = []
    owner: pwd.struct_passwd | None = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.fail(
                "running as root, initdb needs the `postgres` user (Debian's package makes it)"
            )
        as_user = ["runuser", "-u", "postgres", "--"]

    # The `postgres` user must reach the folder: under /tmp, not a TMPDIR private to root.
    root = Path(tempfile.mkdtemp(prefix="seneca-pg-", dir="/tmp" if owner else None))
    data = root / "data"
    password = secrets.token_urlsafe(18)
    password_file = root / "password"
    password_file.write_text(password + "\n", encoding="utf-8")
    password_file.chmod(0o600)
    if owner is not None:
        os.chown(root, owner.pw_uid, owner.pw_gid)
        os.chown(password_file, owner.pw_uid, owner.pw_gid)
    pg_ctl = [*as_user, str(bindir / "pg_ctl"), "-D", str(data)]
    started = False
    try:
        _run(
            [
                *as_user,
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                SUPERUSER,
                f"--pwfile={password_file}",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
            ],
            "initdb",
        )
        password_file.unlink()
        for attempt in range(START_ATTEMPTS):  # the free port may be taken meanwhile: retry
            port = _free_port()
            options = (
                f"-h 127.0.0.1 -p {port} -k {root} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            start = ["-l", str(root / "server.log"), "-w", "-t", str(START_TIMEOUT_S)]
            result = subprocess.run(
                [*pg_ctl, *start, "-o", options, "start"],
                capture_output=True,
                text=True,
                timeout=START_TIMEOUT_S + 10,
                check=False,
            )
            if result.returncode == 0:
                started = True
                break
            if attempt == START_ATTEMPTS - 1:
                log = (root / "server.log").read_text(encoding="utf-8", errors="replace")
                raise RuntimeError(f"pg_ctl start failed:\n{result.stdout}{result.stderr}{log}")
        yield PostgresServer(host="127.0.0.1", port=port, user=SUPERUSER, password=password)
    finally:
        if started:
            subprocess.run(
                [*pg_ctl, "-m", "immediate", "-w", "stop"],
                capture_output=True,
                timeout=60,
                check=False,
            )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_env(postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh database, named to Dagster through the DAGSTER_PG_* variables; its name."""
    database = postgres_server.create_database()
    monkeypatch.setenv("DAGSTER_PG_HOST", postgres_server.host)
    monkeypatch.setenv("DAGSTER_PG_PORT", str(postgres_server.port))
    monkeypatch.setenv("DAGSTER_PG_USER", postgres_server.user)
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", postgres_server.password)
    monkeypatch.setenv("DAGSTER_PG_DB", database)
    return database
