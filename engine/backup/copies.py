"""Each signed checkpoint also as a file outside the database: `checkpoint-00000042.json.gz` in
LANDFLOW_CHECKPOINT_COPIES (default `<var dir>/checkpoints`; in production a folder on other storage).

A database restored from a backup holds the checkpoints signed up to the backup's instant and no
later: only evidence kept outside it can say what it lost. A copy holds what the database holds of
one checkpoint: the signed record, its signature, and the leaves it added (the heads of the dossiers
whose chains grew since a checkpoint before it saw them), so the copies alone rebuild every signed
root, checked with the public key, never trusting the database they are compared with.

Writing is idempotent and catches up: every checkpoint of the database without a file gets one
(a scheduler killed between its commit and its write leaves nothing missing after the next one)."""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from ..store import CheckpointHeadRow, CheckpointRow, Database

NAME = re.compile(r"^checkpoint-(\d{8,})\.json\.gz$")


def copy_name(checkpoint_id: int) -> str:
    return f"checkpoint-{checkpoint_id:08d}.json.gz"


def copied_ids(folder: Path) -> set[int]:
    if not folder.is_dir():
        return set()
    return {int(m.group(1)) for p in folder.iterdir() if (m := NAME.match(p.name))}


def write_copies(db: Database, folder: Path) -> int:
    """Write every checkpoint of the database that has no copy yet; returns how many were written."""
    have = copied_ids(folder)
    with db.read() as s:
        ids = [i for i in s.scalars(select(CheckpointRow.id).order_by(CheckpointRow.id)) if i not in have]
    written = 0
    for cp_id in ids:
        with db.read() as s:
            cp = s.get(CheckpointRow, cp_id)
            assert cp is not None
            leaves = [[int(d), int(q), h] for d, q, h in s.execute(
                select(CheckpointHeadRow.dossier_id, CheckpointHeadRow.last_seq, CheckpointHeadRow.head_hash)
                .where(CheckpointHeadRow.checkpoint_id == cp_id).order_by(CheckpointHeadRow.dossier_id))]
            body = {"record": cp.record, "signature": cp.signature, "key_id": cp.key_id, "leaves": leaves}
        _write(folder / copy_name(cp_id), json.dumps(body, separators=(",", ":")).encode())
        written += 1
    return written


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
            gz.write(data)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


@dataclass(frozen=True)
class CheckpointCopy:
    id: int
    record: str
    signature: str
    key_id: str
    leaves: list[tuple[int, int, str]] = field(default_factory=list)


def read_copies(folder: Path) -> tuple[list[CheckpointCopy], list[str]]:
    """The copies in id order, and the files that cannot be read (named)."""
    copies, unreadable = [], []
    if not folder.is_dir():
        return [], []
    for path in sorted(folder.iterdir()):
        m = NAME.match(path.name)
        if not m:
            continue
        try:
            body = json.loads(gzip.decompress(path.read_bytes()))
            copies.append(CheckpointCopy(int(m.group(1)), str(body["record"]), str(body["signature"]),
                                         str(body.get("key_id", "")),
                                         [(int(d), int(q), str(h)) for d, q, h in body["leaves"]]))
        except (OSError, ValueError, KeyError, TypeError, EOFError):
            unreadable.append(path.name)
    copies.sort(key=lambda c: c.id)
    return copies, unreadable
