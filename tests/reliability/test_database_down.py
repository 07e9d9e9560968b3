"""The database goes away under load: the API answers 503 problem+json (never a 500, never a
traceback), comes back by itself when the database does, and loses no acknowledged action.

PostgreSQL: a private cluster (tests/support/private_postgres.py) is stopped with `pg_ctl stop -m
fast` while client threads drive dossiers through a real server, then started again; the server is
not restarted. SQLite: another process holds the write lock longer than the busy timeout.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.app import create_app
from api.cli.setup import initialise
from engine.bootstrap import build
from tests.support.figures import Figures
from tests.support.live_server import Http, LiveServer
from tests.support.private_postgres import PrivatePostgres

from .conftest import DemoDatabase, scale
from .land import STEP_DATA, Signer, is_problem, open_body, open_items
from .workload import Workload, missing_acks, unverified_dossiers


@pytest.fixture
def private_pg() -> Iterator[PrivatePostgres]:
    bin_dir = os.environ.get("LANDFLOW_TEST_PG_BIN")
    if not bin_dir:
        pytest.fail("LANDFLOW_TEST_PG_BIN is not set: run the suite with `make test` (scripts/with-postgres.sh)")
    pg = PrivatePostgres(bin_dir)
    try:
        pg.start()
        yield pg
    finally:
        pg.destroy()


@pytest.mark.postgres
def test_postgresql_stopped_mid_run(private_pg: PrivatePostgres, tmp_path: Path, figures: Figures) -> None:
    db = DemoDatabase(private_pg.url, tmp_path / "var")
    lf = db.engine()
    try:
        initialise(lf, say=lambda _msg: None)
    finally:
        lf.close()
    server = LiveServer(db.env(), tmp_path / "server.log", workers=2, threads=4)
    server.start()
    try:
        http = Http(server.base, timeout=30)
        load = Workload(server.base, Signer(db, tmp_path / "keys"), threads=6, allowed={200, 201, 412, 503})
        load.start()
        outages = scale(1, 3)
        during: list[tuple[int, bool, str | None]] = []
        for _ in range(outages):
            time.sleep(2.0)
            acked_before = len(load.tally.acks)
            private_pg.stop("fast")
            figures.add("faults")
            down_until = time.monotonic() + 3.0
            while time.monotonic() < down_until:  # the API keeps answering, with 503
                health = http.get("/api/v1/health")
                mine = http.get("/api/v1/worklist", token=load.tokens["desk.haichau"])
                for reply in (health, mine):
                    during.append((reply.status, is_problem(reply), reply.headers.get("retry-after")))
                time.sleep(0.1)
            private_pg.start()
            recovered = time.monotonic() + 30
            while http.get("/api/v1/health").status != 200:
                assert time.monotonic() < recovered, "the API did not recover by itself"
                time.sleep(0.2)
            time.sleep(1.5)  # work goes on after the outage
            assert len(load.tally.acks) > acked_before, "no command succeeded after the database came back"
        load.stop()
    finally:
        server.stop()
    tally = load.tally
    figures.add("operations", tally.operations + len(during))
    assert during and all(status == 503 and problem and retry for status, problem, retry in during), during[:5]
    assert tally.statuses[503] > 0, tally.statuses  # the workload saw the outage too
    assert not tally.unexpected, tally.unexpected[:5]
    assert tally.bad_problems == 0
    assert tally.unknown == 0, "the server must answer while the database is down"
    missing = missing_acks(db, tally.acks)
    figures.add("losses", len(missing))
    assert not missing, missing[:5]
    checked, bad = unverified_dossiers(db)
    assert checked > 0 and not bad, bad[:3]
    log = server.tail(500_000)
    assert "unhandled error" not in log, log[-3000:]


def test_sqlite_write_lock_held_too_long_is_503_then_works(tmp_path: Path, figures: Figures) -> None:
    """SQLite only: its one file lock. (PostgreSQL waits on row locks instead: see the races.)"""
    demo_db = DemoDatabase(f"sqlite:///{tmp_path / 'landflow.db'}", tmp_path / "var")
    lf = build(demo_db.settings(sqlite_busy_seconds=0.5))
    initialise(lf, say=lambda _msg: None)
    client = create_app(lf).test_client()
    try:
        desk = {"Authorization": "Bearer " + client.post("/api/v1/auth/token", json={
            "username": "desk.haichau", "password": "demo"}).json["token"]}
        opened = client.post("/api/v1/dossiers", json=open_body(1), headers=desk)
        assert opened.status_code == 201
        (item,) = open_items(opened.json)
        holder = sqlite3.connect(demo_db.url.removeprefix("sqlite:///"), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process writing for a long time
        try:
            resp = client.post(f"/api/v1/work-items/{item['id']}/complete", json={"data": STEP_DATA["receive"]},
                               headers=desk)
            assert resp.status_code == 503, resp.get_data(as_text=True)
            assert resp.mimetype == "application/problem+json" and resp.json["code"] == "database_busy"
            assert resp.headers["Retry-After"] == "1"
            assert "Traceback" not in resp.get_data(as_text=True) and "sqlite" not in resp.json["detail"].lower()
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        again = client.get(f"/api/v1/dossiers/{opened.json['id']}", headers=desk)
        assert again.json["version"] == opened.json["version"]  # nothing was half-written
        resp = client.post(f"/api/v1/work-items/{item['id']}/complete", json={"data": STEP_DATA["receive"]},
                           headers=desk)
        assert resp.status_code == 200, resp.json
        figures.add("faults")
        figures.add("operations", 4)
    finally:
        lf.close()
