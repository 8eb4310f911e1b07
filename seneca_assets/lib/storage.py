"""Where a lake lives: a local folder, or any URL deltalake understands (`s3://`, `gs://`, `az://`).

Delta tables are read and written by delta-rs, which takes its credentials and endpoint from the
standard environment variables (`AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
`AWS_REGION`, `AWS_ALLOW_HTTP`, and their Google and Azure counterparts), so `--lake
s3://bucket/prefix` needs nothing else. Commits on S3 are made safe by conditional writes
(`If-None-Match`), which delta-rs 1.x uses by default; "unsafe rename"
(`AWS_S3_ALLOW_UNSAFE_RENAME`) loses commits under concurrent writers, and Seneca refuses it.

Seneca's own files that are not Delta tables go through obstore (the Python binding of the same
Rust `object_store` crate delta-rs uses): the lake's locks are lease objects created with a
conditional put, held by a heartbeat and taken over only once their lease has expired. What must
be a local folder (the full-text index, the query-traffic counts) lives in the lake folder for a
local lake and in a state folder (`SENECA_STATE_DIR`, default `data/state/<bucket-prefix>`) for a
remote one: all of it can be rebuilt from the tables.
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

from seneca_assets.lib.config import ConfigurationError

REMOTE_SCHEMES = ("s3", "gs", "az", "abfss", "s3a", "gcs", "abfs", "azure")
UNSAFE_RENAME = "AWS_S3_ALLOW_UNSAFE_RENAME"
STATE_VARIABLE = "SENECA_STATE_DIR"
DEFAULT_STATE_DIR = "data/state"
LEASE_S = 60.0
"""How long a lake lock outlives a holder that stopped renewing it (a crash)."""


class LockTimeoutError(RuntimeError):
    """Another writer held the lake's lock for longer than we were willing to wait."""


@dataclass(frozen=True)
class Location:
    """A lake's root: an absolute local folder, or a URL of an object store."""

    uri: str
    remote: bool

    @classmethod
    def of(cls, root: str | Path) -> Location:
        """The location of `root`; a `file://` URL is a local folder."""
        text = str(root).strip()
        scheme = text.split("://", 1)[0].lower() if "://" in text else ""
        if scheme == "file":
            text, scheme = text[len("file://") :], ""
        if scheme and scheme not in REMOTE_SCHEMES:
            raise ConfigurationError(
                f"the lake must be a folder or a {', '.join(REMOTE_SCHEMES[:4])} URL, not "
                f"{scheme}://"
            )
        if scheme:
            return cls(text.rstrip("/"), True)
        return cls(str(Path(text).absolute()), False)

    def join(self, *parts: str) -> str:
        """The URI of a path under the root."""
        if not self.remote:
            return str(Path(self.uri, *parts))
        return "/".join([self.uri, *parts])

    def state_dir(self) -> Path:
        """The local folder for what must be local: the lake folder itself, if it is local."""
        if not self.remote:
            return Path(self.uri)
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", self.uri.split("://", 1)[1]).strip("_")
        return Path(os.environ.get(STATE_VARIABLE) or DEFAULT_STATE_DIR).absolute() / slug

    @cached_property
    def store(self) -> Any:
        """The obstore store at the root (remote lakes), configured from the environment."""
        from obstore.store import from_url

        return from_url(self.uri)

    def shown(self) -> str:
        """The location for messages: a URL's user information (credentials) left out."""
        return re.sub(r"//[^/@]*@", "//", self.uri)


class Readable(Protocol):
    """What reading a file takes: `read` (a local binary file, a `RemoteFile`, a BytesIO)."""

    def read(self, size: int = -1, /) -> bytes:
        """Up to `size` bytes."""
        ...


class RemoteFile:
    """A file of a remote lake opened for reading: `read` and `seek`, as a binary file does."""

    def __init__(self, location: Location, path: str) -> None:
        import obstore

        self._file = obstore.open_reader(location.store, path)

    def read(self, size: int = -1) -> bytes:
        """Up to `size` bytes (all that is left without it)."""
        return bytes(self._file.read(size) if size >= 0 else self._file.readall())

    def seek(self, offset: int) -> int:
        """Go to `offset` from the start."""
        return int(self._file.seek(offset))

    def __enter__(self) -> RemoteFile:
        return self

    def __exit__(self, *_: object) -> None:
        self._file.close()


