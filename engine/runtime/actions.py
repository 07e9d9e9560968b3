"""What officers do to dossiers: claim, release, complete, return, transfer, request and receive a
supplement, apologise, stop, cancel. Each is a decision: a function of the context the load phase
filled (engine/runtime/context.py) and the command's input, which emits the command's events. The
command machinery (engine/runtime/commands.py) loads, checks the policy, persists — the same for all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ..definitions.forms import clean_submission
from ..errors import Conflict, Invalid
from ..events import (
    Apologised,
    Cancelled,
    Claimed,
    Completed,
    Released,
    Returned,
    Stopped,
    SupplementReceived,
    SupplementRequested,
    Transferred,
)
from ..jsoncanon import iso
from . import continuation, fastforward, succession
from . import workflow as wfm
from .context import Context
from .deadlines import apology_open
from .decide import check_signature, closure, emit, finish_if_ended, limit_change, new_items, run_spiff
from .incidents import engine_steps
from .instances import check_return
from .refusals import refusal_of
from .state import ItemState

# -- item commands ----------------------------------------------------------------------------------


def claim(ctx: Context, item: ItemState) -> None:
    at = iso(ctx.at)
    emit(ctx, Claimed(item=item.ordinal, fx={"items": {str(item.ordinal): {
        "state": "claimed", "assignee": ctx.officer.username, "claimed_at": at, "last_activity_at": at}}}),
        step=item.step)


def release(ctx: Context, item: ItemState) -> None:
    emit(ctx, Released(item=item.ordinal, fx={"items": {str(item.ordinal): {
        "state": "ready", "assignee": None, "claimed_at": None, "last_activity_at": iso(ctx.at)}}}),
        step=item.step)


def complete(ctx: Context, item: ItemState, data: Any, signature: dict[str, str] | None) -> None:
    """`signature` ({signed_at, value}) is required by steps marked `signed` (engine/signatures.py)."""
    wf, proc = ctx.workflow(), ctx.procedure()
    officer = ctx.officer
    meta = proc.meta.steps[item.step]
    if not isinstance(data or {}, dict):
        raise Invalid("invalid_data", "data must be an object")
    clean, problems = clean_submission(list(meta.form), dict(data or {}))
    if problems:
        raise Invalid("invalid_data", "the form is not filled in correctly: " + "; ".join(problems),
                      problems=problems)
    signed = check_signature(ctx, officer, item, meta.signed, clean, signature)
    task = wfm.task_by_id(wf, item.task_id or "")
    if task is None:
        raise Conflict("not_ready", "the step is no longer waiting in the procedure")
    dossier_fx: dict[str, Any] = {}
    derived = succession.route(ctx.rules.successors, proc.meta, meta, clean, task.data, ctx.state,
                               ctx.directory, dossier_fx)
    refusal = refusal_of(proc.meta, meta, clean)
    changed = limit_change(ctx, meta, {**task.data, **clean}, dossier_fx)

    def op() -> None:
        fastforward.run_step(wf, task, {**clean, **derived})

    run_spiff(ctx, op, element=item.step)
    new, task_ids, closed = new_items(ctx, item.ordinal)
    at = iso(ctx.at)
    done = {"state": "done", "outcome": "completed", "done_at": at, "done_by": officer.username,
            "last_activity_at": at}
    if item.state == "ready":
        done.update(assignee=officer.username, claimed_at=at)
    fx: dict[str, Any] = {"new": new, "items": {str(item.ordinal): done, **closed}, "dossier": dossier_fx}
    finish_if_ended(ctx, fx)
    event = Completed(item=item.ordinal, data=clean, fx=fx, signature=signed.get("signature"),
                      derived=derived or None, limit=changed or None,
                      refused=True if refusal is not None else None, reason=refusal)
    emit(ctx, event, step=item.step, task_ids=task_ids)
    continuation.continue_dossier(ctx)


def return_(ctx: Context, item: ItemState, to_step: str, reason: str) -> None:
    wf, proc = ctx.workflow(), ctx.procedure()
    if not to_step or to_step not in proc.meta.steps:
        raise Invalid("illegal_target", f"{to_step!r} is not a step of this procedure")
    check_return(proc.meta, item.step, to_step)
    target = wfm.last_completed(wf, to_step)
    if target is None:
        raise Invalid("illegal_target", f"the dossier has not been through step {to_step!r}: it can only go back")
    def op() -> None:
        wf.reset_from_task_id(target.id)
        engine_steps(wf)

    run_spiff(ctx, op, element=item.step)
    new, task_ids, closed = new_items(ctx, item.ordinal)
    fx = {"new": new, "items": {str(item.ordinal): closure(ctx, "returned", ctx.officer.username), **closed}}
    emit(ctx, Returned(item=item.ordinal, to_step=to_step, reason=reason, fx=fx), step=item.step, task_ids=task_ids)


def transfer(ctx: Context, item: ItemState, reason: str, to_unit: str | None, to_officer: str | None) -> None:
    d = ctx.directory
    if bool(to_unit) == bool(to_officer):
        raise Invalid("illegal_target", "name exactly one of to_unit or to_officer")
    if to_officer:
        target = d.officers.get(to_officer)
        if target is None or not target.active:
            raise Invalid("illegal_target", f"officer {to_officer!r} does not exist")
        if item.role not in target.roles:
            raise Invalid("illegal_target", f"{to_officer} does not hold role {item.role}")
        unit, assignee = target.unit, target.username
    else:
        assert to_unit is not None
        if to_unit not in d.units:
            raise Invalid("illegal_target", f"unit {to_unit!r} does not exist")
        if not d.officers_in(to_unit, item.role):
            raise Invalid("illegal_target", f"unit {to_unit} has no officer with role {item.role}")
        unit, assignee = to_unit, None
    if unit == item.unit and assignee == item.assignee:
        raise Invalid("illegal_target", "the item is already there")
    earlier = item.trail[:-1]
    if unit != item.unit:
        ping_pong = any(h.get("unit") == unit for h in earlier)
    else:
        ping_pong = assignee is not None and any(h.get("officer") == assignee for h in earlier)
    trail = [*item.trail, {"unit": unit, "officer": assignee}]
    fx = {"items": {str(item.ordinal): {"unit": unit, "assignee": assignee, "state": "ready", "claimed_at": None,
                                        "trail": trail, "last_activity_at": iso(ctx.at)}}}
    emit(ctx, Transferred(item=item.ordinal, from_unit=item.unit, to_unit=unit, to_officer=assignee, reason=reason,
                          ping_pong=ping_pong, fx=fx), step=item.step)


def request_supplement(ctx: Context, item: ItemState, reason: str) -> None:
    st = ctx.state
    fx = {"dossier": {"supplement_since": iso(ctx.at), "supplement_count": st.supplement_count + 1,
                      "status": "awaiting_supplement"},
          "items": {str(item.ordinal): {"last_activity_at": iso(ctx.at)}}}
    emit(ctx, SupplementRequested(item=item.ordinal, reason=reason, repeat=st.supplement_count >= 1, fx=fx),
         step=item.step)


# -- dossier commands -------------------------------------------------------------------------------

def receive_supplement(ctx: Context, note: str) -> None:
    st = ctx.state
    assert st.supplement_since is not None
    lost = ctx.calendar.between(st.supplement_since, ctx.at)
    items = {str(i.ordinal): {"due_at": iso(ctx.calendar.add(i.due_at, lost))}
             for i in st.open_items() if i.due_at is not None}
    fx = {"dossier": {"supplement_since": None, "status": "in_progress"}, "items": items}
    emit(ctx, SupplementReceived(note=note[:4000], paused_minutes=lost, fx=fx))


def apologise(ctx: Context, reason: str, new_due: datetime | None) -> None:
    st = ctx.state
    if not apology_open(ctx.calendar, st.due_at, ctx.at):
        raise Invalid("not_late", "an apology is for a dossier due within one working day or already late")
    if new_due is None or new_due.tzinfo is None:
        raise Invalid("invalid_data", "the new date must be a date and time with a zone")
    if st.due_at is not None and new_due <= st.due_at:
        raise Invalid("invalid_data", "the new date must be later than the current deadline")
    late_notice = st.due_at is not None and ctx.calendar.add(ctx.at, "P1D") > st.due_at
    fx = {"dossier": {"apologised": True, "due_at": iso(new_due)}}
    emit(ctx, Apologised(reason=reason, old_due=iso(st.due_at) if st.due_at else None, new_due=iso(new_due),
                         late_notice=late_notice, fx=fx))


def end(ctx: Context, status: Literal["stopped", "cancelled"], reason: str) -> None:
    """`stop` (status stopped) or `cancel` (cancelled): every open item is cancelled."""
    items = {str(i.ordinal): closure(ctx, "cancelled") for i in ctx.state.open_items()}
    fx = {"dossier": {"status": status, "finished_at": iso(ctx.at), "supplement_since": None}, "items": items}
    emit(ctx, (Stopped if status == "stopped" else Cancelled)(reason=reason, fx=fx))
