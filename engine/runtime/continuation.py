"""Continuing ends: a hand-over that finishes opens the follow-on dossier in the land procedure.

An end event with the property `continues=true` means "this dossier goes on in another procedure".
When a dossier finishes there, the engine opens, in the same transaction:

- the procedure named by the data `target_procedure`, latest version,
- at the step named by `continue_at` (the earlier steps are carried over, see fastforward),
- in the dossier's commune (the successor), received by the same desk, for the same applicant and parcel,
- with `parent_id` = the finished dossier and `days_spent_before` = the data `days_spent` (0 if absent);
  whether those days count against the new deadline is `LANDFLOW_TRANSITIONAL_CLOCK`,
- with the finished dossier's form values as opening data (the hand-over record travels with the
  dossier: nobody asks the applicant again), plus `handover_code`.

The finished dossier's history gets a `continued` event naming the new dossier. If the follow-on
dossier cannot be opened (procedure not deployed, step unreachable, no owner), the completion is
refused as a whole: nothing is half done.
"""

from __future__ import annotations

from typing import Any

from ..errors import Invalid
from ..eventlog import PendingEvent
from ..events import Continued
from ..org import SYSTEM
from . import workflow as wfm
from .context import Context, FollowOn
from .incidents import ProcedureIncident

PLAIN = (str, int, float, bool)


def continues(ctx: Context) -> bool:
    end = wfm.end_event(ctx.workflow())
    node = ctx.procedure().meta.nodes.get(end) if end else None
    return node is not None and node.properties.get("continues", "").strip().lower() == "true"


def carried_data(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    """The finished dossier's form values (plain values only) and its code."""
    fields = {f.name for s in ctx.procedure().meta.steps.values() for f in s.form}
    out = {k: v for k, v in data.items() if k in fields and isinstance(v, PLAIN)}
    out["handover_code"] = ctx.state.code
    return out


def continue_dossier(ctx: Context) -> None:
    """Decide the follow-on dossier if the dossier just finished at a continuing end; the persistence
    phase opens it (a new dossier is storage work) before it appends this dossier's events."""
    if ctx.wf is None or not continues(ctx):
        return
    data = wfm.final_data(ctx.wf)
    target, resume_at = data.get("target_procedure"), data.get("continue_at")
    if not isinstance(target, str) or not target or not isinstance(resume_at, str) or not resume_at:
        raise ProcedureIncident("procedure_error", wfm.end_event(ctx.wf),
                                "the dossier ends by continuing, but its data names no target_procedure and "
                                "continue_at")
    if ctx.state.commune is None:
        raise Invalid("no_owner", "the dossier continues, but its commune is not decided")
    try:
        days = int(data.get("days_spent") or 0)
    except (TypeError, ValueError):
        days = 0
    ctx.follow_ons.append(FollowOn(target, ctx.state.commune, dict(ctx.state.applicant), dict(ctx.state.parcel),
                                   carried_data(ctx, data), max(0, days), resume_at))


def continued_event(ctx: Context, follow: FollowOn, child_id: int, child_code: str) -> PendingEvent:
    """The finished dossier's `continued` event, once the follow-on dossier exists."""
    event = Continued(dossier=child_id, code=child_code, procedure=follow.procedure, step=follow.resume_at,
                      commune=follow.commune, days_spent=follow.days_spent)
    return PendingEvent(event.kind, SYSTEM, ctx.state.desk_unit, None, ctx.at, event.to_payload())
