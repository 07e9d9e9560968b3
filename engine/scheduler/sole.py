"""One scheduler per SQLite database: an exclusive lock on a file beside the database file.

On PostgreSQL any number of schedulers may run: the sweep's advisory lock lets one sweep at a time
and checkpoints take their own. SQLite has neither, and one writer: two schedulers would only
contend for it, and two checkpoints signed at once would collide on their number. So on SQLite
`landflow scheduler` (which `landflow serve` starts as its child) first takes an exclusive `flock`
on `<database file>.scheduler.lock`; a second scheduler finds it held and stops. The kernel releases
the lock when its process ends, however it ends: there is never a stale lock to clean up.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url


class SchedulerBusy(RuntimeError):
    """Another scheduler already runs against this SQLite database."""


def lock_path(database_url: str) -> Path | None:
    """The lock file of a SQLite database file; None for PostgreSQL or an in-memory database."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database + ".scheduler.lock")


@contextmanager
def sole_scheduler(database_url: str) -> Iterator[Path | None]:
    """Hold the database's scheduler lock for the block (SQLite), or raise SchedulerBusy."""
    path = lock_path(database_url)
    if path is None:
        yield None
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SchedulerBusy(f"another scheduler runs against this database (it holds {path})") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield path
    finally:
        os.close(fd)
