"""A throwaway PostgreSQL server for the benches, started the way scripts/with-postgres.sh starts one.

`postgres_url()` yields a database URL: LANDFLOW_BENCH_PG_URL when set (a server you keep, e.g. to
build the 1M-dossier fixture once), else a fresh cluster in a temporary directory, removed on exit.
initdb and postgres refuse to run as root: as root the cluster belongs to the `postgres` user.
fsync stays on by default (a bench measures what production would do); `fast=True` turns it off
for fixture building only.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text


def find_bin() -> Path | None:
    for d in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (d / "pg_ctl").exists():
            return d
    found = shutil.which("pg_ctl")
    return Path(found).parent if found else None


def available() -> bool:
    return bool(os.environ.get("LANDFLOW_BENCH_PG_URL")) or find_bin() is not None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def cluster(settings: tuple[str, ...] = ()) -> Iterator[str]:
    """Start a PostgreSQL cluster; yield a URL of its `landflow` database."""
    binary = find_bin()
    if binary is None:
        raise RuntimeError("PostgreSQL binaries not found (apt-get install postgresql)")
    port = _free_port()
    directory = Path(tempfile.mkdtemp(prefix="landflow-bench-pg."))
    run_as: list[str] = []
    if os.geteuid() == 0:
        subprocess.run(["sh", "-c", "id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres"],
                       check=True)
        shutil.chown(directory, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    data = directory / "data"
    options = " ".join([f"-p {port}", f"-k {directory}", "-c listen_addresses=127.0.0.1", "-c max_connections=200",
                        "-c shared_buffers=512MB", *(f"-c {s}" for s in settings)])
    subprocess.run([*run_as, str(binary / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                    "--locale=C.UTF-8"], check=True, stdout=subprocess.DEVNULL)
    try:
        subprocess.run([*run_as, str(binary / "pg_ctl"), "-D", str(data), "-l", str(directory / "server.log"), "-w",
                        "-t", "60", "start", "-o", options], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([*run_as, str(binary / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
                        "landflow"], check=True)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/landflow"
    finally:
        subprocess.run([*run_as, str(binary / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def postgres_url(settings: tuple[str, ...] = ()) -> Iterator[str]:
    """A database for one bench run: a fresh schema on LANDFLOW_BENCH_PG_URL, or a fresh cluster."""
    kept = os.environ.get("LANDFLOW_BENCH_PG_URL")
    if not kept:
        with cluster(settings) as url:
            yield url
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(kept, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in kept else "?"
    try:
        yield f"{kept}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
