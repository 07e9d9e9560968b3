"""The event log: hash chain, verification against raw-SQL tampering, replay as of any event."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from sqlalchemy import select, text

from engine.bootstrap import Landflow
from engine.clock import FixedClock
from engine.history import replay, verify
from engine.store import DossierRow, WorkItemRow
from tests.conftest import local, officer


def open_item_id(lf: Landflow, did: int) -> int:
    with lf.db.read() as s:
        return s.scalars(select(WorkItemRow.id).where(WorkItemRow.dossier_id == did,
                                                      WorkItemRow.state.in_(("ready", "claimed")))).one()


def observed(lf: Landflow, did: int) -> dict[str, Any]:
    """What the projections say right now, in the shape replay returns."""
    with lf.db.read() as s:
        d = s.get(DossierRow, did)
        assert d is not None
        its = list(s.scalars(select(WorkItemRow).where(WorkItemRow.dossier_id == did)))
    return {
        "status": d.status, "due_at": d.due_at, "paused_at": d.paused_at, "version": d.version,
        "open": sorted((i.step, i.unit, i.assignee, i.due_at) for i in its if i.state in ("ready", "claimed")),
        "items": sorted((i.ordinal, i.state, i.outcome) for i in its),
    }


def replayed(lf: Landflow, did: int, at: int) -> dict[str, Any]:
    with lf.db.read() as s:
        r = replay(s, lf.procedures, did, at)
    st = r.state
    return {
        "status": st.status, "due_at": st.due_at, "paused_at": st.paused_at, "version": st.version,
        "open": sorted((i.step, i.unit, i.assignee, i.due_at) for i in st.open_items()),
        "items": sorted((i.ordinal, i.state, i.outcome) for i in st.items.values()),
    }


@pytest.fixture
def history(small: Landflow, clock: FixedClock) -> tuple[Landflow, int, dict[int, dict[str, Any]]]:
    """A dossier driven through refusals, a return, a transfer and a supplement, observed after each event."""
    rt, o = small.runtime, (lambda u: officer(small, u))
    seen: dict[int, dict[str, Any]] = {}

    def note() -> None:
        with small.db.read() as s:
            d = s.get(DossierRow, st.id)
            assert d is not None
            seen[d.last_seq] = observed(small, st.id)

    st = rt.open(o("desk.w1"), "small_test", "W1", {"name": "Trần Thị B"}, {"sheet": 3})
    note()
    steps = [
        lambda: rt.complete(o("desk.w1"), open_item_id(small, st.id), {"complete": True}),
        lambda: rt.claim(o("land.w1"), open_item_id(small, st.id)),
        lambda: rt.complete(o("chair.w1"), open_item_id(small, st.id), {}),  # refused
        lambda: rt.return_(o("land.w1"), open_item_id(small, st.id), "receive", "thiếu giấy tờ"),
        lambda: rt.request_supplement(o("desk.w1"), open_item_id(small, st.id), "bổ sung trích lục"),
        lambda: rt.receive_supplement(o("desk.w1"), st.id, "đã nộp"),
        lambda: rt.complete(o("desk.w1"), open_item_id(small, st.id), {"complete": True}),
        lambda: rt.transfer(o("land.w1"), open_item_id(small, st.id), "chuyển chuyên viên", to_officer="land2.w1"),
        lambda: rt.complete(o("land2.w1"), open_item_id(small, st.id), {"eligible": True, "area": 300}),
        lambda: rt.complete(o("land.w1"), open_item_id(small, st.id), {}),
    ]
    for i, step in enumerate(steps):
        clock.set(local(2026, 2, 5 + i // 3, 9 + 2 * (i % 3), 15))
        with contextlib.suppress(Exception):  # refused steps are part of the history too
            step()
        note()
    return small, st.id, seen


def test_replay_at_each_event_equals_the_state_seen_then(history: tuple[Landflow, int, dict[int, dict[str, Any]]]
                                                        ) -> None:
    lf, did, seen = history
    assert len(seen) >= 10
    for seq, state in seen.items():
        assert replayed(lf, did, seq) == state, f"as of event {seq}"
    with lf.db.read() as s:
        result = verify(s, lf.procedures, did)
    assert result.ok, result.problems
    assert result.events == max(seen)


def _verify(lf: Landflow, did: int) -> Any:
    lf.workflows.clear()
    with lf.db.read() as s:
        return verify(s, lf.procedures, did)


@pytest.mark.parametrize("sql,bad_seq", [
    ("UPDATE case_event SET payload = replace(payload, 'thiếu giấy tờ', 'đầy đủ') WHERE dossier_id = :d AND seq = 5",
     5),
    ("UPDATE case_event SET actor = 'someone' WHERE dossier_id = :d AND seq = 3", 3),
    ("UPDATE case_event SET at = at + interval '1 hour' WHERE dossier_id = :d AND seq = 2", 2),
    ("DELETE FROM case_event WHERE dossier_id = :d AND seq = 4", 4),
    ("INSERT INTO case_event (dossier_id, seq, type, actor, unit, step, at, payload, prev_hash, hash) "
     "SELECT dossier_id, 100, type, actor, unit, step, at, payload, prev_hash, hash FROM case_event "
     "WHERE dossier_id = :d AND seq = 2", None),
    ("DELETE FROM case_event WHERE dossier_id = :d AND seq = (SELECT max(seq) FROM case_event WHERE dossier_id = :d)",
     "last"),
])
def test_verify_names_the_first_tampered_event(history: tuple[Landflow, int, dict[int, dict[str, Any]]],
                                               sql: str, bad_seq: int | str | None) -> None:
    lf, did, seen = history
    assert _verify(lf, did).ok
    if lf.db.dialect == "sqlite":
        sql = sql.replace("at + interval '1 hour'", "datetime(at, '+1 hour')")
    with lf.db.engine.begin() as c:
        c.execute(text(sql), {"d": did})
    result = _verify(lf, did)
    assert not result.chain_ok
    assert not result.ok
    last = max(seen)
    expected = {"last": last, None: last + 1}.get(bad_seq, bad_seq)  # type: ignore[arg-type]
    assert result.first_bad_seq == expected, result.problems


def test_verify_catches_edited_projections(history: tuple[Landflow, int, dict[int, dict[str, Any]]]) -> None:
    lf, did, _ = history
    with lf.db.engine.begin() as c:
        c.execute(text("UPDATE work_item SET assignee = 'ghost' WHERE dossier_id = :d AND ordinal = 1"), {"d": did})
    result = _verify(lf, did)
    assert result.chain_ok and not result.replay_ok
    assert any("work item 1" in p and "assignee" in p for p in result.problems)


def test_verify_catches_an_edited_snapshot(history: tuple[Landflow, int, dict[int, dict[str, Any]]]) -> None:
    lf, did, _ = history
    other = lf.runtime.open(officer(lf, "desk.w1"), "small_test", "W1", {"name": "X"}, {})
    with lf.db.engine.begin() as c:
        blob = c.execute(text("SELECT state FROM dossier_state WHERE dossier_id = :o"), {"o": other.id}).scalar_one()
        c.execute(text("UPDATE dossier_state SET state = :b WHERE dossier_id = :d"), {"b": blob, "d": did})
    result = _verify(lf, did)
    assert result.chain_ok and not result.replay_ok
    assert any("snapshot" in p for p in result.problems)


def test_a_process_without_the_live_workflow_continues_from_an_older_snapshot(small: Landflow,
                                                                             clock: FixedClock) -> None:
    """Snapshots are written every few events; a cache miss restores the last one and re-runs the recorded
    steps after it. A second engine on the same database (another worker process) must act correctly."""
    from engine.bootstrap import build
    from engine.store import DossierStateRow

    other = build(small.settings, clock=clock, db=small.db)  # its own, empty workflow cache
    desk, land = officer(small, "desk.w1"), officer(small, "land.w1")
    st = small.runtime.open(desk, "small_test", "W1", {"name": "A"}, {})
    # return and redo the first step several times: many events, no snapshot in between
    for n in range(3):
        small.runtime.complete(desk, open_item_id(small, st.id), {"complete": True})
        small.runtime.return_(land, open_item_id(small, st.id), "receive", f"lần {n}")
    with small.db.read() as s:
        d = s.get(DossierRow, st.id)
        snap = s.get(DossierStateRow, st.id)
        assert d is not None and snap is not None
        assert snap.seq < d.last_seq  # the stored snapshot is behind the log
    # the other engine has never seen this dossier: it restores the old snapshot and catches up
    other.runtime.complete(desk, open_item_id(small, st.id), {"complete": True})
    other.runtime.complete(land, open_item_id(small, st.id), {"eligible": False, "area": 5, "note": "tranh chấp"})
    small.workflows.clear()
    small.runtime.complete(desk, open_item_id(small, st.id), {})
    with small.db.read() as s:
        d = s.get(DossierRow, st.id)
        assert d is not None and (d.status, d.outcome) == ("done", "end_no")
        result = verify(s, small.procedures, st.id)
    assert result.ok, result.problems
