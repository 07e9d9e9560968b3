"""`landflow backup DEST` and `landflow restore SOURCE`: the database and the papers, both databases.

SQLite: an online copy while the server runs (engine/backup/sqlite.py), then the blob folder. PostgreSQL:
`pg_basebackup` (engine/backup/postgres.py), then the blob folder; the WAL archive the server keeps is
what a restore replays up to an instant. A backup folder holds `landflow.db` (SQLite) or `base/`
(PostgreSQL), `blobs/`, and `backup.json` (what was taken, when, how much). `--blobs-only` adds the
papers written since to an existing backup (cheap: files are content-addressed and never change), to
run as often as the WAL is archived. The runbook: docs/operations/backups.md.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy import func, select

from config.settings import Settings
from engine.backup.blobs import BlobCopy, copy_blobs
from engine.backup.postgres import base_backup, prepare_restore
from engine.backup.sqlite import backup_sqlite, restore_sqlite, sqlite_file
from engine.store import CheckpointRow
from engine.store.db import Database

from .common import console, landflow

MANIFEST = "backup.json"


def _blobs_line(copy: BlobCopy) -> str:
    line = f"papers: {copy.copied} file(s) copied ({copy.bytes:,} bytes), {copy.present} already there"
    if copy.damaged:
        line += f"; {len(copy.damaged)} file(s) whose bytes do not give their name were NOT copied: " + \
            ", ".join(copy.damaged[:5])
    return line


def _last_checkpoint(url: str) -> dict[str, object] | None:
    db = Database(url, pool_size=1)
    try:
        with db.read() as s:
            row = s.execute(select(CheckpointRow.id, CheckpointRow.at)
                            .order_by(CheckpointRow.id.desc()).limit(1)).first()
            count = s.scalar(select(func.count()).select_from(CheckpointRow))
    finally:
        db.dispose()
    return None if row is None else {"id": row[0], "at": row[1].isoformat(), "checkpoints": count}


@click.command("backup")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--blobs-only", is_flag=True, help="only add the papers written since to an existing backup")
@click.option("--pg-bin", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="folder of pg_basebackup (default: PATH, then /usr/lib/postgresql/*/bin)")
def backup_cmd(dest: Path, blobs_only: bool, pg_bin: Path | None) -> None:
    """Back up the database (online) and then the papers into DEST, a new folder."""
    lf = landflow()
    try:
        settings = lf.settings
        if blobs_only:
            if not (dest / MANIFEST).exists():
                raise click.ClickException(f"{dest} is not a landflow backup (no {MANIFEST})")
            console.print(_blobs_line(copy_blobs(settings.blob_dir, dest / "blobs")), highlight=False)
            return
        if dest.exists() and any(dest.iterdir()):
            raise click.ClickException(f"{dest} is not empty: a backup goes into a new folder")
        dest.mkdir(parents=True, exist_ok=True)
        started = datetime.now(UTC)
        path = sqlite_file(settings.database_url)
        if path is not None:
            size = backup_sqlite(path, dest / "landflow.db", settings.sqlite_busy_seconds)
            kind, what = "sqlite", f"landflow.db ({size:,} bytes)"
            held = _last_checkpoint(f"sqlite:///{dest / 'landflow.db'}")
        else:
            held = _last_checkpoint(settings.database_url)  # at least this one: the base backup starts after it
            try:
                base_backup(settings.database_url, dest / "base", pg_bin)
            except Exception as err:
                detail = getattr(err, "stderr", "") or str(err)
                raise click.ClickException(f"pg_basebackup failed: {detail}") from None
            kind, what = "postgresql", "base/ (pg_basebackup, WAL streamed alongside)"
        blobs = copy_blobs(settings.blob_dir, dest / "blobs")  # after the database: a superset of what it names
        manifest = {"kind": kind, "started": started.isoformat(), "finished": datetime.now(UTC).isoformat(),
                    "database": what, "last_checkpoint": held, "blobs": blobs.copied + blobs.present,
                    "damaged_blobs": blobs.damaged}
        (dest / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        console.print(f"backup in {dest}: {what}", highlight=False)
        console.print(_blobs_line(blobs), highlight=False)
        if held:
            console.print(f"last checkpoint in it: {held['id']} ({held['at']})", highlight=False)
        if blobs.damaged:
            raise click.ClickException("some papers are damaged in LANDFLOW_BLOB_DIR: run `landflow verify --all`")
    finally:
        lf.close()


@click.command("restore")
@click.argument("source", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--force", is_flag=True, help="SQLite: replace the existing database file (server stopped)")
@click.option("--pg-data", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="PostgreSQL: the new, empty data directory to prepare")
@click.option("--wal-archive", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
              help="PostgreSQL: the folder the server's archive_command copies WAL segments to")
@click.option("--until", default=None,
              help="PostgreSQL: restore to this instant (ISO 8601 with its offset, e.g. 2026-12-06T10:30:00+07:00)")
def restore_cmd(source: Path, force: bool, pg_data: Path | None, wal_archive: Path | None,
                until: str | None) -> None:
    """Put a backup back: the database (SQLite file, or a PostgreSQL data directory to start) and the papers."""
    try:
        manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise click.ClickException(f"{source} is not a landflow backup (no readable {MANIFEST})") from None
    settings = Settings.from_env()  # no engine: nothing of ours may open the database being replaced
    if manifest.get("kind") == "sqlite" and (pg_data or wal_archive or until):
        raise click.ClickException("--pg-data, --wal-archive and --until restore a PostgreSQL backup; "
                                   f"{source} is a SQLite one (a copy as of its instant)")
    if manifest.get("kind") == "sqlite":
        target = sqlite_file(settings.database_url)
        if target is None:
            raise click.ClickException("a SQLite backup restores into a SQLite LANDFLOW_DATABASE_URL")
        try:
            restore_sqlite(source / "landflow.db", target, force)
        except (FileExistsError, RuntimeError) as err:
            raise click.ClickException(str(err)) from None
        console.print(f"database restored to {target}", highlight=False)
    elif manifest.get("kind") == "postgresql":
        if pg_data is None or wal_archive is None:
            raise click.ClickException("a PostgreSQL restore needs --pg-data and --wal-archive")
        instant = None
        if until:
            try:
                instant = datetime.fromisoformat(until)
            except ValueError:
                raise click.BadParameter("not an ISO 8601 instant", param_hint="--until") from None
            if instant.tzinfo is None:
                raise click.BadParameter("give the offset too (e.g. +07:00)", param_hint="--until")
        try:
            prepare_restore(source / "base", pg_data, wal_archive, instant)
        except (FileExistsError, FileNotFoundError, ValueError) as err:
            raise click.ClickException(str(err)) from None
        console.print(f"data directory {pg_data} prepared: the server replays {wal_archive} up to "
                      f"{instant.isoformat() if instant else 'the end of the archive'}, then opens. Start it "
                      "(as the postgres user: pg_ctl -D DIR start), point LANDFLOW_DATABASE_URL at it, run "
                      "`landflow verify --all`.", highlight=False)
    else:
        raise click.ClickException(f"{source}: unknown backup kind {manifest.get('kind')!r}")
    copied = copy_blobs(source / "blobs", settings.blob_dir)
    console.print(_blobs_line(copied), highlight=False)


COMMANDS = [backup_cmd, restore_cmd]
