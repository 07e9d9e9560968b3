"""BPMN timers: due in working time, fired only by the sweep through a recorded event, replayed
from the record (never from SpiffWorkflow's wall clock)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text

from engine.bootstrap import Landflow
from engine.clock import FixedClock
from engine.history import replay, verify
from engine.runtime.timers import FAR_FUTURE
from engine.runtime.workflow import load_snapshot
from engine.scheduler import Sweeper
from engine.store import CaseEventRow, DossierRow, DossierStateRow, TimerRow, WorkItemRow
from tests.conftest import local, officer
from tests.support.bpmn_builder import timer_procedure


@pytest.fixture
def timed(lf: Landflow) -> Landflow:
    lf.runtime.deploy(officer(lf, "supervisor"), timer_procedure().to_xml())
    return lf


def timers(lf: Landflow, did: int) -> list[tuple[str, str, str, int | None]]:
    with lf.db.read() as s:
        return [(t.node, t.state, t.due_at.isoformat(), t.item) for t in
                s.scalars(select(TimerRow).where(TimerRow.dossier_id == did).order_by(TimerRow.ordinal))]


def open_items(lf: Landflow, did: int) -> list[tuple[int, str, str]]:
    with lf.db.read() as s:
        return [(i.ordinal, i.step, i.state) for i in s.scalars(
            select(WorkItemRow).where(WorkItemRow.dossier_id == did, WorkItemRow.state.in_(("ready", "claimed")))
            .order_by(WorkItemRow.ordinal))]


def event_types(lf: Landflow, did: int) -> list[str]:
    with lf.db.read() as s:
        return list(s.scalars(select(CaseEventRow.type).where(CaseEventRow.dossier_id == did)
                              .order_by(CaseEventRow.seq)))


def test_timers_fire_in_working_time_through_recorded_events(timed: Landflow, clock: FixedClock) -> None:
    lf = timed
    desk, chair = officer(lf, "desk.w1"), officer(lf, "chair.w1")
    clock.set(local(2026, 2, 13, 15, 0))  # Friday 15:00, the last working afternoon before Tết
    st = lf.runtime.open(desk, "timer_test", "W1", {"name": "A"})
    lf.runtime.complete(desk, st.items[1].id, {})
    # PT4H of working time from Friday 15:00: two hours on Friday, two after Tết (14-22 Feb)
    wait_due = local(2026, 2, 23, 9, 30)
    assert [(t[0], t[1], t[3]) for t in timers(lf, st.id)] == [("wait", "waiting", None)]
    with lf.db.read() as s:
        row = s.scalar(select(TimerRow).where(TimerRow.dossier_id == st.id))
        assert row is not None and row.due_at == wait_due
        snap = s.get(DossierStateRow, st.id)
        assert snap is not None
        pinned = [t["internal_data"] for t in load_snapshot(snap.state)["tasks"].values()
                  if t["internal_data"].get("event_value") is not None]
    # SpiffWorkflow's own due time (wall clock + 4 h) is replaced: only a recorded event fires it
    assert pinned == [{"event_value": FAR_FUTURE}]
    sweeper = Sweeper(lf)
    clock.set(local(2026, 2, 20, 12, 0))  # a week of calendar time, but Tết: no working time
    assert sweeper.sweep().timers_fired == 0
    assert open_items(lf, st.id) == []
    clock.set(local(2026, 2, 23, 9, 31))
    assert sweeper.sweep().timers_fired == 1
    assert open_items(lf, st.id) == [(2, "verify", "ready")]
    # the boundary timer on verify: P3D from 23 Feb 09:31
    late_due = local(2026, 2, 26, 9, 31)
    with lf.db.read() as s:
        rows = list(s.scalars(select(TimerRow).where(TimerRow.dossier_id == st.id).order_by(TimerRow.ordinal)))
    assert [(r.node, r.state, r.item) for r in rows] == [("wait", "fired", None), ("late", "waiting", 2)]
    assert rows[1].due_at == late_due
    clock.set(local(2026, 2, 26, 9, 30))
    assert sweeper.sweep().timers_fired == 0
    clock.set(local(2026, 2, 26, 9, 32))
    assert sweeper.sweep().timers_fired == 1
    assert sweeper.sweep().timers_fired == 0  # fired once only
    assert open_items(lf, st.id) == [(3, "escalate", "ready")]
    with lf.db.read() as s:
        verify_item = s.scalar(select(WorkItemRow).where(WorkItemRow.dossier_id == st.id, WorkItemRow.ordinal == 2))
        assert verify_item is not None and verify_item.outcome == "cancelled"
    lf.runtime.complete(chair, _item_id(lf, st.id, 3), {})
    types = event_types(lf, st.id)
    assert types.count("timer_fired") == 2
    with lf.db.read() as s:
        d = s.get(DossierRow, st.id)
        assert d is not None and (d.status, d.outcome) == ("done", "escalated")
        fired = [json.loads(p) for p in s.scalars(select(CaseEventRow.payload).where(
            CaseEventRow.dossier_id == st.id, CaseEventRow.type == "timer_fired").order_by(CaseEventRow.seq))]
        assert [f["node"] for f in fired] == ["wait", "late"]
        result = verify(s, lf.procedures, st.id)
        assert result.ok, result.problems
        # as of the first firing, an auditor sees the verify step open and the boundary timer waiting
        first_fire = types.index("timer_fired") + 1
        r = replay(s, lf.procedures, st.id, first_fire)
        assert [i.step for i in r.state.open_items()] == ["verify"]
        assert [(t.node, t.state) for t in r.state.timers.values()] == [("wait", "fired"), ("late", "waiting")]


def _item_id(lf: Landflow, did: int, ordinal: int) -> int:
    with lf.db.read() as s:
        found = s.scalar(select(WorkItemRow.id).where(WorkItemRow.dossier_id == did, WorkItemRow.ordinal == ordinal))
    assert found is not None
    return found


def test_a_step_done_in_time_cancels_its_boundary_timer(timed: Landflow, clock: FixedClock) -> None:
    lf = timed
    desk, land = officer(lf, "desk.w1"), officer(lf, "land.w1")
    st = lf.runtime.open(desk, "timer_test", "W1", {"name": "A"})
    lf.runtime.complete(desk, st.items[1].id, {})
    clock.advance(hours=30)
    Sweeper(lf).sweep()
    lf.runtime.complete(land, _item_id(lf, st.id, 2), {})
    assert [t[:2] for t in timers(lf, st.id)] == [("wait", "fired"), ("late", "cancelled")]
    clock.advance(days=30)
    assert Sweeper(lf).sweep().timers_fired == 0
    with lf.db.read() as s:
        d = s.get(DossierRow, st.id)
        assert d is not None and d.outcome == "verified"
        assert verify(s, lf.procedures, st.id).ok


def test_a_timer_projection_that_disagrees_with_the_log_is_reported(timed: Landflow, clock: FixedClock) -> None:
    lf = timed
    desk = officer(lf, "desk.w1")
    st = lf.runtime.open(desk, "timer_test", "W1", {"name": "A"})
    lf.runtime.complete(desk, st.items[1].id, {})
    with lf.db.engine.begin() as c:  # someone moves the timer later, to hide a missed step
        c.execute(text("UPDATE bpmn_timer SET due_at = '2027-01-01 00:00:00.000000'"))
    with lf.db.read() as s:
        result = verify(s, lf.procedures, st.id)
    assert not result.ok and "timers differ from those the log implies" in result.problems
