"""The load phase: every read a command needs, done before it decides.

One statement locks the dossier row and reads it with its open work items (an item command finds its
dossier by the item in the same statement). What else a command needs is read only when it needs it:
the procedure and live workflow (from the per-process caches, else the snapshot and the events after
it), the limit in force (when the acted step's form may change it), the waiting timers (procedures
with timers only). Opening a dossier reserves its code and row here, since the decision names them.
"""

from __future__ import annotations

import json
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from ..errors import Conflict, Invalid, NotFound
from ..eventlog import SPIFF_EVENTS
from ..search import search_line
from ..store import (
    CaseEventRow,
    CodeCounterRow,
    DossierRow,
    DossierSearchRow,
    DossierStateRow,
    ProcedureVersionRow,
    TimerRow,
    WorkItemRow,
)
from . import workflow as wfm
from .catchup import catch_up
from .context import Context, Target
from .deadlines import conditional_limits, limit_in_force
from .incidents import bound
from .state import ITEM_FIELDS, DossierState, ItemState, TimerState, state_from_rows

DOSSIER = cast(Table, DossierRow.__table__)
ITEM = cast(Table, WorkItemRow.__table__)
EVENT = cast(Table, CaseEventRow.__table__)
SNAPSHOT = cast(Table, DossierStateRow.__table__)
TIMER = cast(Table, TimerRow.__table__)
SEARCH = cast(Table, DossierSearchRow.__table__)
OPEN = ITEM.alias("open_item")
TARGET = ITEM.alias("target_item")
OPEN_COLUMNS = [OPEN.c[name].label(f"i_{name}") for name in ("id", "ordinal", "task_id", *ITEM_FIELDS)]
OPEN_JOIN = (OPEN.c.dossier_id == DOSSIER.c.id) & OPEN.c.state.in_(("ready", "claimed"))
# The dossier's last_seq as the statement's snapshot saw it. A row locked FOR UPDATE is returned in its
# newest version (PostgreSQL re-reads it once the lock is free), but the joined items come from the
# snapshot taken when the statement started: if another command committed while this one waited for the
# lock, the two differ, and the items are read again (now under the lock, so in their newest state).
SEEN = DOSSIER.alias("seen")
SEEN_SEQ = select(SEEN.c.last_seq).where(SEEN.c.id == DOSSIER.c.id).scalar_subquery().label("seen_seq")
# Statements built once (SQLAlchemy compiles each once). One statement: the dossier, locked, with its open
# items (one row per item; the item columns are NULL when none is open).
LOAD_DOSSIER = (select(DOSSIER, SEEN_SEQ, *OPEN_COLUMNS).select_from(DOSSIER.outerjoin(OPEN, OPEN_JOIN))
                .where(DOSSIER.c.id == bindparam("pk")).order_by(OPEN.c.ordinal))
LOAD_BY_ITEM = (select(DOSSIER, SEEN_SEQ, TARGET.c.ordinal.label("target_ordinal"),
                       TARGET.c.step.label("target_step"), *OPEN_COLUMNS)
                .select_from(TARGET.join(DOSSIER, TARGET.c.dossier_id == DOSSIER.c.id).outerjoin(OPEN, OPEN_JOIN))
                .where(TARGET.c.id == bindparam("pk")).order_by(OPEN.c.ordinal))
LOCKED = {False: {False: LOAD_DOSSIER, True: LOAD_BY_ITEM},
          True: {False: LOAD_DOSSIER.with_for_update(of=DOSSIER), True: LOAD_BY_ITEM.with_for_update(of=DOSSIER)}}
LOAD_SNAPSHOT = select(SNAPSHOT.c.state, SNAPSHOT.c.seq).where(SNAPSHOT.c.dossier_id == bindparam("pk"))
LOAD_TIMERS = select(TIMER).where(TIMER.c.dossier_id == bindparam("pk"), TIMER.c.state == "waiting")
LAST_TIMER = select(func.max(TIMER.c.ordinal)).where(TIMER.c.dossier_id == bindparam("pk"))
LOAD_TIMER = select(TIMER).where(TIMER.c.dossier_id == bindparam("pk"), TIMER.c.ordinal == bindparam("ordinal"))
ANY_WAITING_TIMER = select(TIMER.c.ordinal).where(TIMER.c.dossier_id == bindparam("pk"),
                                                  TIMER.c.state == "waiting").limit(1)
