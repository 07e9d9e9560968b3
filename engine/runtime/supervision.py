"""Procedure incidents in the dossier's chain: raising one (after a command met the defect, or when the
sweep finds a dossier with nothing open) and resolving one (a supervisor moves the dossier to a step).

- `incident_raised` (actor `system`, no unit): the action attempted and by whom, the cause, the BPMN
  element, `repeat` when the dossier already had an open incident (then no new signal). Effects: the
  dossier's `incident` (the element, or the cause when no element is known). Written in its own
  transaction, after the command that met the defect rolled back, as a refusal is.
- `moved` (actor: the supervisor): the step the dossier was moved to, the reason, the items closed
  (outcome `moved`) and opened; clears `incident`. A workflow event: replay re-runs the move
  (`incidents.move_to`), and `verify` checks it opens the same step.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..errors import Conflict, Invalid
from ..events import IncidentRaised, Moved
from ..org import SYSTEM
from ..policy import check_move_to_step, check_reason
from . import incidents
from .context import Context
from .decide import check, emit, finish_if_ended, new_items, run_spiff
from .instances import is_multi_instance


def raise_incident(ctx: Context, step: str | None, event: IncidentRaised, system: bool) -> bool:
    """After the command that met the defect rolled back: the incident in the dossier's chain."""
    st = ctx.state
    if st.is_finished or (system and st.incident is not None):
        return False  # the scheduler meeting the same incident again records nothing new
    return emit_incident(ctx, step, event)


def emit_incident(ctx: Context, step: str | None, event: IncidentRaised) -> bool:
    if ctx.state.incident is not None:
        event = replace(event, repeat=True)
    else:
        event = replace(event, fx={"dossier": {"incident": str(event.element or event.cause)[:100]}})
    emit(ctx, event, step=step)
    ctx.events[-1].unit = None  # the procedure's incident: no unit's, no officer's
    return True


def stuck(ctx: Context) -> bool:
    """The sweep found the dossier in progress with nothing open and no timer (older data, or a defect
    the engine did not catch): record it as an incident. False when it is not (or no longer)."""
    st = ctx.state
    if st.status != "in_progress" or st.open_items() or st.incident is not None:
        return False
    if ctx.waiting_timer or st.awaiting:
        return False  # waiting for a BPMN timer or another agency's message is not stuck
    try:
        element = incidents.stuck_element(ctx.workflow())
    except Exception:  # a dossier whose workflow cannot even load is stuck all the same
        element = None
    return emit_incident(ctx, ctx.last_step, IncidentRaised(
        action="sweep", by=SYSTEM, cause="stuck", element=element,
        detail="the dossier is in progress with no step open"))


def move_to_step(ctx: Context, to_step: str, reason: str) -> None:
    """A supervisor resolves a dossier's open incident by putting it at a step of its procedure."""
    check(check_move_to_step(ctx.officer))
    check(check_reason("move_to_step", reason))
    st = ctx.state
    if st.is_finished:
        raise Conflict("finished", f"the dossier is {st.status}")
    if st.incident is None:
        raise Conflict("no_incident", "the dossier has no open procedure incident to resolve")
    wf, proc = ctx.workflow(), ctx.procedure()
    if not to_step or to_step not in proc.meta.steps:
        raise Invalid("illegal_target", f"{to_step!r} is not a step of this procedure")
    if is_multi_instance(proc.meta, to_step):
        raise Invalid("illegal_target", f"{to_step!r} consults several agencies at once: move the dossier to the "
                                        "step before it (decision 0163)")
    left = [i.step for i in st.open_items()]
    run_spiff(ctx, lambda: incidents.move_to(wf, to_step), element=to_step)
    new, task_ids, closed = new_items(ctx, None)
    for changes in closed.values():
        changes["outcome"] = "moved"
    fx: dict[str, Any] = {"new": new, "items": closed, "dossier": {"incident": None}}
    finish_if_ended(ctx, fx)
    emit(ctx, Moved(to_step=to_step, from_steps=left, reason=reason, incident=st.incident, fx=fx), step=to_step,
         task_ids=task_ids)
