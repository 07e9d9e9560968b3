"""Fixtures of the reliability suite: a demo-initialised database (SQLite file or PostgreSQL schema,
through the `database_url` fixture), a real server on it, and the short/long (soak) scale.

`make test` runs the short variants; `make soak` sets LANDFLOW_SOAK=1, which multiplies the counts
(threads, operations, kills, hostile uploads) by `scale()`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from api.auth import hash_password
from api.cli.setup import initialise
from config.settings import Settings
from engine import accounts
from engine.bootstrap import Landflow, build
from tests.support.live_server import Http, LiveServer, server_env

SOAK = os.environ.get("LANDFLOW_SOAK") == "1"


def scale(short: int, soak: int) -> int:
    """A count for this run: `short` under `make test`, `soak` under `make soak`."""
    return soak if SOAK else short


@dataclass
class DemoDatabase:
    """A database initialised like `landflow init` in demo mode, and the var dir holding its keys."""

    url: str
    var_dir: Path

    def settings(self, **overrides: object) -> Settings:
        return Settings.from_env({}, **{"database_url": self.url, "var_dir": self.var_dir, "demo": True, **overrides})

    def engine(self, **overrides: object) -> Landflow:
        return build(self.settings(**overrides))

    def env(self, **extra: str) -> dict[str, str]:
        return server_env(self.url, self.var_dir, **extra)

    def add_officer(self, username: str, unit: str, roles: tuple[str, ...], password: str = "s3cret-pass") -> None:
        """An ordinary (non-demo) account, added as `landflow officers add` does."""
        lf = self.engine()
        try:
            accounts.add_account(lf.db, accounts.CLI_ACTOR, lf.clock.now(), username, username, unit, roles,
                                 hash_password(password))
        finally:
            lf.close()


@pytest.fixture
def demo_db(database_url: str, tmp_path: Path) -> DemoDatabase:
    var = tmp_path / "var"
    db = DemoDatabase(database_url, var)
    lf = db.engine()
    try:
        initialise(lf, say=lambda _msg: None)
    finally:
        lf.close()
    return db


@pytest.fixture
def start_server(demo_db: DemoDatabase, tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """`start_server(workers=1, threads=8, **env)`: a running `landflow serve`; stopped at teardown."""
    servers: list[LiveServer] = []

    def start(workers: int = 1, threads: int = 8, **env: str) -> LiveServer:
        server = LiveServer(demo_db.env(**env), tmp_path / f"server{len(servers)}.log", workers, threads)
        servers.append(server)
        server.start()
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def http_of() -> Callable[[LiveServer], Http]:
    return lambda server: Http(server.base)
