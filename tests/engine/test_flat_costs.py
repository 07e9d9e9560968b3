"""Structural guards of the flat cost curves that bench/scale.py measures (timings live there, not here).

- the SQL statements a command runs are the same with 10 and with 1,000 dossiers in the database, and
  on a dossier with 5 and with 500 events;
- a dossier's stored workflow state holds no copy of the procedure's spec;
- the worklist and the deadline sweep read work items and dossiers through an index (EXPLAIN, with
  sequential scans priced out on PostgreSQL so that a tiny test table still shows what the planner
  *can* do; SQLite's plan names the index or says SCAN).
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Callable
from datetime import UTC, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select, text

from engine import queries
from engine.bootstrap import Landflow
from engine.clock import FixedClock
from engine.eventlog import SPIFF_EVENTS
from engine.history import Verification, verify
from engine.kpi_facts import refresh_item_facts
from engine.scheduler import Sweeper
from engine.store import CaseEventRow, DeadlineNoticeRow, DossierRow, DossierStateRow, ProcedureVersionRow
from tests.conftest import officer
from tests.support.statements import recording

PATH = (("desk.w1", {"complete": True}), ("land.w1", {"eligible": True, "area": 10}), ("land.w1", {}),
        ("chair.w1", {}), ("desk.w1", {}))


def commands_of_one_dossier(lf: Landflow) -> list[list[str]]:
    """Open a dossier and take it to its end; the statements of each command."""
    out = []
    with recording(lf) as seen:
        st = lf.runtime.open(officer(lf, "desk.w1"), "small_test", "W1", {"name": "Đo Lường"})
    out.append(list(seen))
    for who, data in PATH:
        (item,) = st.open_items()
        with recording(lf) as seen:
            st = lf.runtime.complete(officer(lf, who), item.id or 0, data)
        out.append(list(seen))
    assert st.status == "done"
    return out


def open_many(lf: Landflow, n: int) -> None:
    desk = officer(lf, "desk.w1")
    for i in range(n):
        lf.runtime.open(desk, "small_test", "W1", {"name": f"Người {i}"})


def test_statements_per_command_do_not_depend_on_the_number_of_dossiers(small: Landflow) -> None:
    open_many(small, 9)
    few = commands_of_one_dossier(small)
    open_many(small, 990)
    with small.db.read() as s:
        assert s.scalar(select(DossierRow.id).order_by(DossierRow.id.desc()).limit(1)) >= 1000
    many = commands_of_one_dossier(small)
    assert [len(c) for c in few] == [len(c) for c in many]
    assert few == many  # the same statements, not only as many


def history_of(lf: Landflow, dossier_id: int) -> int:
    with lf.db.read() as s:
        return int(s.execute(text("SELECT last_seq FROM dossier WHERE id = :d"), {"d": dossier_id}).scalar_one())


def test_statements_per_command_do_not_depend_on_the_length_of_the_history(small: Landflow) -> None:
    desk, land = officer(small, "desk.w1"), officer(small, "land.w1")

    def dossier_at_verify(events: int) -> tuple[int, int]:
        st = small.runtime.open(desk, "small_test", "W1", {"name": "Lịch Sử"})
        st = small.runtime.complete(desk, st.open_items()[0].id or 0, {"complete": True})
        item = st.open_items()[0].id or 0
        while history_of(small, st.id) + 2 <= events:
            small.runtime.claim(land, item)
            small.runtime.release(land, item)
        return st.id, item

    measured: dict[int, list[list[str]]] = {}
    for size in (4, 498):
        dossier_id, item = dossier_at_verify(size)
        assert abs(history_of(small, dossier_id) - size) <= 1
        runs = []
        for action in ("claim", "release"):
            with recording(small) as seen:
                getattr(small.runtime, action)(land, item)
            runs.append(list(seen))
        small.workflows.evict(dossier_id)  # the worst case: snapshot restored, the tail after it replayed
        with recording(small) as seen:
            small.runtime.complete(land, item, {"eligible": True, "area": 10})
        runs.append(list(seen))
        measured[size] = runs
    # A long history whose snapshot lags behind it gets its snapshot refreshed by this command: one write
    # (lazy snapshots, SNAPSHOT_EVERY in engine/runtime/commands.py), whatever the length. Everything
    # else is statement for statement the same.
    refresh = "UPDATE dossier_state"
    assert all(sum(s.startswith(refresh) for s in run) <= 1 for runs in measured.values() for run in runs)

    def rest(runs: list[list[str]]) -> list[list[str]]:
        # the refresh also moves dossier.snapshot_seq, in the dossier UPDATE that writes only what changed;
        # on PostgreSQL both ride in the projections' one statement, the refresh as its first CTE
        def plain(s: str) -> str:
            s = re.sub(r", snapshot_seq=(\?|%\((d_)?snapshot_seq\)s::INTEGER)", "", s)
            return re.sub(r"^WITH w0 AS \(UPDATE dossier_state SET .*? WHERE dossier_state\.dossier_id = "
                          r"%\(s_pk\)s::BIGINT\), w1 AS \(", "WITH w0 AS (", s)
        return [[plain(s) for s in run if not s.startswith(refresh)] for run in runs]

    assert [len(r) for r in rest(measured[4])] == [len(r) for r in rest(measured[498])]
    assert rest(measured[4]) == rest(measured[498])


def test_stored_workflow_state_holds_no_spec(small: Landflow) -> None:
    st = small.runtime.open(officer(small, "desk.w1"), "small_test", "W1", {"name": "Không Sao Chép"})
    with small.db.read() as s:
        blob = s.scalar(select(DossierStateRow.state).where(DossierStateRow.dossier_id == st.id))
        spec = s.scalar(select(ProcedureVersionRow.spec).where(ProcedureVersionRow.key == "small_test"))
    assert blob is not None and spec is not None
    state = json.loads(zlib.decompress(blob))
    assert "spec" not in state and "subprocess_specs" not in state
    stored = json.dumps(state)
    assert '"task_specs"' in spec and '"task_specs"' not in stored  # the spec's definitions live once
    assert len(zlib.decompress(blob)) < len(spec)
    # and no event repeats it either
    with small.db.read() as s:
        payloads = list(s.scalars(text("SELECT payload FROM case_event WHERE dossier_id = :d"), {"d": st.id}))
    assert payloads and all('"task_specs"' not in p for p in payloads)


# -- indexes behind the worklist and the sweep --------------------------------------------------------------

def explain(lf: Landflow, statement: str, params: Any) -> str:
    with lf.db.engine.connect() as conn:
        if lf.db.dialect == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")
            rows = conn.exec_driver_sql("EXPLAIN " + statement, params).all()
            conn.exec_driver_sql("RESET enable_seqscan")
            return "\n".join(r[0] for r in rows)
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).all()
        return "\n".join(str(r[-1]) for r in rows)


def full_scans(plan: str, dialect: str) -> list[str]:
    tables = ("work_item", "dossier")
    if dialect == "postgresql":
        return [line.strip() for line in plan.splitlines()
                if any(re.search(rf"Seq Scan on {t}\b", line) for t in tables)]
    return [line.strip() for line in plan.splitlines()
            if any(re.match(rf"\s*SCAN {t}\b", line) for t in tables)]


def captured(lf: Landflow, run: Callable[[], Any]) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []

    def listen(_conn: Any, _cur: Any, statement: str, params: Any, *_rest: Any) -> None:
        if "work_item" in statement or "dossier" in statement:
            out.append((statement, params))

    for e in {lf.db.engine, lf.db.read_engine}:
        event.listen(e, "before_cursor_execute", listen)
    try:
        run()
    finally:
        for e in {lf.db.engine, lf.db.read_engine}:
            event.remove(e, "before_cursor_execute", listen)
    return out


@pytest.fixture
def busy(small: Landflow, clock: FixedClock) -> Landflow:
    """Some dossiers at several steps, a few late: every sweep query has rows to look at."""
    desk, land = officer(small, "desk.w1"), officer(small, "land.w1")
    for i in range(12):
        st = small.runtime.open(desk, "small_test", "W1", {"name": f"Bận {i}"})
        if i % 2:
            st = small.runtime.complete(desk, st.open_items()[0].id or 0, {"complete": True})
        if i % 3 == 0:
            small.runtime.claim(land if i % 2 else desk, st.open_items()[0].id or 0)
    clock.set(clock.now() + timedelta(days=10))
    return small


def test_the_worklist_reads_work_items_through_an_index(busy: Landflow) -> None:
    statements = []
    for who in ("desk.w1", "land.w1", "chair.w1"):
        statements += captured(busy, lambda w=who: queries.worklist(busy.db, officer(busy, w), limit=100))
    assert statements
    for statement, params in statements:
        plan = explain(busy, statement, params)
        assert not full_scans(plan, busy.db.dialect), plan


def test_the_sweep_reads_work_items_and_dossiers_through_indexes(busy: Landflow) -> None:
    sweeper = Sweeper(busy)
    now = busy.clock.now()

    def every_query() -> None:
        for kind in ("step_overdue", "escalated", "dossier_overdue", "due_soon", "idle_claim"):
            sweeper.candidates(kind, now)
        sweeper.due_timers(now)
        refresh_item_facts(busy.db, busy.calendar, now)

    statements = captured(busy, every_query)
    assert len(statements) >= 6
    for statement, params in statements:
        if not statement.lstrip().upper().startswith("SELECT"):
            continue
        plan = explain(busy, statement, params)
        assert not full_scans(plan, busy.db.dialect), f"{statement}\n{plan}"


def test_the_plan_check_sees_a_full_scan(busy: Landflow) -> None:
    """The two tests above can fail: a query no index serves is reported."""
    pg = busy.db.dialect == "postgresql"
    plan = explain(busy, "SELECT id FROM work_item WHERE step = " + ("%(s)s" if pg else "?"),
                   {"s": "verify"} if pg else ("verify",))
    assert full_scans(plan, busy.db.dialect), plan


def pending_overdue(lf: Landflow, now: Any) -> int:
    """Open items with a past deadline and no step_overdue notice for it: what the partial index holds."""
    from engine.store.models import ITEM_UNNOTICED_SQL

    with lf.db.read() as s:
        return int(s.execute(text(f"SELECT count(*) FROM work_item WHERE {ITEM_UNNOTICED_SQL} AND due_at < :now"),
                             {"now": now.astimezone(UTC).replace(tzinfo=None)}).scalar_one())


def test_a_noticed_deadline_leaves_the_sweep_index_and_a_moved_one_comes_back(small: Landflow,
                                                                                clock: FixedClock) -> None:
    rt, desk = small.runtime, officer(small, "desk.w1")
    st = rt.open(desk, "small_test", "W1", {"name": "Dời Hạn"})
    (item,) = st.open_items()
    assert item.due_at is not None and item.id is not None
    sweeper = Sweeper(small)
    clock.set(small.calendar.add(item.due_at, "PT2H"))
    assert pending_overdue(small, clock.now()) == 1
    sweeper.sweep()
    assert pending_overdue(small, clock.now()) == 0
    sweeper.sweep()
    rt.request_supplement(desk, item.id, "thiếu giấy tờ")
    clock.set(small.calendar.add(clock.now(), "PT1H"))
    moved = rt.receive_supplement(desk, st.id, "đã bổ sung").items[item.ordinal].due_at
    assert moved is not None and item.due_at < moved < clock.now()  # later, and still past
    assert pending_overdue(small, clock.now()) == 1  # back in the index by itself
    sweeper.sweep()
    assert pending_overdue(small, clock.now()) == 0
    with small.db.read() as s:
        deadlines = sorted(s.scalars(select(DeadlineNoticeRow.deadline).where(
            DeadlineNoticeRow.dossier_id == st.id, DeadlineNoticeRow.kind == "step_overdue")))
    assert deadlines == [item.due_at, moved]


def test_a_cold_load_replays_only_up_to_the_last_workflow_event(small: Landflow) -> None:
    """Claims, releases, transfers and notices never move the workflow: on a cache miss the events
    read back after the snapshot stop at the last one that did (dossier.workflow_seq), so a history
    padded with 400 claims costs a cold `complete` what a short one does."""
    desk, land = officer(small, "desk.w1"), officer(small, "land.w1")
    st = small.runtime.open(desk, "small_test", "W1", {"name": "Đệm Dài"})
    st = small.runtime.complete(desk, st.open_items()[0].id or 0, {"complete": True})
    item = st.open_items()[0].id or 0
    for _ in range(200):
        small.runtime.claim(land, item)
        small.runtime.release(land, item)
    with small.db.read() as s:
        row = s.get(DossierRow, st.id)
        assert row is not None
        snapshot_seq, workflow_seq, last_seq = row.snapshot_seq, row.workflow_seq, row.last_seq
        moved = s.scalar(select(func.max(CaseEventRow.seq)).where(
            CaseEventRow.dossier_id == st.id, CaseEventRow.type.in_(SPIFF_EVENTS)))
    assert last_seq >= 400 and workflow_seq == moved and snapshot_seq <= workflow_seq < last_seq

    ranges: list[tuple[int, int]] = []

    def catch_up_bounds(_conn: Any, _cur: Any, statement: str, params: Any, *_rest: Any) -> None:
        if "FROM case_event" in statement and "case_event.type IN" in statement:
            if isinstance(params, dict):  # PostgreSQL: named, in the order the query names them
                seqs = [v for k, v in params.items() if k.startswith("seq_")]
            else:  # SQLite: (dossier_id, since, upto, types...)
                seqs = list(params[1:3])
            ranges.append((seqs[0], seqs[1]))

    small.workflows.evict(st.id)
    event.listen(small.db.engine, "before_cursor_execute", catch_up_bounds)
    try:
        st = small.runtime.complete(land, item, {"eligible": True, "area": 10})
    finally:
        event.remove(small.db.engine, "before_cursor_execute", catch_up_bounds)
    assert st.items[2].state == "done"  # the step ran on a workflow restored and caught up correctly
    # read back: at most the events between the snapshot and the last workflow event, not the claims
    assert ranges == ([(snapshot_seq, workflow_seq)] if snapshot_seq < workflow_seq else [])


def verify_dossier(lf: Landflow, dossier_id: int) -> Verification:
    with lf.db.read() as s:
        return verify(s, lf.procedures, dossier_id)


def test_verify_names_a_wrong_workflow_seq(small: Landflow) -> None:
    desk = officer(small, "desk.w1")
    st = small.runtime.open(desk, "small_test", "W1", {"name": "Sai Số"})
    st = small.runtime.complete(desk, st.open_items()[0].id or 0, {"complete": True})
    assert verify_dossier(small, st.id).ok
    with small.db.write() as s:  # an insider makes cold loads skip the last completion
        s.execute(text("UPDATE dossier SET workflow_seq = 1 WHERE id = :d"), {"d": st.id})
    result = verify_dossier(small, st.id)
    assert not result.ok and any("dossier.workflow_seq: stored 1" in p for p in result.problems), result.problems