def has_object(location: Location, path: str) -> bool:
    """True when a remote root holds the object `path`."""
    import obstore
    from obstore.exceptions import NotFoundError

    try:
        obstore.head(location.store, path)
    except (NotFoundError, FileNotFoundError):  # `head` raises the latter
        return False
    return True


def put_object(location: Location, path: str, source: Any) -> None:
    """Upload a file-like `source` as the object `path` of a remote root (streamed)."""
    import obstore

    obstore.put(location.store, path, source)


def names_in(location: Location, folder: str) -> list[str]:
    """The names of the objects directly under `folder` of a remote root."""
    import obstore

    listed = obstore.list_with_delimiter(location.store, prefix=folder.rstrip("/") + "/")
    return sorted(item["path"].rsplit("/", 1)[-1] for item in listed["objects"])


def check_safe_commits() -> None:
    """Refuse the unsafe-rename mode of S3, which loses commits under concurrent writers."""
    if os.environ.get(UNSAFE_RENAME, "").strip().lower() in ("1", "true", "yes"):
        raise ConfigurationError(
            f"{UNSAFE_RENAME} is set: Delta commits on S3 would not be atomic and concurrent "
            "writers would lose commits. Unset it: Seneca commits with conditional writes"
        )


def probe(location: Location) -> None:
    """Write and delete a small object at a remote root; ConfigurationError saying why not."""
    import obstore

    key = f"_seneca/.write-probe-{os.getpid()}-{time.time_ns()}"
    try:
        obstore.put(location.store, key, b"")
        obstore.delete(location.store, key)
    except Exception as exc:  # obstore raises its own error types per store
        raise ConfigurationError(
            f"the lake at {location.shown()} cannot be written ({type(exc).__name__}): check the "
            "bucket and the AWS_* (or GOOGLE_*, AZURE_*) variables"
        ) from None


@contextmanager
def lease_lock(location: Location, name: str, timeout_s: float) -> Iterator[None]:
    """Hold the lake-wide lock `name` on an object store, as a lease object.

    Created with a conditional put (only if absent), renewed by a heartbeat every third of its
    lease with a conditional put on its ETag, and taken over by another holder only once it has
    expired (again conditionally: of two that see it expired, one wins). Released by deleting it.
    """
    import obstore
    from obstore.exceptions import AlreadyExistsError, NotFoundError, PreconditionError

    store, key = location.store, f"_seneca/locks/{name}.lock"
    deadline = time.monotonic() + timeout_s
    owner = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}:{time.time_ns()}"

    def body() -> bytes:
        expires = time.time() + LEASE_S
        return json.dumps({"owner": owner, "expires": expires}).encode()

    while True:
        try:
            tag = obstore.put(store, key, body(), mode="create")["e_tag"]
            break
        except AlreadyExistsError:
            try:
                found = obstore.get(store, key)
                held = json.loads(bytes(found.bytes()))
            except (NotFoundError, FileNotFoundError):
                continue  # released meanwhile: try again at once
            if held.get("expires", 0) < time.time():
                try:
                    tag = obstore.put(store, key, body(), mode={"e_tag": found.meta["e_tag"]})[
                        "e_tag"
                    ]
                    break
                except (PreconditionError, NotFoundError, FileNotFoundError):
                    continue  # another took it over first, or it was released
            if time.monotonic() > deadline:
                raise LockTimeoutError(
                    f"another Seneca process ({held.get('owner')}) has held the {name} lock of "
                    f"{location.shown()} for over {timeout_s:.0f} s"
                ) from None
            time.sleep(0.2)
    stop = threading.Event()
    current = {"tag": tag}

    def renew() -> None:
        while not stop.wait(LEASE_S / 3):
            try:
                current["tag"] = obstore.put(store, key, body(), mode={"e_tag": current["tag"]})[
                    "e_tag"
                ]
            except Exception:  # lost (expired and taken over): the holder's commits still fence
                return

    heartbeat = threading.Thread(target=renew, name=f"lease-{name}", daemon=True)
    heartbeat.start()
    try:
        yield
    finally:
        stop.set()
        heartbeat.join()
        try:
            if obstore.head(store, key)["e_tag"] == current["tag"]:
                obstore.delete(store, key)
        except (NotFoundError, FileNotFoundError):  # obstore raises either for a missing object
            pass
