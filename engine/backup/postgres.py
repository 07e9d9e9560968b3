"""PostgreSQL: a base backup with `pg_basebackup`, and a data directory prepared to replay the WAL
archive up to a chosen instant.

The standard tools do the work; this wraps them so that the procedure is one command each way and the
same every time. The server must archive its WAL (`archive_mode = on`, an `archive_command` copying
each segment to the archive, `archive_timeout` bounding how much a lost disk can take:
docs/operations/backups.md). A restore copies the base backup into a new data directory and writes
`recovery.signal` with `restore_command` (from the archive) and, for a point in time,
`recovery_target_time` with `recovery_target_action = 'promote'`: started, the server replays the WAL up
to the last transaction committed before that instant and opens for writing."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url


def find_pg_tool(name: str, pg_bin: Path | None = None) -> Path:
    """A PostgreSQL client program: in `pg_bin`, on PATH, or in Debian's /usr/lib/postgresql/*/bin."""
    if pg_bin is not None:
        path = Path(pg_bin) / name
        if not path.exists():
            raise FileNotFoundError(f"{path} does not exist")
        return path
    found = shutil.which(name)
    if found:
        return Path(found)
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(d) / name).exists():
            return Path(d) / name
    raise FileNotFoundError(f"{name} not found (apt-get install postgresql-client, or --pg-bin)")


def conninfo(database_url: str) -> tuple[list[str], dict[str, str]]:
    """pg_basebackup's connection options from LANDFLOW_DATABASE_URL (the password through PGPASSWORD)."""
    url = make_url(database_url)
    args = ["-h", url.host or "localhost", "-p", str(url.port or 5432)]
    if url.username:
        args += ["-U", url.username]
    env = {"PGPASSWORD": url.password} if url.password else {}
    return args, env


def base_backup(database_url: str, target: Path, pg_bin: Path | None = None, timeout: float = 3600) -> None:
    """`pg_basebackup` into `target` (a new folder): plain format, the WAL it needs streamed alongside,
    a fast checkpoint to start at once, checksums of every file in its manifest."""
    if target.exists() and any(target.iterdir()):
        raise FileExistsError(f"{target} is not empty")
    args, env = conninfo(database_url)
    subprocess.run([str(find_pg_tool("pg_basebackup", pg_bin)), *args, "-D", str(target), "-Fp", "-X", "stream",
                    "-c", "fast", "--no-password"], check=True, timeout=timeout, env={**os.environ, **env},
                   capture_output=True, text=True)


def prepare_restore(base: Path, data_dir: Path, wal_archive: Path, until: datetime | None = None) -> None:
    """A data directory from the base backup `base`, set to recover from `wal_archive` up to `until`
    (an aware instant; None: to the end of the archive) and then open for writing."""
    if until is not None and until.tzinfo is None:
        raise ValueError("the instant needs its time zone (e.g. 2026-12-06T10:30:00+07:00)")
    if data_dir.exists() and any(data_dir.iterdir()):
        raise FileExistsError(f"{data_dir} is not empty")
    if not (base / "PG_VERSION").exists():
        raise FileNotFoundError(f"{base} is not a base backup (no PG_VERSION)")
    shutil.copytree(base, data_dir, symlinks=True, dirs_exist_ok=True)
    os.chmod(data_dir, 0o700)
    for stale in ("postmaster.pid", "postmaster.opts"):
        (data_dir / stale).unlink(missing_ok=True)
    archive = str(wal_archive.resolve()).replace("'", "''")
    lines = ["", "# landflow restore: replay the WAL archive, then open for writing",
             f"restore_command = 'cp \"{archive}/%f\" \"%p\"'", "recovery_target_action = 'promote'"]
    if until is not None:
        lines.append(f"recovery_target_time = '{until.isoformat()}'")
    with (data_dir / "postgresql.auto.conf").open("a", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    (data_dir / "recovery.signal").touch()
