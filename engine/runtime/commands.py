"""Commands on dossiers. Each is one database transaction that appends events and updates the
projections, or fails and changes nothing except a recorded refusal (in its own transaction, so the
rollback cannot erase it).

The shape of every command is the same (`_run`): lock the dossier row, load its state (the dossier
and its open work items only — the cost must not grow with history), check the expected version and
the policy, decide the effects, fold them, append the events, write the projections.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from .. import audit
from ..calendar import WorkingCalendar
from ..clock import Clock
from ..definitions.model import StepMeta
from ..eventlog import SPIFF_EVENTS, PendingEvent, append
from ..jsoncanon import iso
from ..org import Directory, DirectoryCache, Officer, UnresolvedOwner
from ..policy import Refusal, check_dossier_action, check_item_action, check_reason
from ..signatures import SignatureProblem, check_decision
from ..store import CaseEventRow, Database, DossierRow, DossierStateRow, WorkItemRow
from . import workflow as wfm
from .actions import OfficerActionsMixin
from .catchup import catch_up
from .deadlines import conditional_limits, limit_change, limit_in_force, procedure_limit, reconcile_clock
from .decisions import DecisionMixin
from .errors import CommandRefused, refuse
from .incidents import (
    EngineLoop,
    ProcedureIncident,
    bound,
    check_data,
    check_depth,
    from_error,
    scripts_ran,
    stuck_element,
)
from .opening import OpeningMixin
from .state import (
    DossierState,
    apply_effects,
    compact,
    dossier_values,
    implied_effects,
    item_row_values,
    state_from_rows,
)
from .succession import SuccessorLookup
from .supervision import IncidentMixin
from .timers import TimerMixin

DOSSIER = DossierRow.__table__
ITEM = WorkItemRow.__table__
EVENT = CaseEventRow.__table__
SNAPSHOT = DossierStateRow.__table__
# Statements built once: their SET clauses come from the parameters, so SQLAlchemy compiles each once
# instead of coercing every value of every command into a new statement.
LOAD_DOSSIER = select(DOSSIER).where(DOSSIER.c.id == bindparam("pk"))
LOAD_DOSSIER_LOCKED = LOAD_DOSSIER.with_for_update()
# An item command finds its dossier and locks it in one statement.
LOAD_BY_ITEM = (select(DOSSIER, ITEM.c.ordinal.label("item_ordinal"), ITEM.c.step.label("item_step"))
                .join_from(ITEM, DOSSIER, ITEM.c.dossier_id == DOSSIER.c.id).where(ITEM.c.id == bindparam("pk")))
LOAD_BY_ITEM_LOCKED = LOAD_BY_ITEM.with_for_update(of=DOSSIER)
LOAD_OPEN_ITEMS = select(ITEM).where(ITEM.c.dossier_id == bindparam("pk"), ITEM.c.state.in_(("ready", "claimed")))
UPDATE_DOSSIER = update(DOSSIER).where(DOSSIER.c.id == bindparam("pk"))
UPDATE_ITEM = update(ITEM).where(ITEM.c.id == bindparam("pk"))
INSERT_ITEMS = insert(ITEM).returning(ITEM.c.id, ITEM.c.ordinal, sort_by_parameter_order=True)
INSERT_SNAPSHOT = insert(SNAPSHOT)
UPDATE_SNAPSHOT = update(SNAPSHOT).where(SNAPSHOT.c.dossier_id == bindparam("pk"))
DELETE_SNAPSHOT = delete(SNAPSHOT).where(SNAPSHOT.c.dossier_id == bindparam("pk"))
LOAD_SNAPSHOT = select(SNAPSHOT.c.state, SNAPSHOT.c.seq).where(SNAPSHOT.c.dossier_id == bindparam("pk"))


@dataclass(frozen=True)
class RuntimeSettings:
    sla_overrides: dict[str, str] = field(default_factory=dict)
    remote_extension: str = "P10D"
    transitional_clock: str = "continue"
    signature_window: int = 900  # seconds a decision signature stays acceptable (engine/signatures.py)
    max_workflow_data: int = 262_144  # bytes of one step's workflow data (engine/runtime/incidents.py)


@dataclass
class Work:
    """One command in progress: the locked dossier, its state, and what the command has decided.

    `conn` is the command's transaction (SQLAlchemy Core). `session` is an ORM session joined to that
    same transaction, made only when a less frequent part (timers, continuations) asks for it.
    """

    conn: Connection
    state: DossierState
    at: datetime
    officer: Officer
    directory: Directory
    proc: wfm.Procedure | None = None
    wf: BpmnWorkflow | None = None
    wf_changed: bool = False
    events: list[PendingEvent] = field(default_factory=list)
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    created: bool = False  # the dossier row was inserted by this command (open)
    loaded: dict[str, Any] = field(default_factory=dict)  # the dossier row as read: only changes are written
    _session: Session | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = Session(bind=self.conn, join_transaction_mode="rollback_only",
                                    autoflush=True, expire_on_commit=False)
        return self._session


@dataclass
class Target:
    """What a command acts on; for item commands, found inside the command's own transaction."""

    dossier_id: int | None = None
    item_id: int | None = None
    ordinal: int | None = None
    step: str | None = None


