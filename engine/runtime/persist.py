"""The persistence phase: append the decided events to the chain and write the projections they fold to.

On PostgreSQL the projections go in one statement: the work items (new and changed) as one multi-row
upsert, with the dossier row's update and the workflow snapshot's write as data-modifying CTEs of it.
With the event insert and the commit, a command is four statements after its one locked read. SQLite
has no data-modifying CTEs: there the dossier row and the snapshot are statements of their own
(in-process calls, not round trips).
"""

from __future__ import annotations

import threading
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, delete, insert, select, union_all, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .. import notifications
from ..eventlog import SPIFF_EVENTS, append
from ..store import DossierRow, DossierStateRow, TimerRow, WorkItemRow
from . import workflow as wfm
from .context import Context
from .state import ITEM_FIELDS, dossier_values, item_row_values

DOSSIER = cast(Table, DossierRow.__table__)
ITEM = cast(Table, WorkItemRow.__table__)
SNAPSHOT = cast(Table, DossierStateRow.__table__)
TIMER = cast(Table, TimerRow.__table__)
SNAPSHOT_EVERY = 8  # events between workflow snapshots; a cache miss replays at most this tail
UPDATE_TIMER = update(TIMER).where(TIMER.c.dossier_id == bindparam("pk"), TIMER.c.ordinal == bindparam("n"))
ITEM_COLUMNS = ("dossier_id", "ordinal", "task_id", *ITEM_FIELDS)
TIMER_COLUMNS = ("node", "duration", "item", "state", "created_at", "due_at", "done_at")


def persist(conn: Connection, ctx: Context, postgres: bool) -> None:
    """Append the events, then write what they changed: timers, snapshot, dossier row, work items."""
    state = ctx.state
    first = state.last_seq + 1
    append(conn, state, ctx.events)
    # the applicant's notifications, in the events' own transaction (engine/notifications)
    notifications.enqueue(conn, state, ctx.events, ctx.proc.meta if ctx.proc is not None else None)
    for offset, ev in enumerate(ctx.events):
        if ev.type in SPIFF_EVENTS:
            state.workflow_seq = first + offset
    _timers(conn, ctx)
    params: dict[str, Any] = {}
    snapshot = _snapshot(ctx, params)
    values = dossier_values(state)
    changed = tuple(k for k, v in values.items() if ctx.loaded.get(k, Ellipsis) != v)
    if changed:
        params["d_pk"] = state.id
        params.update({f"d_{k}": values[k] for k in changed})
    dirty = [state.items[o] for o in sorted(state.dirty_items)]
    for n, item in enumerate(dirty):
        params.update({f"r{n}_{k}": v for k, v in item_row_values(state.id, item).items()})
    statements = _statements(postgres, snapshot, changed, len(dirty))
    for stmt in statements:
        result = conn.execute(stmt, params)
        if dirty and stmt is statements[-1]:
            for item_id, ordinal in result:
                state.items[ordinal].id = item_id
    state.dirty_items.clear()


Shape = tuple[bool, str | None, tuple[str, ...], int]
_SHAPES: dict[Shape, list[Any]] = {}
_SHAPES_LOCK = threading.Lock()
MAX_SHAPES = 512


def _statements(postgres: bool, snapshot: str | None, changed: tuple[str, ...], rows: int) -> list[Any]:
    """The write statements for this shape of change (which dossier columns, how many items, which
    snapshot write), built once per shape: SQLAlchemy then compiles each once, and a command only binds
    its values. On PostgreSQL the writes are one statement (the others as data-modifying CTEs)."""
    shape = (postgres, snapshot, changed, rows)
    found = _SHAPES.get(shape)
    if found is not None:
        return found
    writes: list[Any] = []
    if snapshot == "insert":
        writes.append(insert(SNAPSHOT).values(dossier_id=bindparam("s_pk"), version=bindparam("s_version"),
                                              seq=bindparam("s_seq"), state=bindparam("s_state")))
    elif snapshot == "update":
        writes.append(update(SNAPSHOT).where(SNAPSHOT.c.dossier_id == bindparam("s_pk")).values(
            version=bindparam("s_version"), seq=bindparam("s_seq"), state=bindparam("s_state")))
    elif snapshot == "delete":
        writes.append(delete(SNAPSHOT).where(SNAPSHOT.c.dossier_id == bindparam("s_pk")))
    if changed:
        writes.append(update(DOSSIER).where(DOSSIER.c.id == bindparam("d_pk")).values(
            {k: bindparam(f"d_{k}") for k in changed}))
    if rows:
        # INSERT … SELECT :r0_… UNION ALL SELECT :r1_…: a multi-row VALUES would be compiled anew on every
        # command (SQLAlchemy does not cache multi-values inserts); bound selects are cached
        selects = [select(*[bindparam(f"r{n}_{k}", type_=ITEM.c[k].type) for k in ITEM_COLUMNS])
                   for n in range(rows)]
        source = selects[0] if rows == 1 else union_all(*selects)
        upsert = (pg_insert if postgres else sqlite_insert)(ITEM).from_select(list(ITEM_COLUMNS), source)
        writes.append(upsert.on_conflict_do_update(
            index_elements=["dossier_id", "ordinal"],
            set_={c: upsert.excluded[c] for c in ITEM_COLUMNS if c != "dossier_id"},
        ).returning(ITEM.c.id, ITEM.c.ordinal))
    if postgres and len(writes) > 1:  # the other writes ride along as data-modifying CTEs: one round trip
        main = writes.pop()
        for n, other in enumerate(writes):
            main = main.add_cte(other.cte(f"w{n}"))
        writes = [main]
    with _SHAPES_LOCK:
        if len(_SHAPES) >= MAX_SHAPES:
            _SHAPES.clear()
        _SHAPES[shape] = writes
    return writes


def _snapshot(ctx: Context, params: dict[str, Any]) -> str | None:
    """The write of the workflow snapshot due now, if any (every SNAPSHOT_EVERY events, and at open; a
    finished dossier takes no more commands: its history replays from the events alone)."""
    state = ctx.state
    params["s_pk"] = state.id
    if state.is_finished:
        if state.snapshot_seq:
            state.snapshot_seq = 0
            return "delete"
        return None
    if not (ctx.wf_changed and ctx.wf is not None and (
            ctx.created or state.last_seq - state.snapshot_seq >= SNAPSHOT_EVERY)):
        return None
    params.update(s_version=state.version, s_seq=state.last_seq, s_state=wfm.snapshot(ctx.wf))
    state.snapshot_seq = state.last_seq
    return "insert" if ctx.created else "update"


def _timers(conn: Connection, ctx: Context) -> None:
    """The `bpmn_timer` projection: new timers inserted, the ones the load phase read updated."""
    state = ctx.state
    if not state.dirty_timers:
        return
    fresh, changed = [], []
    for ordinal in sorted(state.dirty_timers):
        timer = state.timers[ordinal]
        values: dict[str, Any] = {c: getattr(timer, c) for c in TIMER_COLUMNS}
        if ordinal in ctx.known_timers:
            changed.append({"pk": state.id, "n": ordinal, **values})
        else:
            fresh.append({"dossier_id": state.id, "ordinal": ordinal, **values})
    if fresh:
        conn.execute(insert(TIMER), fresh)
    for values in changed:
        conn.execute(UPDATE_TIMER.values({c: values[c] for c in TIMER_COLUMNS}), {"pk": values["pk"],
                                                                               "n": values["n"]})
    state.dirty_timers.clear()
