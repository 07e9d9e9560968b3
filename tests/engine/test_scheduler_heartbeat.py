"""The scheduler beats into the database: readiness and /metrics read when it last answered and how
long its last sweep took, from any host."""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from alembic import command

from engine.bootstrap import Landflow
from engine.health import readiness
from engine.scheduler import start_scheduler
from engine.scheduler.heartbeat import FORGET_AFTER, Heartbeat, last_beat, process_name
from engine.store import SchedulerBeatRow
from engine.store.migrate import alembic_config


def test_the_scheduler_beats_and_records_its_sweeps(small: Landflow, settings: Any) -> None:
    lf = small
    lf.settings = dataclasses.replace(settings, sweep_seconds=1, checkpoint_minutes=0)
    assert last_beat(lf.db).beat_at is None
    started = datetime.now(UTC)
    scheduler = start_scheduler(lf)
    try:
        deadline = time.monotonic() + 20
        while last_beat(lf.db).sweep_at is None and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        scheduler.shutdown(wait=True)
    beat = last_beat(lf.db)
    assert beat.beat_at is not None and beat.beat_at >= started - timedelta(seconds=1)
    assert beat.sweep_at is not None and beat.sweep_seconds is not None and 0 <= beat.sweep_seconds < 20
    with lf.db.read() as s:
        (row,) = s.query(SchedulerBeatRow).all()
    assert row.name == process_name()


def test_beats_of_processes_silent_for_a_week_are_forgotten(lf: Landflow) -> None:
    old = Heartbeat(lf.db, "gone-host:1", datetime.now(UTC) - FORGET_AFTER * 2)
    old.beat()
    with lf.db.write() as s:
        s.get(SchedulerBeatRow, "gone-host:1").beat_at = datetime.now(UTC) - FORGET_AFTER - timedelta(hours=1)
    Heartbeat.of_this_process(lf.db).beat()
    with lf.db.read() as s:
        assert [r.name for r in s.query(SchedulerBeatRow)] == [process_name()]


def test_readiness_checks_each_part(lf: Landflow) -> None:
    now = datetime.now(UTC)
    got = readiness(lf.db, 180, now)  # built by create_all: never migrated
    assert got.checks["database"]["ok"] and not got.checks["migrations"]["ok"]
    assert got.checks["migrations"]["database"] == []
    cfg = alembic_config(str(lf.db.engine.url))
    with lf.db.engine.begin() as conn:  # the tables are there: say they are at the head
        cfg.attributes["connection"] = conn
        command.stamp(cfg, "head")
    Heartbeat.of_this_process(lf.db).beat()
    got = readiness(lf.db, 180, now + timedelta(seconds=60))
    assert got.ready, got.checks
    got = readiness(lf.db, 180, now + timedelta(seconds=400))
    assert not got.ready and not got.checks["scheduler"]["ok"] and got.checks["migrations"]["ok"]
