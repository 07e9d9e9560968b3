"""A PostgreSQL cluster of one's own, for tests that stop and start the database server.

The suite's shared server (scripts/with-postgres.sh) serves every xdist worker at once; stopping it
would fail other tests. This starts another cluster with the same binaries (LANDFLOW_TEST_PG_BIN),
as the `postgres` user when running as root (initdb and postgres refuse root), in a directory that
user owns.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .live_server import free_port


class PrivatePostgres:
    def __init__(self, bin_dir: str, init: bool = True):
        self.bin = Path(bin_dir)
        self.dir = Path(tempfile.mkdtemp(prefix="landflow-pgdown-"))
        self.port = free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        if init:  # else: `data` is filled by the caller (a restored base backup)
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                      "--locale=C.UTF-8")

    @property
    def data(self) -> Path:
        return self.dir / "data"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.as_user, str(self.bin / tool), *args], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=120)

    def configure(self, **settings: str) -> None:
        """Lines added to the cluster's postgresql.conf (before `start`): e.g. archive_mode='on'."""
        with (self.data / "postgresql.conf").open("a", encoding="utf-8") as fh:
            for name, value in settings.items():
                fh.write(f"{name} = '{value}'\n")

    def psql(self, sql: str) -> str:
        """One statement through psql, its unaligned result."""
        psql = str(self.bin / "psql") if (self.bin / "psql").exists() else "psql"
        done = subprocess.run([psql, "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "postgres",
                               "-Atc", sql], check=True, capture_output=True, text=True, timeout=60)
        return done.stdout.strip()

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "server.log"), "-w", "-t", "60", "start",
                  "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                        "-c max_connections=100")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)
