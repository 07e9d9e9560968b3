"""The pieces every decision shares: emit an event (folding its effects), open the items for the steps
SpiffWorkflow made ready, close items, finish the dossier, run SpiffWorkflow, check a signature.

All of it works on a `Context` (engine/runtime/context.py) and reads no database: what a decision
needs from storage the load phase put in the context first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from SpiffWorkflow.exceptions import SpiffWorkflowException

from ..definitions.model import StepMeta
from ..errors import Forbidden, Invalid, refused
from ..eventlog import PendingEvent
from ..events import Event
from ..jsoncanon import iso
from ..org import Officer, UnresolvedOwner
from ..policy import Refusal
from ..signatures import SignatureProblem, check_decision
from . import workflow as wfm
from .awaiting import sync_awaiting
from .context import Context
from .deadlines import conditional_limits, procedure_limit, reconcile_clock
from .deadlines import limit_change as _limit_change
from .incidents import EngineLoop, ProcedureIncident, check_data, check_depth, from_error, scripts_ran, stuck_element
from .instances import owner_role, step_of
from .state import ItemState, apply_effects, compact, implied_effects
from .timers import timer_effects


def check(refusal: Refusal | None) -> None:
    """Raise a policy function's refusal as the type of its kind."""
    if refusal is not None:
        raise refused(refusal)


def emit(ctx: Context, event: Event, step: str | None = None, task_ids: dict[int, str] | None = None) -> None:
    """Fold the event's effects now (later decisions see them) and queue it for appending. The effects
    are stored compact (`compact`), with the timers and the clock they imply added first."""
    emit_payload(ctx, event.kind, event.to_payload(), step, task_ids)


def emit_payload(ctx: Context, etype: str, payload: dict[str, Any], step: str | None = None,
                 task_ids: dict[int, str] | None = None) -> None:
    """`emit` for a payload built as a dict (commands defined outside engine/runtime)."""
    fx = payload.setdefault("fx", {})
    sync_timers(ctx, fx, task_ids or {})
    sync_awaiting(ctx, fx)
    if fx:
        reconcile_clock(ctx.calendar, ctx.state, ctx.at, fx)
    steps = ctx.proc.meta.steps if ctx.proc is not None else None
    implied = implied_effects(etype, ctx.officer.username, payload, ctx.state)
    fx = compact({k: v for k, v in fx.items() if v}, iso(ctx.at), steps, implied)
    payload["fx"] = fx
    if not fx:
        payload.pop("fx")
    apply_effects(ctx.state, fx, ctx.at, task_ids, steps, implied)  # what is stored, as replay folds it
    if fx or implied:
        ctx.state.version += 1
    ctx.events.append(PendingEvent(etype, ctx.officer.username, ctx.officer.unit, step, ctx.at, payload))


def sync_timers(ctx: Context, fx: dict[str, Any], task_ids: dict[int, str]) -> None:
    """The timers the workflow now waits on and those it left, into `fx["timers"]` (the load phase read
    the waiting ones of a procedure with timers)."""
    if ctx.wf is None or not ctx.wf_changed or (ctx.proc is not None and not ctx.proc.has_timers):
        return
    if not ctx.state.timers_loaded:
        raise LookupError("the load phase did not load the dossier's timers")
    pending: dict[str, dict[str, Any]] = fx.get("timers", {})
    timer_effects(ctx.calendar, ctx.state, ctx.wf, ctx.at, pending, task_ids)
    if pending:
        fx["timers"] = pending


def limit_change(ctx: Context, step: StepMeta, after: dict[str, Any],
                 dossier_fx: dict[str, Any]) -> dict[str, str] | None:
    """`sla_<field>`: a completion that sets a flag field may change the dossier's statutory limit."""
    meta = ctx.procedure().meta
    flags = conditional_limits(meta)
    if not any(f.name in flags for f in step.form):
        return None
    base = procedure_limit(meta, ctx.settings.sla_overrides)
    old = ctx.limit_in_force or base
    deducted = 0 if ctx.settings.transitional_clock == "restart" else ctx.state.days_spent_before
    return _limit_change(ctx.calendar, meta, base, meta.remote_extension or ctx.settings.remote_extension,
                         ctx.state, deducted, old, after, dossier_fx)


