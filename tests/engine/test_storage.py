"""Structural guards of what a finished dossier costs to keep (bench/storage.py measures the bytes):

- its work items sit in none of the indexes of open items: each such index is partial on its
  queries' predicate (read back from the database's catalog), none of the dossier's rows satisfy it,
  SQLite's own count of the index's entries (dbstat) equals the open items, and EXPLAIN of the
  queries that read open items names those indexes;
- a `completed` event states nothing its type implies, and a new item nothing its step gives;
- events written before those rules, with every field spelled out, fold as before: the projections
  are what they were, and a field an event does state wins over what its type implies;
- migration 0009 goes down to the full indexes and up again, on both databases.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text

from engine import queries
from engine.bootstrap import Landflow
from engine.clock import FixedClock
from engine.history import replay, verify
from engine.kpi import RatingRules, kpi_report
from engine.kpi_facts import refresh_item_facts
from engine.scheduler import Sweeper
from engine.store import Base, CaseEventRow, Database, WorkItemRow
from engine.store.migrate import alembic_config, upgrade
from engine.store.models import ITEM_INDEXES, ITEM_OPEN_SQL
from tests.conftest import officer
from tests.engine.test_flat_costs import PATH, captured, explain
from tests.support.tamper import rewrite_chain

OPEN_ITEM_INDEXES = [name for name, (_columns, where) in ITEM_INDEXES.items() if "'done'" not in where]


def finish_one(lf: Landflow, name: str) -> int:
    st = lf.runtime.open(officer(lf, "desk.w1"), "small_test", "W1", {"name": name})
    for who, data in PATH:
        (item,) = st.open_items()
        st = lf.runtime.complete(officer(lf, who), item.id or 0, data)
    assert st.status == "done"
    return st.id


def index_predicate(lf: Landflow, name: str) -> str | None:
    """The WHERE of a partial index as the database itself holds it (None: a full index)."""
    with lf.db.engine.connect() as c:
        if lf.db.dialect == "postgresql":
            return c.execute(text("SELECT pg_get_expr(i.indpred, i.indrelid) FROM pg_index i JOIN pg_class x "
                                  "ON x.oid = i.indexrelid WHERE x.relname = :n AND x.relnamespace = "
                                  "current_schema()::regnamespace"), {"n": name}).scalar_one()
        sql = c.execute(text("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :n"),
                        {"n": name}).scalar_one()
    found = re.search(r"\bWHERE\b(.*)$", sql, re.S)
    return found.group(1).strip() if found else None


def rows_in(lf: Landflow, predicate: str, dossier_id: int) -> int:
    with lf.db.engine.connect() as c:
        return int(c.execute(text(f"SELECT count(*) FROM work_item WHERE dossier_id = :d AND ({predicate})"),
                             {"d": dossier_id}).scalar_one())


def sqlite_entries(lf: Landflow, name: str) -> int:
    """How many entries the index holds, counted by SQLite in its pages (every cell of an index b-tree,
    interior or leaf, is one entry)."""
    with lf.db.engine.connect() as c:
        return int(c.execute(text("SELECT coalesce(sum(ncell), 0) FROM dbstat WHERE name = :n"),
                             {"n": name}).scalar_one())


def test_a_finished_dossiers_work_items_sit_in_no_open_item_index(small: Landflow) -> None:
    done = finish_one(small, "Đã Xong")
    st = small.runtime.open(officer(small, "desk.w1"), "small_test", "W1", {"name": "Đang Làm"})
    small.runtime.claim(officer(small, "desk.w1"), st.open_items()[0].id or 0)
    assert OPEN_ITEM_INDEXES
    for name in OPEN_ITEM_INDEXES:
        predicate = index_predicate(small, name)
        assert predicate is not None, f"{name} is a full index"
        assert rows_in(small, predicate, done) == 0, name
        assert rows_in(small, predicate, st.id) == 1, name  # the check can see a row: the claimed one
    with small.db.read() as s:
        states = dict(s.execute(select(WorkItemRow.state, text("count(*)")).group_by(WorkItemRow.state)).all())
    assert states == {"done": 5, "claimed": 1}
    if small.db.dialect == "sqlite":
        for name in OPEN_ITEM_INDEXES:
            assert sqlite_entries(small, name) == 1, name
        assert sqlite_entries(small, "ix_work_item_done") == 5  # the count sees entries where there are some


def plans(lf: Landflow, run: Callable[[], Any], marker: str) -> list[str]:
    """The plans of the statements `run` sends that repeat `marker` (a partial index's predicate)."""
    out = [explain(lf, statement, params) for statement, params in captured(lf, run) if marker in statement
           and statement.lstrip().upper().startswith("SELECT")]
    assert out, f"no statement repeats {marker}"
    return out


def test_the_queries_of_open_items_read_the_partial_indexes(small: Landflow, clock: FixedClock) -> None:
    desk, land = officer(small, "desk.w1"), officer(small, "land.w1")
    for i in range(4):
        finish_one(small, f"Xong {i}")
    for i in range(6):
        st = small.runtime.open(desk, "small_test", "W1", {"name": f"Mở {i}"})
        if i % 2:
            st = small.runtime.complete(desk, st.open_items()[0].id or 0, {"complete": True})
            small.runtime.claim(land, st.open_items()[0].id or 0)
    clock.set(clock.now() + timedelta(days=10))
    now = clock.now()
    rules = RatingRules.load(small.settings.kpi_file)
    open_marker = f"work_item.{ITEM_OPEN_SQL}"

    def kpi() -> None:
        with small.db.read() as s:
            for group_by in ("officer", "unit", "procedure"):
                kpi_report(s, group_by, now - timedelta(days=365), now, now, rules)

    def worklists() -> None:
        for who in ("desk.w1", "land.w1"):
            queries.worklist(small.db, officer(small, who), limit=100)

    expected = [
        (worklists, open_marker, {"ix_work_item_assignee_state_due"}),
        (kpi, open_marker, {"ix_work_item_open_due", "ix_work_item_assignee_state_due"}),
        (lambda: Sweeper(small).candidates("idle_claim", now), "work_item.state = 'claimed'",
         {"ix_work_item_claimed_activity"}),
        (lambda: refresh_item_facts(small.db, small.calendar, now), "work_item.state = 'done'",
         {"ix_work_item_done"}),
    ]
    open_only = set(ITEM_INDEXES) | {"ix_work_item_pool"}
    for run, marker, names in expected:
        for plan in plans(small, run, marker):
            assert any(re.search(rf"\b{n}\b", plan) for n in names), plan
            # every read of work_item goes through a partial index, its key, or its primary key
            if small.db.dialect == "postgresql":
                assert not re.search(r"Seq Scan on work_item\b", plan), plan
            else:
                for line in plan.splitlines():
                    scan = re.match(r"\s*(SCAN|SEARCH) work_item\b(.*)", line)
                    if scan:
                        used = re.search(r"USING (?:COVERING )?INDEX (\w+)|USING INTEGER PRIMARY KEY", scan[2])
                        assert used and (used[1] is None or used[1] in open_only), plan


# -- effects ----------------------------------------------------------------------------------------

def payloads(lf: Landflow, dossier_id: int) -> list[tuple[int, str, str, dict[str, Any]]]:
    with lf.db.read() as s:
        rows = s.execute(select(CaseEventRow.seq, CaseEventRow.type, CaseEventRow.actor, CaseEventRow.payload)
                         .where(CaseEventRow.dossier_id == dossier_id).order_by(CaseEventRow.seq)).all()
    return [(seq, etype, actor, json.loads(p)) for seq, etype, actor, p in rows]


def test_a_completed_event_states_nothing_its_type_implies(small: Landflow, clock: FixedClock) -> None:
    rt, desk, land = small.runtime, officer(small, "desk.w1"), officer(small, "land.w1")
    st = rt.open(desk, "small_test", "W1", {"name": "Ngắn Gọn"})
    opened_at = clock.now()
    clock.set(opened_at + timedelta(hours=1))
    st = rt.complete(desk, st.open_items()[0].id or 0, {"complete": True})  # nobody had claimed it
    clock.set(opened_at + timedelta(hours=2))
    rt.claim(land, st.open_items()[0].id or 0)
    clock.set(opened_at + timedelta(hours=3))
    st = rt.complete(land, st.open_items()[0].id or 0, {"eligible": True, "area": 120})  # claimed an hour before
    completed = [(actor, p) for _seq, etype, actor, p in payloads(small, st.id) if etype == "completed"]
    assert len(completed) == 2
    for _actor, p in completed:
        assert str(p["item"]) not in p.get("fx", {}).get("items", {}), p
    news = [n for _seq, _etype, _actor, p in payloads(small, st.id) for n in p.get("fx", {}).get("new", [])]
    assert [n["step"] for n in news] == ["receive", "verify", "post"]
    assert all(not {"name", "sla", "role", "clock"} & set(n) for n in news), news
    with small.db.read() as s:
        items = {i.ordinal: i for i in s.scalars(select(WorkItemRow).where(WorkItemRow.dossier_id == st.id))}
    first, second, third = items[1], items[2], items[3]
    assert (first.state, first.outcome, first.done_by, first.assignee) == ("done", "completed", "desk.w1", "desk.w1")
    assert first.claimed_at == first.done_at == first.last_activity_at == opened_at + timedelta(hours=1)
    assert (second.state, second.outcome, second.done_by, second.assignee) == ("done", "completed", "land.w1",
                                                                                 "land.w1")
    assert second.claimed_at == opened_at + timedelta(hours=2)
    assert second.done_at == second.last_activity_at == opened_at + timedelta(hours=3)
    with small.db.engine.connect() as c:
        proc = small.procedures.latest(c, "small_test")
    assert proc is not None
    step = proc.meta.steps["post"]
    assert (third.name, third.sla, third.role, third.clock) == (step.name, step.sla, step.role, "paused")
    with small.db.read() as s:
        result = verify(s, small.procedures, st.id)
    assert result.ok, result.problems


def spelled_out(lf: Landflow, dossier_id: int) -> dict[int, dict[str, Any]]:
    """Each event's payload with its effects written out in full, as events were stored before the
    compact rules: the item changes a completion implies (by hand: done by the actor, who also takes
    an item nobody had claimed) and each new item's name, limit, role and clock (its step's)."""
    with lf.db.engine.connect() as c:
        proc = lf.procedures.latest(c, "small_test")
    assert proc is not None
    steps = proc.meta.steps
    claimed: set[int] = set()
    out: dict[int, dict[str, Any]] = {}
    for seq, etype, actor, p in payloads(lf, dossier_id):
        fx = p.get("fx", {})
        if etype == "claimed":
            claimed.add(p["item"])
        elif etype in ("released", "transferred"):
            claimed.discard(p["item"])
        elif etype == "completed":
            done = {"state": "done", "outcome": "completed", "done_at": "@", "done_by": actor, "last_activity_at": "@"}
            if p["item"] not in claimed:
                done.update(assignee=actor, claimed_at="@")
            fx.setdefault("items", {})[str(p["item"])] = {**done, **fx.get("items", {}).get(str(p["item"]), {})}
        for new in fx.get("new", []):
            meta = steps[new["step"]]
            for name in ("name", "sla", "role", "clock"):
                new.setdefault(name, getattr(meta, name))
        if fx:
            p["fx"] = fx
        out[seq] = p
    return out


def a_varied_history(lf: Landflow, clock: FixedClock) -> int:
    rt, o = lf.runtime, (lambda u: officer(lf, u))

    def item(st: Any) -> int:
        return st.open_items()[0].id or 0

    st = rt.open(o("desk.w1"), "small_test", "W1", {"name": "Đầy Đủ"})
    for step in (lambda s: rt.complete(o("desk.w1"), item(s), {"complete": True}),
                 lambda s: rt.claim(o("land.w1"), item(s)),
                 lambda s: rt.return_(o("land.w1"), item(s), "receive", "thiếu giấy tờ"),
                 lambda s: rt.claim(o("desk.w1"), item(s)),
                 lambda s: rt.complete(o("desk.w1"), item(s), {"complete": True}),
                 lambda s: rt.transfer(o("land.w1"), item(s), "chuyển chuyên viên", to_officer="land2.w1"),
                 lambda s: rt.complete(o("land2.w1"), item(s), {"eligible": True, "area": 300}),
                 lambda s: rt.claim(o("land.w1"), item(s)),
                 lambda s: rt.release(o("land.w1"), item(s)),
                 lambda s: rt.complete(o("land.w1"), item(s), {})):
        clock.set(clock.now() + timedelta(minutes=90))
        st = step(st)
    assert st.open_items()[0].step == "sign"
    return st.id


def test_events_written_out_in_full_fold_as_before(small: Landflow, clock: FixedClock) -> None:
    did = a_varied_history(small, clock)
    before = payloads(small, did)
    full = spelled_out(small, did)
    rewrite_chain(small.db, did, lambda seq, _etype, _payload: full[seq])
    after = payloads(small, did)
    assert [p for *_, p in after] != [p for *_, p in before]  # the log now spells everything out
    assert all(str(p["item"]) in p["fx"]["items"] for _s, etype, _a, p in after if etype == "completed")
    small.workflows.clear()
    with small.db.read() as s:
        result = verify(s, small.procedures, did)
    assert result.ok, result.problems  # the same projections, version included, as the compact log gave
    # the dossier goes on from a log in the old form (its workflow restored from the snapshot and the
    # events after it), and its new event is compact again
    with small.db.read() as s:
        item_id = s.scalar(select(WorkItemRow.id).where(WorkItemRow.dossier_id == did, WorkItemRow.state == "ready"))
    small.runtime.complete(officer(small, "chair.w1"), item_id or 0, {})
    seq, etype, _actor, last = payloads(small, did)[-1]
    assert etype == "completed" and "items" not in last["fx"] and seq == len(after) + 1
    with small.db.read() as s:
        result = verify(s, small.procedures, did)
    assert result.ok, result.problems


def test_what_an_event_states_wins_over_what_its_type_implies(small: Landflow, clock: FixedClock) -> None:
    did = a_varied_history(small, clock)
    full = spelled_out(small, did)
    (seq, first) = next((s, p) for s, p in full.items() if p.get("item") == 1 and "data" in p)
    first["fx"]["items"]["1"]["outcome"] = "approved_by_hand"
    opened = full[1]
    opened["fx"]["new"][0]["role"] = "someone_else"
    rewrite_chain(small.db, did, lambda s, _etype, _payload: full[s])
    with small.db.read() as s:
        state = replay(s, small.procedures, did).state
        result = verify(s, small.procedures, did)
    assert state.items[1].outcome == "approved_by_hand" and state.items[1].role == "someone_else"
    assert state.items[1].state == "done"  # the rest of what the type implies still holds
    assert not result.ok and any("work item 1" in p and "outcome" in p and "role" in p for p in result.problems)
    assert seq > 1


# -- migration ---------------------------------------------------------------------------------------

def test_migration_0009_goes_down_and_up_again(database_url: str) -> None:
    db = Database(database_url)
    try:
        upgrade(db.engine)
        cfg = alembic_config(str(db.engine.url))
        with db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0008")
        with db.engine.connect() as conn:
            indexes = {i["name"]: i for i in inspect(conn).get_indexes("work_item")}
        assert {"ix_work_item_state_due", "ix_work_item_state_activity", "ix_work_item_state_done"} <= set(indexes)
        assert "ix_work_item_open_due" not in indexes and "ix_work_item_done" not in indexes
        upgrade(db.engine)
        with db.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
            indexes = {i["name"] for i in inspect(conn).get_indexes("work_item")}
        assert set(ITEM_INDEXES) <= indexes and "ix_work_item_state_due" not in indexes
    finally:
        db.dispose()
