"""Where a backup repository is: the local folder, or its off-site copy at any fsspec URL.

Reading a repository (listing it, its manifests and blobs, retention) goes through a `Store`, so
the off-site copy is listed, verified, restored from and pruned by the same code as the local
folder. A new backup is written locally (`repository.create`: fsync, then rename); the off-site
copy is written by `offsite.push` with `Store.put`, each file under a temporary name and then
moved into place.

The off-site URL comes from SENECA_OFFSITE_URL (`file:///path`, `memory://name`, `s3://...` once
its fsspec backend is installed). Credentials come from the environment, in the standard
variables of fsspec and of each backend; a URL is only ever shown without its user, password
and query.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from fsspec.core import url_to_fs
from fsspec.implementations.local import LocalFileSystem

from seneca_assets.lib.config import ConfigurationError

OFFSITE_VARIABLE = "SENECA_OFFSITE_URL"


@dataclass(frozen=True)
class Store:
    """A repository's root on a filesystem, and how to name it in messages."""

    fs: Any
    """An fsspec filesystem (fsspec has no type hints)."""
    root: str
    label: str
    """The folder or the URL without credentials: what messages show."""

    def path(self, *parts: str) -> str:
        """The full path of `parts` under the root."""
        return "/".join([self.root.rstrip("/"), *parts])

    def open(self, *parts: str) -> BinaryIO:
        """A file opened for reading; FileNotFoundError if there is none."""
        return self.fs.open(self.path(*parts), "rb")  # type: ignore[no-any-return]

    def read(self, *parts: str) -> bytes:
        """A file's bytes; FileNotFoundError if there is none."""
        return bytes(self.fs.cat_file(self.path(*parts)))

    def exists(self, *parts: str) -> bool:
        """True if the file or folder exists."""
        return bool(self.fs.exists(self.path(*parts)))

    def names(self, pattern: str) -> list[str]:
        """The paths matching `pattern` under the root, relative to it, sorted."""
        base = self.path("")
        found = self.fs.glob(self.path(pattern))
        return sorted(_relative(str(p), base) for p in found)

    def put(self, local: Path, *parts: str) -> None:
        """Copy a local file here, under a temporary name first, then moved into place."""
        final = self.path(*parts)
        temporary = f"{final}.{uuid.uuid4().hex}.tmp"
        self.fs.makedirs(final.rsplit("/", 1)[0], exist_ok=True)
        self.fs.put_file(str(local), temporary)
        self.fs.mv(temporary, final)

    def remove(self, *parts: str) -> None:
        """Delete a file, or a folder and all it holds."""
        self.fs.rm(self.path(*parts), recursive=True)


def _relative(path: str, base: str) -> str:
    """`path` without its `base` prefix (fsspec may add or drop a leading slash)."""
    trimmed, prefix = path.lstrip("/"), base.lstrip("/")
    return trimmed[len(prefix) :] if trimmed.startswith(prefix) else trimmed


def local_store(root: Path) -> Store:
    """The repository in a local folder."""
    return Store(LocalFileSystem(), str(root.absolute()), str(root))


def as_store(root: Path | Store) -> Store:
    """`root` as a Store: a local folder is wrapped, a Store is kept."""
    return root if isinstance(root, Store) else local_store(root)


def shown(url: str) -> str:
    """`url` without its user, password, query and fragment: safe to print and log."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}" if parts.scheme else parts.path


def hidden(text: str, url: str) -> str:
    """`text` (an error's message, say) with `url`'s user, password and query masked."""
    parts = urlsplit(url)
    for secret in (url, parts.password, parts.username, parts.query):
        if secret:
            text = text.replace(secret, shown(url) if secret == url else "***")
    return text


def offsite_url() -> str | None:
    """SENECA_OFFSITE_URL, or None when it is not set."""
    return os.environ.get(OFFSITE_VARIABLE) or None


def offsite_store(url: str) -> Store:
    """The off-site copy's store at `url`; ConfigurationError for a protocol it cannot reach."""
    label = shown(url)
    parts = urlsplit(url)
    protocol = parts.scheme or "file"
    if "@" in parts.netloc or parts.password:
        raise ConfigurationError(
            f"{OFFSITE_VARIABLE} ({label}): credentials in the URL are not accepted (they would "
            "end up in logs): give them in the store's variables, such as AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY"
        )
    try:
        fs, root = url_to_fs(url)
    except ImportError as exc:  # a known protocol whose backend package is not installed
        raise ConfigurationError(
            f"{OFFSITE_VARIABLE} ({label}): the {protocol!r} protocol needs a package that is "
            f"not installed ({hidden(str(exc), url)})"
        ) from exc
    except ValueError as exc:
        raise ConfigurationError(
            f"{OFFSITE_VARIABLE} ({label}): {protocol!r} is not a protocol fsspec knows; use "
            "e.g. file:///path/to/folder"
        ) from exc
    return Store(fs, str(root), label)
