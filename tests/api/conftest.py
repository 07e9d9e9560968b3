"""An HTTP client on the real Flask app over a real database (SQLite and PostgreSQL), initialised
like `landflow init` in demo mode: the bundled Da Nang organisation, demo accounts, bundled procedures."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.app import create_app
from api.cli.setup import initialise
from api.simulation import Simulation, Stats
from config.settings import Settings
from engine.bootstrap import Landflow, build
from engine.checkpoints import ensure_key
from engine.clock import FixedClock
from tests.conftest import local


@pytest.fixture
def demo_settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings.from_env({}, database_url=database_url, var_dir=tmp_path, demo=True)


@pytest.fixture
def demo_clock() -> FixedClock:
    return FixedClock(local(2026, 3, 2, 8, 0))  # a Monday morning


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`landflow init` (demo mode) into a SQLite file once per session; tests get a copy of it."""
    path = tmp_path_factory.mktemp("template") / "landflow.db"
    lf = build(Settings.from_env({}, database_url=f"sqlite:///{path}", var_dir=path.parent, demo=True))
    initialise(lf, say=lambda _msg: None)
    lf.close()
    return path


@pytest.fixture
def demo_lf(demo_settings: Settings, demo_clock: FixedClock, sqlite_template: Path) -> Iterator[Landflow]:
    if demo_settings.database_url.startswith("sqlite:///"):
        shutil.copyfile(sqlite_template, demo_settings.database_url.removeprefix("sqlite:///"))
        lf = build(demo_settings, clock=demo_clock)
    else:
        lf = build(demo_settings, clock=demo_clock)
        initialise(lf, say=lambda _msg: None)
    yield lf
    lf.close()


@pytest.fixture
def app(demo_lf: Landflow) -> Flask:
    return create_app(demo_lf)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class Caller:
    """A signed-in officer: `caller.post(path, json=...)` with their bearer token."""

    def __init__(self, client: FlaskClient, username: str, password: str = "demo"):
        resp = client.post("/api/v1/auth/token", json={"username": username, "password": password})
        assert resp.status_code == 200, resp.get_data(as_text=True)
        self.client = client
        self.username = username
        self.token = resp.json["token"]
        self.officer = resp.json["officer"]

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    def get(self, path: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        return self.client.get(path, headers=self._headers(headers), **kw)

    def post(self, path: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        return self.client.post(path, headers=self._headers(headers), **kw)

    def delete(self, path: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        return self.client.delete(path, headers=self._headers(headers), **kw)

    def put(self, path: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        return self.client.put(path, headers=self._headers(headers), **kw)


@pytest.fixture
def sign_in(client: FlaskClient) -> Any:
    cache: dict[str, Caller] = {}

    def signed(username: str) -> Caller:
        if username not in cache:
            cache[username] = Caller(client, username)
        return cache[username]

    return signed


@pytest.fixture
def simulated(demo_lf: Landflow, demo_clock: FixedClock) -> Stats:
    """A small `landflow demo` history (api/simulation.py: its sweeps and checkpoints included) over the
    fourteen working days before the demo clock's Monday morning, across Tết 2026; the clock ends there."""
    ensure_key(demo_lf.settings.checkpoint_key)
    end = demo_clock.now()
    # seed 6: a history with something in every column, late dossiers done and in progress included
    stats = Simulation(demo_lf, demo_clock, seed=6, end=end, days=14).run(60)
    demo_clock.set(end)
    return stats
