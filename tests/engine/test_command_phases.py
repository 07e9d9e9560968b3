"""The command path in three phases: load (every read), decide (no I/O), persist (append, fold, write).

- a completion costs a fixed, small number of SQL statements (counted on the driver's cursor), and its
  load phase one: the locked read of the dossier with its open items;
- nothing runs SQL between the end of the load phase and the start of the persistence phase, and the
  decision's context holds no connection;
- no module of engine/runtime imports another in a circle.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event

import engine.runtime.commands as commands
from config.settings import ROOT
from engine.bootstrap import Landflow
from engine.ratings import rate
from engine.runtime.context import Context
from engine.runtime.state import DossierState
from tests.conftest import officer
from tests.support.statements import recording

Statements = list[str]


@pytest.fixture
def phases(small: Landflow, monkeypatch: pytest.MonkeyPatch) -> Iterator[Statements]:
    """The statements of every command in the block, with the phase markers; any statement run while a
    command decides fails the command at once."""
    seen: Statements = []
    deciding: list[bool] = [False]
    load, persist = commands.Runtime._load, commands.Runtime._persist

    def loaded(self: commands.Runtime, *args: Any) -> Context:
        ctx = load(self, *args)
        seen.append("load done")
        deciding[0] = True
        return ctx

    def persisting(self: commands.Runtime, *args: Any) -> None:
        deciding[0] = False
        seen.append("persist")
        persist(self, *args)

    def cursor(_conn: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        assert not deciding[0], f"SQL while deciding: {statement[:200]}"
        seen.append(re.sub(r"\s+", " ", statement).strip())

    def ended(_conn: Any) -> None:
        deciding[0] = False  # a refused command rolls back from its decision

    monkeypatch.setattr(commands.Runtime, "_load", loaded)
    monkeypatch.setattr(commands.Runtime, "_persist", persisting)
    engines = {small.db.engine, small.db.read_engine}
    for e in engines:
        event.listen(e, "before_cursor_execute", cursor)
        event.listen(e, "rollback", ended)
    yield seen
    for e in engines:
        event.remove(e, "before_cursor_execute", cursor)
        event.remove(e, "rollback", ended)


def warm_dossier(lf: Landflow) -> DossierState:
    """A dossier at its `verify` step, the caches warm."""
    rt = lf.runtime
    st = rt.open(officer(lf, "desk.w1"), "small_test", "W1", {"name": "A"}, {})
    (item,) = st.open_items()
    st = rt.complete(officer(lf, "desk.w1"), item.id or 0, {"complete": True})
    return st


def test_a_completion_costs_at_most_four_statements_on_postgresql(small: Landflow) -> None:
    st = warm_dossier(small)
    (item,) = st.open_items()
    with recording(small, commits=True) as seen:
        small.runtime.complete(officer(small, "land.w1"), item.id or 0, {"eligible": True, "area": 10})
    kinds = [s.split(" ")[0] for s in seen]
    if small.db.dialect == "postgresql":
        # the locked read, the event insert, the projections in one statement (CTEs), the commit
        assert kinds == ["SELECT", "INSERT", "WITH", "COMMIT"], seen
        assert "FOR UPDATE OF dossier" in seen[0] and "work_item" in seen[0]
        assert "UPDATE dossier" in seen[2] and "INSERT INTO work_item" in seen[2]
    else:  # SQLite: its write lock is taken by BEGIN IMMEDIATE; no data-modifying CTEs there
        assert kinds == ["BEGIN", "SELECT", "INSERT", "UPDATE", "INSERT", "COMMIT"], seen
    assert len([k for k in kinds if k != "BEGIN"]) <= (4 if small.db.dialect == "postgresql" else 5)


def test_the_load_phase_of_a_completion_is_one_statement(small: Landflow, phases: Statements) -> None:
    st = warm_dossier(small)
    (item,) = st.open_items()
    phases.clear()
    small.runtime.complete(officer(small, "land.w1"), item.id or 0, {"eligible": True, "area": 10})
    load = phases[:phases.index("load done")]
    assert [s for s in load if not s.startswith("BEGIN")] == [phases[phases.index("load done") - 1]]
    assert load[-1].startswith("SELECT dossier.") and "open_item" in load[-1]
    assert phases.index("persist") == phases.index("load done") + 1  # nothing in between: the decision


def test_decisions_run_no_sql_and_get_no_connection(small: Landflow, phases: Statements) -> None:
    """Every kind of command, refused ones included, through the listener that fails on SQL while deciding."""
    names = {f.name for f in dataclasses.fields(Context)}
    assert not names & {"conn", "connection", "session", "db"}, names
    rt, desk, land = small.runtime, officer(small, "desk.w1"), officer(small, "land.w1")
    st = warm_dossier(small)
    (item,) = st.open_items()
    rt.claim(land, item.id or 0)
    rt.release(land, item.id or 0)
    rt.transfer(land, item.id or 0, "Chuyển cho cán bộ khác", to_officer="land2.w1")
    with pytest.raises(commands.CommandRefused):
        rt.claim(officer(small, "chair.w1"), item.id or 0)
    st = rt.complete(officer(small, "land2.w1"), item.id or 0, {"eligible": True, "area": 10})
    (post,) = st.open_items()
    st = rt.return_(land, post.id or 0, "verify", "Sai diện tích")
    (again,) = st.open_items()
    st = rt.request_supplement(officer(small, "land2.w1"), again.id or 0, "Thiếu bản đồ")
    st = rt.receive_supplement(desk, st.id, "Đã bổ sung")
    small.clock.advance(days=20)  # type: ignore[attr-defined]
    rt.apologise(officer(small, "land2.w1"), st.id, "Chậm do xác minh", small.clock.now() + timedelta(days=5))
    refusing = {"eligible": False, "area": 10, "note": "Không"}
    decision = rt.prepare_decision(officer(small, "land2.w1"), again.id or 0, refusing)
    assert decision.data == {**refusing, "area": 10.0}
    st = rt.complete(officer(small, "land2.w1"), again.id or 0, refusing)
    (notify,) = st.open_items()
    st = rt.complete(desk, notify.id or 0, {})
    assert st.status == "done"
    rate(rt, st.id, "W1", "satisfied", None)
    other = rt.open(desk, "small_test", "W1", {"name": "B"}, {})
    rt.cancel(desk, other.id, "Người nộp rút hồ sơ")
    assert phases.count("load done") >= 14 and phases.count("persist") >= 12


def runtime_imports() -> dict[str, set[str]]:
    """engine/runtime module -> the engine/runtime modules it imports (anywhere in the file)."""
    folder = ROOT / "engine" / "runtime"
    names = {p.stem for p in folder.glob("*.py")}
    graph: dict[str, set[str]] = {}
    for path in folder.glob("*.py"):
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level == 1 and node.module:
                    deps.add(node.module.split(".")[0])
                elif node.level == 1:
                    deps.update(a.name for a in node.names)
                elif node.module and node.module.startswith("engine.runtime."):
                    deps.add(node.module.split(".")[2])
            elif isinstance(node, ast.Import):
                deps.update(a.name.split(".")[2] for a in node.names if a.name.startswith("engine.runtime."))
        graph[path.stem] = (deps & names) - {path.stem}
    return graph


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state:
                found = visit(m)
                if found:
                    return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state:
            found = visit(n)
            if found:
                return found
    return None


def test_no_module_of_engine_runtime_imports_another_in_a_circle() -> None:
    graph = runtime_imports()
    assert {"commands", "load", "persist", "context", "decide", "actions", "deploy"} <= set(graph)
    assert cycle(graph) is None, " -> ".join(cycle(graph) or [])
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]  # the check itself finds one
    assert "commands" not in set().union(*(deps for name, deps in graph.items() if name != "__init__"))
