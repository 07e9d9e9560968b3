"""SQLite: an online copy while the server writes, and putting a copy back.

`Connection.backup` with every page in one step reads the database in one read transaction: in WAL mode
(landflow's) writers go on meanwhile and the copy is the database as of that snapshot, whole
transactions only. (Copying a few pages per step would restart at every write from another connection,
and under steady load never finish.) The copy is checked with `PRAGMA integrity_check` and written to a
temporary name first, so a half-written backup is never taken for a good one."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url


def sqlite_file(database_url: str) -> Path | None:
    """The file of a SQLite URL; None for PostgreSQL or an in-memory database."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def backup_sqlite(source: Path, target: Path, busy_seconds: float = 30.0) -> int:
    """Copy the live database `source` to `target` (which must not exist); returns its size in bytes."""
    if target.exists():
        raise FileExistsError(f"{target} exists")
    tmp = target.with_name(target.name + ".partial")
    tmp.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=busy_seconds)
    try:
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst, pages=-1)  # one step: one consistent snapshot
            dst.execute("PRAGMA journal_mode=DELETE")  # the copy is one self-contained file
            ok = dst.execute("PRAGMA integrity_check").fetchone()
            if not ok or ok[0] != "ok":
                raise RuntimeError(f"the copy fails SQLite's integrity check: {ok}")
        finally:
            dst.close()
    finally:
        src.close()
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    return target.stat().st_size


def restore_sqlite(copy: Path, target: Path, force: bool = False) -> None:
    """Put a copy in place of the database file (the server stopped). Refuses to replace an existing
    database unless `force`; its WAL and shared-memory files go with it (they belong to the old file)."""
    if target.exists() and not force:
        raise FileExistsError(f"{target} exists: stop the server and use --force to replace it")
    check = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
    try:
        ok = check.execute("PRAGMA integrity_check").fetchone()
    finally:
        check.close()
    if not ok or ok[0] != "ok":
        raise RuntimeError(f"{copy} fails SQLite's integrity check: {ok}")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".restoring")
    with open(copy, "rb") as src, open(tmp, "wb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    for suffix in ("-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    os.replace(tmp, target)
