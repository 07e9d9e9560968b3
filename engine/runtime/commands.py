"""Commands on dossiers. Each is one database transaction that appends events and updates the
projections, or fails and changes nothing except a recorded refusal (in its own transaction, so the
rollback cannot erase it).

Every command has the same three phases (`Runtime._run`):
1. load (engine/runtime/load.py): lock the dossier row and read it with its open work items in one
   statement, then what this command needs (workflow, limit in force, timers) — the cost must not
   grow with history;
2. decide: check the expected version and the policy, then the action (engine/runtime/actions.py,
   opening.py, supervision.py, timer_firing.py), a function of the loaded `Context` and the command's
   input that emits events; the context holds no connection: no SQL runs while deciding;
3. persist (engine/runtime/persist.py): append the events, write the projections, commit — before
   the command answers, so what is acknowledged is durable.

`Runtime` is the facade the API and the scheduler call; it holds the database and the per-process
caches and delegates to those functions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection

from .. import audit
from ..calendar import WorkingCalendar
from ..clock import Clock
from ..definitions.fragment_store import database_fragments
from ..definitions.lint import LintReport
from ..definitions.registry import Deployed
from ..errors import CommandRefused, Conflict, Stale
from ..eventlog import PendingEvent, append
from ..events import ActionRefused, Event, IncidentRaised
from ..org import SYSTEM, DirectoryCache, Officer
from ..papers.reception import check_reception
from ..policy import check_dossier_action, check_item_action, check_open, check_reason
from ..store import Database, DossierRow
from . import actions, continuation, load, messages, opening, supervision
from . import workflow as wfm
from .context import Context, Rules, RuntimeSettings, Target
from .decide import check, check_not_stuck, emit, emit_payload
from .decisions import DecisionDraft, prepare_decision
from .deploy import deploy_procedure, validate_procedure
from .errors import Invalid
from .incidents import ProcedureIncident
from .persist import SNAPSHOT_EVERY
from .persist import persist as write
from .state import DossierState, ItemState, dossier_values
from .succession import SuccessorLookup
from .timer_firing import fire_timer
from .timers import SYSTEM_OFFICER

__all__ = ["SNAPSHOT_EVERY", "Runtime", "RuntimeSettings", "Target", "Work"]

Work = Context  # the name commands outside engine/runtime (ratings, papers, absences) annotate with
T = TypeVar("T")
Loader = Callable[[Connection, Context], None]


class Runtime:
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
        self.rules = Rules(calendar, self.settings, successors)

    # -- the skeleton: load, decide, persist ----------------------------------------------------------
    def _run(self, action: str, officer: Officer, target: Target, expected_version: int | None,
             decide: Callable[[Context], T], load_also: Loader | None = None) -> T:
        """One command. `decide` sees only the context; `load_also` reads what it needs beyond the dossier
        and its open items (called with the transaction's connection, before deciding)."""
        try:
            with self.db.transaction() as conn:
                ctx = self._load(conn, target, officer, expected_version, load_also)
                result = decide(ctx)
                self._check_not_stuck(ctx)
                self._persist(conn, ctx)
            if ctx.wf is not None:
                self.workflows.put(ctx.state.id, ctx.state.version, ctx.wf)
            for callback in ctx.after_commit:
                callback()
            return result
        except ProcedureIncident as err:  # the procedure's defect, not the officer's act: no refusal, no blame
            self._evict(target)
            err.dossier_id = target.dossier_id
            self.record_incident(action, officer, target.dossier_id, target.ordinal, target.step, err)
            raise
        except CommandRefused as err:
            self._evict(target)
            err.dossier_id = target.dossier_id
            self._record_refusal(action, officer, target.dossier_id, target.ordinal, target.step, err)
            raise
        except BaseException:
            self._evict(target)
            raise

    def _load(self, conn: Connection, target: Target, officer: Officer, expected_version: int | None,
              load_also: Loader | None) -> Context:
        state = load.dossier(conn, self.db.dialect == "postgresql", target)
        ctx = Context(state, self.clock.now(), officer, self.directory.get(), self.rules,
                      loaded=dossier_values(state))
        if expected_version is not None and expected_version != state.version:
            raise Stale("stale_version", f"the dossier changed (version {state.version}, you had {expected_version})")
        if load_also is not None:
            load_also(conn, ctx)
        return ctx

    def _persist(self, conn: Connection, ctx: Context) -> None:
        """Follow-on dossiers the decision asked for first (their rows and events come before this
        dossier's `continued` event names them), then this dossier's events and projections."""
        for follow in ctx.follow_ons:
            system = Officer(SYSTEM, "landflow", ctx.state.desk_unit, frozenset({"one_stop_desk"}))
            child, child_wf = self.open_in(conn, system, follow.procedure, follow.commune, follow.applicant,
                                           follow.parcel, follow.data, None, follow.days_spent, ctx.state.id,
                                           follow.resume_at)
            ctx.after_commit.append(self._cache_later(child, child_wf))
            ctx.events.append(continuation.continued_event(ctx, follow, child.id, child.code))
        write(conn, ctx, self.db.dialect == "postgresql")

    def _cache_later(self, state: DossierState, wf: Any) -> Callable[[], None]:
        return lambda: self.workflows.put(state.id, state.version, wf)

    def _check_not_stuck(self, ctx: Context) -> None:
        """A command must never leave a dossier in progress with nothing open (decide.check_not_stuck)."""
        check_not_stuck(ctx)

    def _evict(self, target: Target) -> None:
        if target.dossier_id is not None:
            self.workflows.evict(target.dossier_id)

    def _load_workflow(self, conn: Connection, ctx: Context) -> None:
        if not ctx.state.is_finished:  # a finished dossier takes no command that moves its workflow
            load.workflow(conn, ctx, self.procedures, self.workflows)

    def _record_refusal(self, action: str, officer: Officer, dossier_id: int | None, item: int | None,
                        step: str | None, err: CommandRefused) -> None:
        at = self.clock.now()
        # pages render the code with its params (api/web/messages.py)
        event = ActionRefused(action=action, kind_=err.kind, code=err.code, message=err.message,
                              category=err.refusal.recorded_category, params=err.refusal.params or None,
                              item=item, problems=err.problems[:20] or None)
        payload = event.to_payload()
        if dossier_id is not None:
            with self.db.write() as s:
                row = s.get(DossierRow, dossier_id, **self.db.lock_clause())
                if row is not None:
                    lite = DossierState(id=row.id, last_seq=row.last_seq, head_hash=row.head_hash)
                    append(s, lite, [PendingEvent(event.kind, officer.username, officer.unit, step, at, payload)])
                    row.last_seq, row.head_hash = lite.last_seq, lite.head_hash
                    return
            payload = replace(event, dossier=dossier_id).to_payload()
        audit.append(self.db, event.kind, officer.username, officer.unit, at, payload)

    def record_refusal(self, action: str, officer: Officer, err: CommandRefused) -> None:
        """For refusals decided outside `_run` (open, deploy): recorded in the audit log."""
        self._record_refusal(action, officer, err.dossier_id, None, None, err)

    # -- for commands defined outside engine/runtime (ratings, papers, absences) ----------------------
    def emit(self, work: Context, etype: str | Event, payload: dict[str, Any] | None = None, step: str | None = None,
             task_ids: dict[int, str] | None = None) -> None:
        """A typed event (engine/events.py), or the older form: its kind and payload dict."""
        if isinstance(etype, Event):
            emit(work, etype, step, task_ids)
        else:
            emit_payload(work, etype, dict(payload or {}), step, task_ids)

    @staticmethod
    def check(refusal: Any) -> None:
        check(refusal)

    def _item_command(self, action: str, officer: Officer, item_id: int, expected_version: int | None,
                      body: Callable[[Context, ItemState], None], reason: str | None = None,
                      workflow: bool = False) -> DossierState:
        target = Target(item_id=item_id)

        def load_also(conn: Connection, ctx: Context) -> None:
            item = ctx.state.items.get(target.ordinal or 0)
            if workflow and item is not None:
                self._load_workflow(conn, ctx)
                if action == "complete":
                    load.limit(conn, ctx, item.step)

        def decide(ctx: Context) -> DossierState:
            item = ctx.state.items.get(target.ordinal or 0)
            if item is None:
                raise Conflict("not_ready", "the item is no longer open")
            check(check_item_action(action, officer, ctx.state, item))
            check(check_reason(action, reason))
            body(ctx, item)
            return ctx.state

        return self._run(action, officer, target, expected_version, decide, load_also)

    def _dossier_command(self, action: str, officer: Officer, dossier_id: int, expected_version: int | None,
                         body: Callable[[Context], None], reason: str | None = None,
                         load_also: Loader | None = None) -> DossierState:
        def decide(ctx: Context) -> DossierState:
            check(check_dossier_action(action, officer, ctx.state))
            check(check_reason(action, reason))
            body(ctx)
            return ctx.state

        return self._run(action, officer, Target(dossier_id=dossier_id), expected_version, decide, load_also)

    # -- officers' commands ---------------------------------------------------------------------------
    def claim(self, officer: Officer, item_id: int, expected_version: int | None = None) -> DossierState:
        return self._item_command("claim", officer, item_id, expected_version, actions.claim)

    def release(self, officer: Officer, item_id: int, expected_version: int | None = None) -> DossierState:
        return self._item_command("release", officer, item_id, expected_version, actions.release)

    def complete(self, officer: Officer, item_id: int, data: dict[str, Any] | None = None,
                 expected_version: int | None = None, signature: dict[str, str] | None = None) -> DossierState:
        """`signature` ({signed_at, value}) is required by steps marked `signed` (engine/signatures.py)."""
        if signature is not None:  # the CA's OCSP answer, fetched before the transaction (engine/ocsp.py)
            self.settings.trust.prefetch_ocsp(officer.public_key, self.clock.now())
        return self._item_command("complete", officer, item_id, expected_version,
                                  lambda ctx, item: actions.complete(ctx, item, data, signature), workflow=True)

    def return_(self, officer: Officer, item_id: int, to_step: str, reason: str,
                expected_version: int | None = None) -> DossierState:
        return self._item_command("return", officer, item_id, expected_version,
                                  lambda ctx, item: actions.return_(ctx, item, to_step, reason), reason,
                                  workflow=True)

    def transfer(self, officer: Officer, item_id: int, reason: str, to_unit: str | None = None,
                 to_officer: str | None = None, expected_version: int | None = None) -> DossierState:
        return self._item_command("transfer", officer, item_id, expected_version,
                                  lambda ctx, item: actions.transfer(ctx, item, reason, to_unit, to_officer), reason)

    def request_supplement(self, officer: Officer, item_id: int, reason: str,
                           expected_version: int | None = None) -> DossierState:
        return self._item_command("request_supplement", officer, item_id, expected_version,
                                  lambda ctx, item: actions.request_supplement(ctx, item, reason), reason)

    def receive_supplement(self, officer: Officer, dossier_id: int, note: str = "",
                           expected_version: int | None = None) -> DossierState:
        return self._dossier_command("receive_supplement", officer, dossier_id, expected_version,
                                     lambda ctx: actions.receive_supplement(ctx, note))

    def apologise(self, officer: Officer, dossier_id: int, reason: str, new_due: datetime,
                  expected_version: int | None = None) -> DossierState:
        return self._dossier_command("apologise", officer, dossier_id, expected_version,
                                     lambda ctx: actions.apologise(ctx, reason, new_due), reason)

    def stop(self, officer: Officer, dossier_id: int, reason: str,
             expected_version: int | None = None) -> DossierState:
        return self._dossier_command("stop", officer, dossier_id, expected_version,
                                     lambda ctx: actions.end(ctx, "stopped", reason), reason)

    def cancel(self, officer: Officer, dossier_id: int, reason: str,
               expected_version: int | None = None) -> DossierState:
        return self._dossier_command("cancel", officer, dossier_id, expected_version,
                                     lambda ctx: actions.end(ctx, "cancelled", reason), reason)

    def prepare_decision(self, officer: Officer, item_id: int, data: Any,
                         signed_at: str | None = None) -> DecisionDraft:
        """The document `officer` must sign to complete work item `item_id` with `data` (decisions.py)."""
        return prepare_decision(self.db, self.procedures, self.rules, self.clock, self._record_refusal,
                                officer, item_id, data, signed_at)

    # -- opening --------------------------------------------------------------------------------------
    def open(self, officer: Officer, procedure: str, commune: str | None, applicant: dict[str, Any],
             parcel: dict[str, Any] | None = None, data: dict[str, Any] | None = None,
             version: int | None = None, days_spent: int = 0, parent_id: int | None = None,
             resume_at: str | None = None, reception: dict[str, Any] | None = None) -> DossierState:
        """Receive a dossier. `commune` may be None only for a procedure that resolves its jurisdiction
        (process property `jurisdiction_from`); `resume_at` opens it at a later step (fastforward);
        `reception` is how it came and the papers ticked (engine/papers/reception.py)."""
        try:
            check(check_open(officer))
            problems = opening.input_problems(applicant, parcel, data, days_spent)
            if problems:
                raise Invalid("invalid_data", "; ".join(problems), problems=problems)
            with self.db.transaction() as conn:
                state, wf = self.open_in(conn, officer, procedure, commune, applicant, parcel or {}, data or {},
                                         version, days_spent, parent_id, resume_at, reception)
            self.workflows.put(state.id, state.version, wf)
            return state
        except ProcedureIncident as err:  # no dossier was made: the incident goes to the audit log, no blame
            self.record_incident("open", officer, None, None, None, err, procedure=procedure)
            raise
        except CommandRefused as err:
            if err.dossier_id is None:
                self.record_refusal("open", officer, err)
            raise

    def open_in(self, conn: Connection, officer: Officer, key: str, commune: str | None,
                applicant: dict[str, Any], parcel: dict[str, Any], data: dict[str, Any], version: int | None,
                days_spent: int, parent_id: int | None, resume_at: str | None = None,
                reception: dict[str, Any] | None = None) -> tuple[DossierState, Any]:
        """Open a dossier inside the caller's transaction (a continuation opens one while it finishes
        another). Returns the state and the live workflow, for the caller to cache after commit."""
        # load: the procedure; then the checks that need it; then the dossier's code and row
        proc = load.procedure(conn, self.procedures, key, version, self.clock.now())
        received, problems = check_reception(reception, proc.meta.papers())
        if problems:
            raise Invalid("invalid_data", "; ".join(problems), problems=problems)
        directory = self.directory.get()
        opening.check_target(proc, directory, officer, commune, resume_at)
        at = self.clock.now()
        desk = directory.units.get(officer.unit)
        agency = (desk.agency_code if desk and desk.agency_code else officer.unit)
        code = load.next_code(conn, self.db.dialect, agency, at.astimezone(self.calendar.tz).strftime("%y%m%d"))
        dossier_id = load.reserve_dossier(conn, proc, code, commune, officer.unit, at, applicant, parcel)
        state = DossierState(id=dossier_id, code=code, desk_unit=officer.unit, commune=commune)
        state.timers_loaded = True  # a new dossier waits on no timer yet
        ctx = Context(state, at, officer, directory, self.rules, proc=proc, created=True)
        # decide
        opening.open_dossier(ctx, applicant, parcel, data, days_spent, parent_id, resume_at, received)
        self._check_not_stuck(ctx)
        # persist
        write(conn, ctx, self.db.dialect == "postgresql")
        return state, ctx.wf

    # -- procedures -----------------------------------------------------------------------------------
    def deploy(self, officer: Officer, bpmn: bytes, dmns: list[bytes] | None = None,
               max_bytes: int = 2_000_000, effective_from: date | None = None) -> Deployed:
        """Validate and store a procedure version (engine/runtime/deploy.py); `effective_from`: the day it
        takes effect for dossiers received from then (None: at once)."""
        return deploy_procedure(self.db, self.directory, self.clock, self.procedures, self.record_refusal,
                                officer, bpmn, dmns, max_bytes, effective_from)

    def validate(self, officer: Officer, bpmn: bytes, dmns: list[bytes] | None = None,
                 max_bytes: int = 2_000_000) -> LintReport:
        with self.db.read() as s:
            return validate_procedure(self.directory, self.record_refusal, officer, bpmn, dmns, max_bytes,
                                      database_fragments(s, self.clock.now()))

    # -- another agency's answer (engine/runtime/messages.py) -----------------------------------------
    def deliver_message(self, officer: Officer, code: str, message: str, data: dict[str, Any],
                        key: str) -> messages.Delivery:
        """Deliver a message the dossier `code` waits on (e.g. the tax notice); the same `key` again answers
        the first delivery and records nothing."""
        try:
            messages.check_input(message, data, key)
            with self.db.lookup() as conn:
                dossier_id = messages.dossier_id(conn, code)
        except CommandRefused as err:
            self.record_refusal("deliver_message", officer, err)
            raise

        def load_also(conn: Connection, ctx: Context) -> None:
            ctx.extra = messages.prior_delivery(conn, dossier_id, key)
            if ctx.extra is None:
                ctx.proc = self.procedures.get(conn, ctx.state.procedure_version_id)
                self._load_workflow(conn, ctx)

        return self._run("deliver_message", officer, Target(dossier_id=dossier_id), None,
                         lambda ctx: messages.deliver_message(ctx, message, data, key, ctx.extra), load_also)

    # -- timers and procedure incidents ---------------------------------------------------------------
    def fire_timer(self, dossier_id: int, ordinal: int) -> bool:
        """Fire a due timer (the scheduler calls this). False when there was nothing to fire."""
        def load_also(conn: Connection, ctx: Context) -> None:
            ctx.timer = load.timer(conn, ctx, ordinal)
            if ctx.timer is not None and ctx.timer.state == "waiting":
                self._load_workflow(conn, ctx)

        return self._run("fire_timer", SYSTEM_OFFICER, Target(dossier_id=dossier_id), None,
                         lambda ctx: fire_timer(ctx, ordinal), load_also)

    def record_incident(self, action: str, officer: Officer, dossier_id: int | None, item: int | None,
                        step: str | None, err: ProcedureIncident, procedure: str | None = None) -> None:
        """After the command rolled back: the incident in the dossier's chain (or, for an open that never
        made a dossier, in the audit log), with the `procedure_incident` signal to supervisors."""
        event = IncidentRaised(action=action, by=officer.username, cause=err.cause, element=err.element,
                               detail=err.detail, item=item)
        if dossier_id is None:
            audit.append(self.db, event.kind, SYSTEM, None, self.clock.now(),
                         {**replace(event, procedure=procedure).to_payload(), "procedure": procedure})
            return
        system = officer.username == SYSTEM
        self._run("raise_incident", SYSTEM_OFFICER, Target(dossier_id=dossier_id), None,
                  lambda ctx: supervision.raise_incident(ctx, step, event, system))

    def raise_stuck(self, dossier_id: int) -> bool:
        """The sweep found the dossier in progress with nothing open and no timer: record it as an
        incident. False when it is not (or no longer)."""
        def load_also(conn: Connection, ctx: Context) -> None:
            st = ctx.state
            if st.status == "in_progress" and not st.open_items() and st.incident is None:
                load.sweep_facts(conn, ctx)
                if not ctx.waiting_timer:
                    self._load_workflow(conn, ctx)

        return self._run("sweep", SYSTEM_OFFICER, Target(dossier_id=dossier_id), None, supervision.stuck,
                         load_also)

    def move_to_step(self, officer: Officer, dossier_id: int, to_step: str, reason: str,
                     expected_version: int | None = None) -> DossierState:
        """A supervisor resolves a dossier's open incident by putting it at a step of its procedure."""
        def decide(ctx: Context) -> DossierState:
            supervision.move_to_step(ctx, to_step, reason)
            return ctx.state

        return self._run("move_to_step", officer, Target(dossier_id=dossier_id), expected_version, decide,
                         self._load_workflow)