LAST_STEP = (select(ITEM.c.step).where(ITEM.c.dossier_id == bindparam("pk"))
             .order_by(ITEM.c.ordinal.desc()).limit(1))


class _OpenItem:
    """An open item's columns out of the joined row (`i_<column>`), read by attribute like a row."""

    __slots__ = ("_row",)

    def __init__(self, row: Any):
        self._row = row

    def __getattr__(self, name: str) -> Any:
        return self._row._mapping[f"i_{name}"]


def dossier(conn: Connection, postgres: bool, target: Target) -> DossierState:
    """The dossier row, locked (PostgreSQL: FOR UPDATE; SQLite: the transaction's write lock), with its
    open items; for an item command, `target` learns the dossier, the item's ordinal and its step."""
    by_item = target.item_id is not None
    rows = conn.execute(LOCKED[postgres][by_item], {"pk": target.item_id if by_item else target.dossier_id}).all()
    if not rows:
        if by_item:
            raise NotFound("not_found", f"work item {target.item_id} does not exist")
        raise NotFound("not_found", f"dossier {target.dossier_id} does not exist")
    first = rows[0]
    if by_item:
        target.dossier_id, target.ordinal, target.step = first.id, first.target_ordinal, first.target_step
    if first.seen_seq != first.last_seq:  # PostgreSQL only: committed meanwhile, read the items again
        rows = conn.execute(LOCKED[postgres][False], {"pk": first.id}).all()
        first = rows[0]
    return state_from_rows(first, [_OpenItem(r) for r in rows if r.i_id is not None])


def workflow(conn: Connection, ctx: Context, procedures: wfm.ProcedureCache, workflows: wfm.WorkflowCache) -> None:
    """The procedure and the live workflow into `ctx`: from the caches, else the snapshot plus the events
    after it. A failure that is not the database's is kept in `ctx.wf_error` and raised when the decision
    first asks for the workflow, so that the policy's refusals come first, as they always did."""
    state = ctx.state
    try:
        ctx.proc = procedures.get(conn, state.procedure_version_id)
        wf = workflows.take(state.id, state.version)
        if wf is None:
            snap = conn.execute(LOAD_SNAPSHOT, {"pk": state.id}).first()
            if snap is None:
                raise Conflict("no_snapshot", "the dossier has no workflow state")
            wf = wfm.restore(ctx.proc, snap.state)
            # events after the last one that moved the workflow (claims, transfers, notices) change
            # nothing in it: the tail ends there (0 = not known, the whole tail)
            upto = state.workflow_seq or state.last_seq
            if snap.seq < upto:
                _catch_up(conn, ctx, wf, snap.seq, upto)
            bound(wf)  # what this command (and later ones, from the cache) runs is bounded
        ctx.wf = wf
    except SQLAlchemyError:
        raise
    except Exception as err:  # noqa: BLE001 -- kept for the decision (see above)
        ctx.wf_error = err
        return
    if ctx.proc.has_timers:
        timers(conn, ctx)


def _catch_up(conn: Connection, ctx: Context, wf: Any, since: int, upto: int) -> None:
    """Re-run the recorded SpiffWorkflow steps after the snapshot (at most SNAPSHOT_EVERY events).

    Steps opened in that tail get new task ids in this process; the open items learn them.
    """
    state = ctx.state
    tail = conn.execute(select(EVENT.c.type, EVENT.c.payload).where(
        EVENT.c.dossier_id == state.id, EVENT.c.seq > since, EVENT.c.seq <= upto,
        EVENT.c.type.in_(SPIFF_EVENTS)).order_by(EVENT.c.seq)).all()
    known: dict[int, str] = {ordinal: task_id for ordinal, task_id in conn.execute(
        select(ITEM.c.ordinal, ITEM.c.task_id).where(ITEM.c.dossier_id == state.id, ITEM.c.task_id.is_not(None)))}
    mapping = catch_up(wf, [(etype, json.loads(text)) for etype, text in tail], known)
    for ordinal, task_id in mapping.items():
        item: ItemState | None = state.items.get(ordinal)
        if item is not None and item.task_id != task_id:
            item.task_id = task_id
            state.dirty_items.add(ordinal)


