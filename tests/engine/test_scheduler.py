"""The deadline sweep: every notice exactly once, at the first sweep after its moment, across Tết,
restarts, overlapping sweeps and two schedulers on one database."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from engine.bootstrap import Landflow, build
from engine.clock import FixedClock
from engine.history import verify
from engine.scheduler import Sweeper, start_scheduler
from engine.scheduler.notices import Candidate
from engine.scheduler.sweep import SWEEP_LOCK
from engine.store import CaseEventRow, DeadlineNoticeRow, SignalRow, WorkItemRow
from tests.conftest import VN, local, officer

KINDS = ("step_overdue", "escalated", "dossier_overdue", "due_soon", "idle_claim")


def notices(lf: Landflow) -> list[CaseEventRow]:
    with lf.db.read() as s:
        return list(s.scalars(select(CaseEventRow).where(CaseEventRow.type.in_(KINDS)).order_by(CaseEventRow.id)))


def item_of(lf: Landflow, dossier_id: int, ordinal: int) -> WorkItemRow:
    with lf.db.read() as s:
        row = s.scalar(select(WorkItemRow).where(WorkItemRow.dossier_id == dossier_id, WorkItemRow.ordinal == ordinal))
    assert row is not None
    return row


def key(ev: CaseEventRow) -> tuple[str, int, int]:
    return ev.type, ev.dossier_id, json.loads(ev.payload).get("item", 0)


def sweep_times(start: datetime, end: datetime, step: timedelta) -> list[datetime]:
    out, t = [], start
    while t <= end:
        out.append(t)
        t += step
    return out


@pytest.fixture
def world(small: Landflow, clock: FixedClock) -> dict[str, Any]:
    """Three dossiers: one left alone, one whose receipt is claimed and left idle, one received the
    day before Tết (its deadlines fall in and after the holiday)."""
    rt, desk = small.runtime, officer(small, "desk.w1")
    alone = rt.open(desk, "small_test", "W1", {"name": "A"})
    idle = rt.open(desk, "small_test", "W1", {"name": "B"})
    rt.claim(desk, idle.items[1].id)
    clock.set(local(2026, 2, 12, 10, 0))
    tet = rt.open(desk, "small_test", "W1", {"name": "C"})
    return {"alone": alone.id, "idle": idle.id, "tet": tet.id}


def expected_moments(lf: Landflow, world: dict[str, Any],
                     times: list[datetime]) -> dict[tuple[str, int, int], datetime]:
    """When each notice must appear: the first sweep time at which its condition holds, computed here
    from the projections and the working calendar (not by the sweep's code)."""
    cal, s = lf.calendar, lf.settings
    delay, idle_t, soon = cal.minutes(s.escalation_delay), cal.minutes(s.idle_claim), cal.minutes(s.due_soon)
    out: dict[tuple[str, int, int], datetime] = {}

    def first(pred: Any) -> datetime | None:
        return next((t for t in times if pred(t)), None)

    for did in world.values():
        with lf.db.read() as ses:
            items = list(ses.scalars(select(WorkItemRow).where(WorkItemRow.dossier_id == did,
                                                               WorkItemRow.state.in_(("ready", "claimed")))))
            from engine.store import DossierRow
            d = ses.get(DossierRow, did)
        assert d is not None and d.due_at is not None
        for it in items:
            due = it.due_at
            assert due is not None
            out[("step_overdue", did, it.ordinal)] = first(lambda t, due=due: t > due)
            out[("escalated", did, it.ordinal)] = first(lambda t, due=due: t > due and cal.between(due, t) >= delay)
            if it.state == "claimed":
                since = it.last_activity_at
                out[("idle_claim", did, it.ordinal)] = first(lambda t, since=since: cal.between(since, t) >= idle_t)
        out[("dossier_overdue", did, 0)] = first(lambda t, due=d.due_at: t > due)
        out[("due_soon", did, 0)] = first(lambda t, due=d.due_at: t < due and cal.between(t, due) <= soon)
    return {k: v for k, v in out.items() if v is not None}


def test_each_notice_once_at_its_moment_across_tet(world: dict[str, Any], small: Landflow, clock: FixedClock) -> None:
    lf = small
    times = sweep_times(local(2026, 2, 12, 10, 20), local(2026, 3, 2, 17, 0), timedelta(minutes=50))
    expected = expected_moments(lf, world, times)
    sweeper = Sweeper(lf)
    for t in times:
        clock.set(t)
        sweeper.sweep()
        if t.minute == 0:
            sweeper.sweep()  # a second, overlapping-in-time sweep finds nothing new
    got = notices(lf)
    counts = Counter(key(ev) for ev in got)
    assert {k: n for k, n in counts.items() if n != 1} == {}
    assert set(counts) == set(expected)
    for ev in got:
        assert ev.at == expected[key(ev)], key(ev)
        assert ev.actor == "system"
    # Tết: the Tết dossier's receipt step (P1D from Thursday 12 Feb 10:00) is due on Friday 13 Feb;
    # it is escalated one working day later, after the holiday (14-22 Feb), never during it.
    assert ("due_soon", world["tet"], 0) in expected and ("due_soon", world["alone"], 0) not in expected
    esc = [ev for ev in got if key(ev) == ("escalated", world["tet"], 1)]
    tet_item = item_of(lf, world["tet"], 1)
    assert tet_item.due_at is not None and tet_item.due_at.astimezone(VN).date() == date(2026, 2, 13)
    assert esc[0].at.astimezone(VN).date() == date(2026, 2, 23)
    # the signals follow the events; the escalation names the unit head; the chains still verify
    with lf.db.read() as s:
        sig = Counter(x.kind for x in s.scalars(select(SignalRow).where(SignalRow.kind.in_(KINDS))))
        assert sig == Counter(ev.type for ev in got)
        for did in world.values():
            assert verify(s, lf.procedures, did).ok
    payload = json.loads(esc[0].payload)
    assert payload["to"] == ["head.w1"] and payload["unit"] == "W1" and payload["officer"] is None
    idle = json.loads(next(ev for ev in got if key(ev) == ("idle_claim", world["idle"], 1)).payload)
    assert idle["officer"] == "desk.w1"


def test_a_command_in_time_prevents_the_notice(small: Landflow, clock: FixedClock) -> None:
    lf = small
    desk = officer(lf, "desk.w1")
    st = lf.runtime.open(desk, "small_test", "W1", {"name": "A"})
    due = item_of(lf, st.id, 1).due_at
    assert due is not None
    clock.set(due - timedelta(minutes=1))
    lf.runtime.complete(desk, st.items[1].id, {"complete": True})
    clock.set(due + timedelta(minutes=5))
    Sweeper(lf).sweep()
    assert [key(ev) for ev in notices(lf)] == []


class CrashingSweeper(Sweeper):
    """A sweep that dies (as a process would) after recording `after` notices."""

    def __init__(self, lf: Landflow, after: int):
        super().__init__(lf)
        self.left = after

    def record(self, c: Candidate, now: datetime, directory: Any) -> int:
        if self.left == 0:
            raise RuntimeError("killed mid-sweep")
        n = super().record(c, now, directory)
        self.left -= n
        return n


def test_a_restart_mid_sweep_neither_loses_nor_repeats(small: Landflow, clock: FixedClock) -> None:
    lf = small
    desk = officer(lf, "desk.w1")
    ids = [lf.runtime.open(desk, "small_test", "W1", {"name": f"A{i}"}).id for i in range(4)]
    lf.runtime.claim(desk, item_of(lf, ids[0], 1).id)
    clock.set(local(2026, 2, 16 + 10, 9, 0))  # well past every deadline
    with pytest.raises(RuntimeError):
        CrashingSweeper(lf, after=3).sweep()
    assert len(notices(lf)) == 3
    Sweeper(lf).sweep()
    counts = Counter(key(ev) for ev in notices(lf))
    # every dossier: receipt overdue and escalated, dossier overdue; the claimed one also idle
    expected = {(k, d, 1) for d in ids for k in ("step_overdue", "escalated")} | \
               {("dossier_overdue", d, 0) for d in ids} | {("idle_claim", ids[0], 1)}
    assert set(counts) == expected and set(counts.values()) == {1}
    Sweeper(lf).sweep()
    assert len(notices(lf)) == len(expected)


def test_two_schedulers_on_one_database_record_each_notice_once(small: Landflow, settings: Any,
                                                                 clock: FixedClock) -> None:
    lf = small
    desk = officer(lf, "desk.w1")
    ids = [lf.runtime.open(desk, "small_test", "W1", {"name": f"A{i}"}).id for i in range(6)]
    other = build(settings, clock=clock)  # a second process: its own engine, pool and caches
    try:
        clock.set(local(2026, 2, 27, 9, 0))
        sweepers = [Sweeper(lf), Sweeper(other)]
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def run(sw: Sweeper) -> None:
            try:
                for _ in range(3):
                    barrier.wait()
                    sw.sweep()
            except BaseException as err:  # noqa: BLE001 - reported below
                errors.append(err)

        threads = [threading.Thread(target=run, args=(sw,)) for sw in sweepers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert errors == []
        counts = Counter(key(ev) for ev in notices(lf))
        expected = {(k, d, 1) for d in ids for k in ("step_overdue", "escalated")} | \
                   {("dossier_overdue", d, 0) for d in ids}
        assert set(counts) == expected and set(counts.values()) == {1}
        with lf.db.read() as s:
            assert s.query(DeadlineNoticeRow).count() == len(expected)
    finally:
        other.close()


def test_the_advisory_lock_lets_one_scheduler_sweep(small: Landflow, clock: FixedClock) -> None:
    lf = small
    desk = officer(lf, "desk.w1")
    lf.runtime.open(desk, "small_test", "W1", {"name": "A"})
    clock.set(local(2026, 2, 27, 9, 0))
    sweeper = Sweeper(lf)
    with sweeper.exclusive() as held:
        assert held
        result = Sweeper(lf).sweep()  # another scheduler, while this one sweeps
        if lf.db.dialect == "postgresql":
            assert result.skipped and notices(lf) == []
        else:  # SQLite has no advisory lock: the notices' unique key alone keeps them exact
            assert not result.skipped and len(notices(lf)) == 3
    again = Sweeper(lf).sweep()
    assert not again.skipped
    assert len(notices(lf)) == 3
    if lf.db.dialect == "postgresql":
        with lf.db.engine.connect() as c:  # the lock was released: anyone can take it now
            assert c.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": SWEEP_LOCK}).scalar() is True
            c.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": SWEEP_LOCK})


def test_apscheduler_runs_the_sweep(small: Landflow, settings: Any, clock: FixedClock) -> None:
    lf = small
    lf.settings = dataclasses.replace(settings, sweep_seconds=1, checkpoint_minutes=0)
    lf.runtime.open(officer(lf, "desk.w1"), "small_test", "W1", {"name": "A"})
    clock.set(local(2026, 2, 27, 9, 0))
    scheduler = start_scheduler(lf)
    try:
        deadline = time.monotonic() + 20
        while len(notices(lf)) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        scheduler.shutdown(wait=True)
    assert sorted(ev.type for ev in notices(lf)) == ["dossier_overdue", "escalated", "step_overdue"]