def new_items(ctx: Context, acted: int | None) -> tuple[list[dict[str, Any]], dict[int, str],
                                                        dict[str, dict[str, Any]]]:
    """Items for the steps SpiffWorkflow just made ready, and closures of items whose step vanished."""
    wf, proc = ctx.workflow(), ctx.procedure()
    state = ctx.state
    ready = wfm.ready_steps(wf)
    ready_ids = {str(t.id) for t in ready}
    held = {i.task_id: i.ordinal for i in state.open_items() if i.ordinal != acted}
    new: list[dict[str, Any]] = []
    task_ids: dict[int, str] = {}
    ordinal = state.next_ordinal
    commune = state.commune
    fresh = [t for t in ready if str(t.id) not in held]
    for task in fresh:
        check_depth(task)
    if scripts_ran(wf):  # measuring costs ~10 µs: only when a script may have made the data grow
        last = wf.last_task
        check_data(fresh + ([last] if last is not None and last not in fresh else []),
                   ctx.settings.max_workflow_data)
    for task in fresh:
        meta = proc.meta.steps.get(step_of(task))
        role = owner_role(task, meta.role) if meta is not None else None
        if meta is None or role is None or meta.sla is None:
            raise Invalid("unknown_step", f"step {task.task_spec.name} has no owner or limit")
        try:
            unit = ctx.directory.owner_unit(role, commune, state.desk_unit)
        except UnresolvedOwner as err:
            raise Invalid("no_owner", str(err)) from None
        new.append({"item": ordinal, "step": meta.id, "name": meta.name, "role": role, "unit": unit,
                    "sla": meta.sla, "clock": meta.clock, "due_at": iso(ctx.calendar.add(ctx.at, meta.sla))})
        task_ids[ordinal] = str(task.id)
        ordinal += 1
    closed = {str(o): closure(ctx, "cancelled") for tid, o in held.items() if tid not in ready_ids}
    return new, task_ids, closed


def closure(ctx: Context, outcome: str, by: str | None = None) -> dict[str, Any]:
    return {"state": "done" if outcome != "cancelled" else "cancelled", "outcome": outcome,
            "done_at": iso(ctx.at), "done_by": by, "last_activity_at": iso(ctx.at)}


def finish_if_ended(ctx: Context, fx: dict[str, Any]) -> None:
    end = wfm.end_event(ctx.workflow())
    if end is not None:
        fx.setdefault("dossier", {}).update(status="done", outcome=end, finished_at=iso(ctx.at))


def run_spiff(ctx: Context, operation: Callable[[], None], element: str | None = None) -> None:
    """Run a SpiffWorkflow operation; what fails inside it is the procedure's incident (`element`: the
    step acted on, named when SpiffWorkflow does not say where it failed)."""
    try:
        operation()
    except ProcedureIncident:
        raise
    except (EngineLoop, SpiffWorkflowException, ValueError, TypeError, LookupError, RecursionError) as err:
        raise from_error(err, element) from None
    ctx.wf_changed = True


def check_not_stuck(ctx: Context) -> None:
    """A command must never leave a dossier in progress with nothing open and no timer or message to wait for."""
    state = ctx.state
    if not ctx.wf_changed or ctx.wf is None or state.is_finished or state.open_items() or state.awaiting:
        return
    if any(t.state == "waiting" for t in state.timers.values()):
        return
    raise ProcedureIncident("stuck", stuck_element(ctx.wf), "the dossier would be left in progress with no step open")


def check_signature(ctx: Context, officer: Officer, item: ItemState, required: bool, clean: dict[str, Any],
                    signature: dict[str, str] | None) -> dict[str, Any]:
    """For a signing step: the verified signature to record (`{"signature": …}`), else a refusal."""
    if not required:
        return {}
    try:
        recorded = check_decision(signature, officer.public_key, ctx.state.code, item.step, item.ordinal, clean,
                                  officer.username, ctx.at, ctx.settings.signature_window, ctx.settings.trust)
    except SignatureProblem as err:
        raise (Invalid if err.code == "signature_required" else Forbidden)(err.code, err.message) from None
    return {"signature": recorded}
