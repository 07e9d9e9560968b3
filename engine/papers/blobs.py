"""The content-addressed store of a dossier's files (scans of papers, results, slips).

A file is kept under its SHA-256 and never overwritten: the same bytes are stored once, and a name
in the hash chain (`document_added`, `slip_issued`) can always be checked against the bytes. The
store is one small interface so that a province can put an object store (S3-compatible, with
object lock) behind it later: `put` must be durable before it returns (the event that names the
file is appended after it), `get` returns the bytes or None, and `check` tells what `verify` needs.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

HEX = re.compile(r"^[0-9a-f]{64}$")


class BlobStore(Protocol):
    def put(self, data: bytes) -> str: ...

    def get(self, sha256: str) -> bytes | None: ...

    def check(self, sha256: str, size: int | None = None) -> str | None: ...


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FolderBlobStore:
    """Files under `root/ab/cd/<sha256>`: written to a temporary file, flushed to disk, then linked into
    place, so a crash leaves either no file or the whole one."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        if not HEX.match(sha256):
            raise ValueError("not a SHA-256 in lowercase hex")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> str:
        sha = digest(data)
        target = self.path(sha)
        if target.exists():
            return sha  # never overwritten: the same bytes are already there (or `check` will say they are not)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o440)
            with contextlib.suppress(FileExistsError):  # another writer got there first: the same bytes
                os.link(tmp, target)
        finally:
            os.unlink(tmp)
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return sha

    def get(self, sha256: str) -> bytes | None:
        try:
            return self.path(sha256).read_bytes()
        except (FileNotFoundError, ValueError):
            return None

    def check(self, sha256: str, size: int | None = None) -> str | None:
        """None when the stored bytes are those named; else what is wrong, in words."""
        data = self.get(sha256)
        if data is None:
            return "the file is missing"
        if digest(data) != sha256 or (size is not None and len(data) != size):
            return "the file's bytes changed"
        return None