def timers(conn: Connection, ctx: Context) -> None:
    """The timers the dossier waits on, and the next timer ordinal."""
    state = ctx.state
    for row in conn.execute(LOAD_TIMERS, {"pk": state.id}):
        ctx.known_timers.add(row.ordinal)
        state.timers[row.ordinal] = TimerState(row.ordinal, row.node, row.duration, row.item, row.state,
                                               row.created_at, row.due_at, row.done_at)
    top = conn.execute(LAST_TIMER, {"pk": state.id}).scalar()
    state.next_timer = (top or 0) + 1
    state.timers_loaded = True


def limit(conn: Connection, ctx: Context, step: str | None) -> None:
    """The limit in force, when completing `step` may change it (a `sla_<field>` flag in its form)."""
    if ctx.proc is None or step is None or step not in ctx.proc.meta.steps:
        return
    flags = conditional_limits(ctx.proc.meta)
    if flags and any(f.name in flags for f in ctx.proc.meta.steps[step].form):
        ctx.limit_in_force = limit_in_force(conn, ctx.state.id)


def timer(conn: Connection, ctx: Context, ordinal: int) -> Any:
    """fire_timer: the timer row it is asked to fire."""
    return conn.execute(LOAD_TIMER, {"pk": ctx.state.id, "ordinal": ordinal}).first()


def sweep_facts(conn: Connection, ctx: Context) -> None:
    """The sweep's stuck check: does the dossier wait on a BPMN timer; the step of its newest item."""
    ctx.waiting_timer = conn.execute(ANY_WAITING_TIMER, {"pk": ctx.state.id}).first() is not None
    ctx.last_step = conn.execute(LAST_STEP, {"pk": ctx.state.id}).scalar()


# -- opening ----------------------------------------------------------------------------------------

def procedure(conn: Connection, procedures: wfm.ProcedureCache, key: str, version: int | None) -> wfm.Procedure:
    """A deployed version of a procedure (the latest when `version` is None)."""
    if version is None:
        proc = procedures.latest(conn, key)
    else:
        row_id = conn.execute(select(ProcedureVersionRow.id).where(
            ProcedureVersionRow.key == key, ProcedureVersionRow.version == version)).scalar()
        proc = None if row_id is None else procedures.get(conn, row_id)
    if proc is None:
        raise Invalid("unknown_procedure", f"procedure {key!r} (version {version or 'latest'}) is not deployed")
    return proc


def next_code(conn: Connection, dialect: str, agency: str, day: str) -> str:
    """`agency-YYMMDD-NNNN` (Circular 04/2025/TT-VPCP); the counter row serialises concurrent opens."""
    upsert = (pg_insert if dialect == "postgresql" else sqlite_insert)(CodeCounterRow)
    stmt = upsert.values(agency=agency, day=day, last=1).on_conflict_do_update(
        index_elements=["agency", "day"], set_={"last": CodeCounterRow.last + 1}).returning(CodeCounterRow.last)
    n = conn.execute(stmt).scalar_one()
    return f"{agency}-{day}-{n:04d}"


def reserve_dossier(conn: Connection, proc: wfm.Procedure, code: str, commune: str | None, desk_unit: str,
                    ctx_at: Any, applicant: dict[str, Any], parcel: dict[str, Any]) -> int:
    """The new dossier's row (filled in by the `opened` event's effects) and its search line; its id."""
    dossier_id: int = conn.execute(insert(DOSSIER).returning(DOSSIER.c.id), {
        "code": code, "procedure": proc.key, "procedure_version_id": proc.version_id, "commune": commune,
        "desk_unit": desk_unit, "applicant": "{}", "parcel": "{}", "status": "new", "received_at": ctx_at,
        "version": 0, "last_seq": 0, "head_hash": "", "next_item": 1, "snapshot_seq": 0, "workflow_seq": 0,
        "supplement_count": 0, "apologised": False, "remote": False, "days_spent_before": 0}).scalar_one()
    conn.execute(insert(SEARCH), {"dossier_id": dossier_id, "line": search_line(applicant, parcel)})
    return dossier_id
