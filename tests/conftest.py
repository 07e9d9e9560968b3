"""Fixtures that build real databases: a SQLite file per test, and a fresh PostgreSQL schema per test
in the throwaway server `make test` starts (LANDFLOW_TEST_PG_URL)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text

from config.settings import Settings
from engine.bootstrap import Landflow, build, seed
from engine.clock import FixedClock
from engine.org import Officer
from tests.support.bpmn_builder import small_procedure
from tests.support.org import small_organisation

pytest_plugins = ("tests.support.figures",)  # the reliability suite's summary line
VN = ZoneInfo("Asia/Ho_Chi_Minh")
PG_URL = os.environ.get("LANDFLOW_TEST_PG_URL")
TEST_CALENDAR = """
# A make-up working Saturday, invented for the tests, so the arithmetic crosses one.
makeup_working_days = [2026-02-07]
extra_days_off = []
"""


def local(*args: int) -> datetime:
    """A local (Asia/Ho_Chi_Minh) instant, as an officer reads it."""
    return datetime(*args, tzinfo=VN)


CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Debian chromium per test process, shared by every browser test: Playwright's sync
    API cannot run two instances in one process. `make test` installs chromium (scripts/test-tools.sh)."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "Debian's chromium is missing: run `make test` (scripts/test-tools.sh installs it)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM),
                              args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield b
        b.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'landflow.db'}"
        return
    if not PG_URL:
        pytest.fail("LANDFLOW_TEST_PG_URL is not set: run the suite with `make test` (it starts PostgreSQL), "
                    "or deselect with -m 'not postgres'")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.connect() as c:
        c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(local(2026, 2, 5, 9, 0))


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    cal = tmp_path / "calendar.toml"
    cal.write_text(TEST_CALENDAR, encoding="utf-8")
    # Ed25519 officer keys: the development option (LANDFLOW_ED25519_KEYS=1) most engine tests sign with;
    # tests/engine/test_certificates.py turns it off and signs with certificates
    return Settings.from_env({}, database_url=database_url, var_dir=tmp_path, calendar_file=cal,
                             sla_overrides={}, ed25519_keys=True)


@pytest.fixture
def lf(settings: Settings, clock: FixedClock) -> Iterator[Landflow]:
    app = build(settings, clock=clock)
    app.db.create_all()
    seed(app, small_organisation(), with_officers=True)
    yield app
    app.close()


def officer(lf: Landflow, username: str) -> Officer:
    return lf.directory.get().officers[username]


@pytest.fixture
def small(lf: Landflow) -> Landflow:
    """The engine with the small test procedure deployed."""
    lf.runtime.deploy(officer(lf, "supervisor"), small_procedure().to_xml())
    return lf