SNAPSHOT_EVERY = 8  # events between workflow snapshots; a cache miss replays at most this tail


class Runtime(OpeningMixin, OfficerActionsMixin, TimerMixin, DecisionMixin, IncidentMixin):
    """The engine's command side. Everything it needs is passed in; it holds no global state."""

    def __init__(self, db: Database, directory: DirectoryCache, calendar: WorkingCalendar, clock: Clock,
                 settings: RuntimeSettings | None = None, procedures: wfm.ProcedureCache | None = None,
                 workflows: wfm.WorkflowCache | None = None, successors: SuccessorLookup | None = None):
        self.db = db
        self.successors = successors
        self.directory = directory
        self.calendar = calendar
        self.clock = clock
        self.settings = settings or RuntimeSettings()
        self.procedures = procedures or wfm.ProcedureCache()
        self.workflows = workflows or wfm.WorkflowCache()

    # -- the skeleton -------------------------------------------------------------------------------
    def _run(self, action: str, officer: Officer, target: Target, expected_version: int | None,
             decide: Callable[[Work], None]) -> DossierState:
        """One command: SQLAlchemy Core on this path, because the ORM's bookkeeping cost more than the
        command (see bench/engine.py)."""
        work: Work | None = None
        try:
            with self.db.transaction() as conn:
                pg = self.db.dialect == "postgresql"
                if target.item_id is not None:
                    row = conn.execute(LOAD_BY_ITEM_LOCKED if pg else LOAD_BY_ITEM, {"pk": target.item_id}).first()
                    if row is None:
                        raise refuse("not_found", "not_found", f"work item {target.item_id} does not exist")
                    target.dossier_id, target.ordinal, target.step = row.id, row.item_ordinal, row.item_step
                else:
                    row = conn.execute(LOAD_DOSSIER_LOCKED if pg else LOAD_DOSSIER, {"pk": target.dossier_id}).first()
                    if row is None:
                        raise refuse("not_found", "not_found", f"dossier {target.dossier_id} does not exist")
                items = conn.execute(LOAD_OPEN_ITEMS, {"pk": row.id})
                state = state_from_rows(row, items)
                work = Work(conn, state, self.clock.now(), officer, self.directory.get(),
                            loaded=dossier_values(state))
                if expected_version is not None and expected_version != state.version:
                    raise refuse("stale", "stale_version",
                                 f"the dossier changed (version {state.version}, you had {expected_version})")
                decide(work)
                self._check_not_stuck(work)
                self._persist(work)
            if work.wf is not None:
                self.workflows.put(state.id, state.version, work.wf)
            for callback in work.after_commit:
                callback()
            return work.state
        except ProcedureIncident as err:  # the procedure's defect, not the officer's act: no refusal, no blame
            if target.dossier_id is not None:
                self.workflows.evict(target.dossier_id)
            err.dossier_id = target.dossier_id
            self.record_incident(action, officer, target.dossier_id, target.ordinal, target.step, err)
            raise
        except CommandRefused as err:
            if target.dossier_id is not None:
                self.workflows.evict(target.dossier_id)
            err.dossier_id = target.dossier_id
            self._record_refusal(action, officer, target.dossier_id, target.ordinal, target.step, err)
            raise
        except BaseException:
            if target.dossier_id is not None:
                self.workflows.evict(target.dossier_id)
            raise

    def _persist(self, work: Work) -> None:
        state, conn = work.state, work.conn
        first = state.last_seq + 1
        append(conn, state, work.events)
        for offset, ev in enumerate(work.events):
            if ev.type in SPIFF_EVENTS:
                state.workflow_seq = first + offset
        self.persist_timers(work)
        if work._session is not None:
            work._session.flush()
        if state.is_finished:
            # A finished dossier takes no more commands: its history replays from the events alone.
            if state.snapshot_seq:
                conn.execute(DELETE_SNAPSHOT, {"pk": state.id})
                state.snapshot_seq = 0
        elif work.wf_changed and work.wf is not None and (
                work.created or state.last_seq - state.snapshot_seq >= SNAPSHOT_EVERY):
            blob = wfm.snapshot(work.wf)
            values = {"version": state.version, "seq": state.last_seq, "state": blob}
            if work.created:
                conn.execute(INSERT_SNAPSHOT, {"dossier_id": state.id, **values})
            else:
                conn.execute(UPDATE_SNAPSHOT, {"pk": state.id, **values})
            state.snapshot_seq = state.last_seq
        values = dossier_values(state)
        changed = {k: v for k, v in values.items() if work.loaded.get(k, Ellipsis) != v}
        if changed:
            conn.execute(UPDATE_DOSSIER, {"pk": state.id, **changed})
        dirty = [state.items[o] for o in sorted(state.dirty_items)]
        fresh = [i for i in dirty if i.id is None]
        if fresh:
            rows = conn.execute(INSERT_ITEMS, [item_row_values(state.id, i) for i in fresh]).all()
            for item_id, ordinal in rows:
                state.items[ordinal].id = item_id
        changed = [{"pk": i.id, **item_row_values(state.id, i)} for i in dirty if i.id is not None and i not in fresh]
        if changed:
            conn.execute(UPDATE_ITEM, changed)
        state.dirty_items.clear()

    def _record_refusal(self, action: str, officer: Officer, dossier_id: int | None, item: int | None,
                        step: str | None, err: CommandRefused) -> None:
        at = self.clock.now()
        payload = {"action": action, "kind": err.kind, "code": err.code, "message": err.message,
                   "category": err.refusal.recorded_category}
        if err.refusal.params:  # pages render the code with these (api/web/messages.py)
            payload["params"] = err.refusal.params
        if item is not None:
            payload["item"] = item
        if err.problems:
            payload["problems"] = err.problems[:20]
        if dossier_id is not None:
            with self.db.write() as s:
                row = s.get(DossierRow, dossier_id, **self.db.lock_clause())
                if row is not None:
                    lite = DossierState(id=row.id, last_seq=row.last_seq, head_hash=row.head_hash)
                    append(s, lite, [PendingEvent("action_refused", officer.username, officer.unit, step, at,
                                                  payload)])
                    row.last_seq, row.head_hash = lite.last_seq, lite.head_hash
                    return
            payload["dossier"] = dossier_id
        audit.append(self.db, "action_refused", officer.username, officer.unit, at, payload)

    def record_refusal(self, action: str, officer: Officer, err: CommandRefused) -> None:
        """For refusals decided outside `_run` (open, deploy): recorded in the audit log."""
        self._record_refusal(action, officer, err.dossier_id, None, None, err)

    def run_command(self, action: str, officer: Officer, dossier_id: int, expected_version: int | None,
                    decide: Callable[[Work], None]) -> DossierState:
        """The command path for commands decided outside runtime (engine/migration/apply.py)."""
        return self._run(action, officer, Target(dossier_id=dossier_id), expected_version, decide)

    # -- shared pieces --------------------------------------------------------------------------------
    def emit(self, work: Work, etype: str, payload: dict[str, Any], step: str | None = None,
             task_ids: dict[int, str] | None = None) -> None:
        """Fold the event's effects now (later decisions see them) and queue it for appending."""
        fx = payload.setdefault("fx", {})
        self.sync_timers(work, fx, task_ids or {})
        if fx:
            reconcile_clock(self.calendar, work.state, work.at, fx)
        steps = work.proc.meta.steps if work.proc is not None else None
        implied = implied_effects(etype, work.officer.username, payload, work.state)
        fx = compact({k: v for k, v in fx.items() if v}, iso(work.at), steps, implied)
        payload["fx"] = fx
        if not fx:
            payload.pop("fx")
        apply_effects(work.state, fx, work.at, task_ids, steps, implied)  # what is stored, as replay folds it
        if fx or implied:
            work.state.version += 1
        work.events.append(PendingEvent(etype, work.officer.username, work.officer.unit, step, work.at, payload))

    def _limit_change(self, work: Work, step: StepMeta, after: dict[str, Any],
                      dossier_fx: dict[str, Any]) -> dict[str, str] | None:
        """`sla_<field>`: a completion that sets a flag field may change the dossier's statutory limit."""
        assert work.proc is not None
        meta = work.proc.meta
        flags = conditional_limits(meta)
        if not any(f.name in flags for f in step.form):
            return None
        base = procedure_limit(meta, self.settings.sla_overrides)
        old = limit_in_force(work.conn, work.state.id) or base
        deducted = 0 if self.settings.transitional_clock == "restart" else work.state.days_spent_before
        return limit_change(self.calendar, meta, base, meta.remote_extension or self.settings.remote_extension,
                            work.state, deducted, old, after, dossier_fx)

    def load_workflow(self, work: Work) -> BpmnWorkflow:
        """The dossier's live workflow: from the cache, else its snapshot plus the events after it."""
        if work.wf is not None:
            return work.wf
        work.proc = self.procedures.get(work.conn, work.state.procedure_version_id)
        wf = self.workflows.take(work.state.id, work.state.version)
        if wf is None:
            snap = work.conn.execute(LOAD_SNAPSHOT, {"pk": work.state.id}).first()
            if snap is None:
                raise refuse("conflict", "no_snapshot", "the dossier has no workflow state")
            wf = wfm.restore(work.proc, snap.state)
            # events after the last one that moved the workflow (claims, transfers, notices) change
            # nothing in it: the tail ends there (0 = not known, the whole tail)
            upto = work.state.workflow_seq or work.state.last_seq
            if snap.seq < upto:
                self._catch_up(work, wf, snap.seq, upto)
            bound(wf)  # what this command (and later ones, from the cache) runs is bounded
        work.wf = wf
        return wf

    def _catch_up(self, work: Work, wf: BpmnWorkflow, since: int, upto: int) -> None:
        """Re-run the recorded SpiffWorkflow steps after the snapshot (at most SNAPSHOT_EVERY events).

        Steps opened in that tail get new task ids in this process; the open items learn them.
        """
        conn = work.conn
        tail = conn.execute(select(EVENT.c.type, EVENT.c.payload).where(
            EVENT.c.dossier_id == work.state.id, EVENT.c.seq > since, EVENT.c.seq <= upto,
            EVENT.c.type.in_(SPIFF_EVENTS))
            .order_by(EVENT.c.seq)).all()
        known = dict(conn.execute(select(ITEM.c.ordinal, ITEM.c.task_id).where(
            ITEM.c.dossier_id == work.state.id, ITEM.c.task_id.is_not(None))).all())
        mapping = catch_up(wf, [(etype, json.loads(text)) for etype, text in tail], known)
        for ordinal, task_id in mapping.items():
            item = work.state.items.get(ordinal)
            if item is not None and item.task_id != task_id:
                item.task_id = task_id
                work.state.dirty_items.add(ordinal)

    def new_items(self, work: Work, acted: int | None) -> tuple[list[dict[str, Any]], dict[int, str],
                                                                 dict[str, dict[str, Any]]]:
        """Items for the steps SpiffWorkflow just made ready, and closures of items whose step vanished."""
        assert work.wf is not None and work.proc is not None
        state = work.state
        ready = wfm.ready_steps(work.wf)
        ready_ids = {str(t.id) for t in ready}
        held = {i.task_id: i.ordinal for i in state.open_items() if i.ordinal != acted}
        new: list[dict[str, Any]] = []
        task_ids: dict[int, str] = {}
        ordinal = state.next_ordinal
        commune = state.commune
        fresh = [t for t in ready if str(t.id) not in held]
        for task in fresh:
            check_depth(task)
        if scripts_ran(work.wf):  # measuring costs ~10 µs: only when a script may have made the data grow
            last = work.wf.last_task
            check_data(fresh + ([last] if last is not None and last not in fresh else []),
                       self.settings.max_workflow_data)
        for task in fresh:
            meta = work.proc.meta.steps.get(task.task_spec.name)
            if meta is None or meta.role is None or meta.sla is None:
                raise refuse("invalid", "unknown_step", f"step {task.task_spec.name} has no owner or limit")
            try:
                unit = work.directory.owner_unit(meta.role, commune, state.desk_unit)
            except UnresolvedOwner as err:
                raise refuse("invalid", "no_owner", str(err)) from None
            new.append({"item": ordinal, "step": meta.id, "name": meta.name, "role": meta.role, "unit": unit,
                        "sla": meta.sla, "clock": meta.clock,
                        "due_at": iso(self.calendar.add(work.at, meta.sla))})
            task_ids[ordinal] = str(task.id)
            ordinal += 1
        closed = {str(o): self._closure(work, "cancelled") for tid, o in held.items() if tid not in ready_ids}
        return new, task_ids, closed

    def _closure(self, work: Work, outcome: str, by: str | None = None) -> dict[str, Any]:
        return {"state": "done" if outcome != "cancelled" else "cancelled", "outcome": outcome,
                "done_at": iso(work.at), "done_by": by, "last_activity_at": iso(work.at)}

    def finish_if_ended(self, work: Work, fx: dict[str, Any]) -> None:
        assert work.wf is not None
        end = wfm.end_event(work.wf)
        if end is not None:
            fx.setdefault("dossier", {}).update(status="done", outcome=end, finished_at=iso(work.at))

    def run_spiff(self, work: Work, operation: Callable[[], None], element: str | None = None) -> None:
        """Run a SpiffWorkflow operation; what fails inside it is the procedure's incident (`element`: the
        step acted on, named when SpiffWorkflow does not say where it failed)."""
        try:
            operation()
        except ProcedureIncident:
            raise
        except (EngineLoop, SpiffWorkflowException, ValueError, TypeError, LookupError, RecursionError) as err:
            raise from_error(err, element) from None
        work.wf_changed = True

    def _check_not_stuck(self, work: Work) -> None:
        """A command must never leave a dossier in progress with nothing open and no timer to wait for."""
        state = work.state
        if not work.wf_changed or work.wf is None or state.is_finished or state.open_items():
            return
        if any(t.state == "waiting" for t in state.timers.values()):
            return
        raise ProcedureIncident("stuck", stuck_element(work.wf),
                                "the dossier would be left in progress with no step open")

    def check_signature(self, work: Work, officer: Officer, item: Any, required: bool, clean: dict[str, Any],
                        signature: dict[str, str] | None) -> dict[str, Any]:
        """For a signing step: the verified signature to record (`{"signature": …}`), else a refusal."""
        if not required:
            return {}
        try:
            recorded = check_decision(signature, officer.public_key, work.state.code, item.step, item.ordinal, clean,
                                      officer.username, work.at, self.settings.signature_window)
        except SignatureProblem as err:
            kind = "invalid" if err.code == "signature_required" else "forbidden"
            raise refuse(kind, err.code, err.message) from None
        return {"signature": recorded}

    @staticmethod
    def check(refusal: Refusal | None) -> None:
        if refusal is not None:
            raise CommandRefused(refusal)

    def _item_command(self, action: str, officer: Officer, item_id: int, expected_version: int | None,
                      body: Callable[[Work, Any], None], reason: str | None = None) -> DossierState:
        target = Target(item_id=item_id)

        def decide(work: Work) -> None:
            item = work.state.items.get(target.ordinal or 0)
            if item is None:
                raise refuse("conflict", "not_ready", "the item is no longer open")
            self.check(check_item_action(action, officer, work.state, item))
            self.check(check_reason(action, reason))
            body(work, item)

        return self._run(action, officer, target, expected_version, decide)

    def _dossier_command(self, action: str, officer: Officer, dossier_id: int, expected_version: int | None,
                         body: Callable[[Work], None], reason: str | None = None) -> DossierState:
        def decide(work: Work) -> None:
            self.check(check_dossier_action(action, officer, work.state))
            self.check(check_reason(action, reason))
            body(work)

        return self._run(action, officer, Target(dossier_id=dossier_id), expected_version, decide)
