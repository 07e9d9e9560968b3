"""Structural guards of what a finished dossier costs to keep (bench/storage.py measures the bytes):

- its work items sit in none of the indexes of open items: each such index is partial on its
  queries' predicate (read back from the database's catalog), none of the dossier's rows satisfy it,
  SQLite's own count of the index's entries (dbstat) equals the open items, and EXPLAIN of the
  queries that read open items names those indexes;
- migration 0009 goes down to the full indexes and up again, on both databases.
"""

from __future__ import annotations

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
from engine.kpi import RatingRules, kpi_report
from engine.kpi_facts import refresh_item_facts
from engine.scheduler import Sweeper
from engine.store import Base, Database, WorkItemRow
from engine.store.migrate import alembic_config, upgrade
from engine.store.models import ITEM_INDEXES, ITEM_OPEN_SQL
from tests.conftest import officer
from tests.engine.test_flat_costs import PATH, captured, explain

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
