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

from typing import TYPE_CHECKING, Any

from ..errors import Invalid
from ..eventlog import PendingEvent
from ..org import SYSTEM, Officer
from . import workflow as wfm
from .incidents import ProcedureIncident

if TYPE_CHECKING:
    from .commands import Runtime, Work

PLAIN = (str, int, float, bool)


def continues(work: Work) -> bool:
    assert work.wf is not None and work.proc is not None
    end = wfm.end_event(work.wf)
    node = work.proc.meta.nodes.get(end) if end else None
    return node is not None and node.properties.get("continues", "").strip().lower() == "true"


def carried_data(work: Work, data: dict[str, Any]) -> dict[str, Any]:
    """The finished dossier's form values (plain values only) and its code."""
    assert work.proc is not None
    fields = {f.name for s in work.proc.meta.steps.values() for f in s.form}
    out = {k: v for k, v in data.items() if k in fields and isinstance(v, PLAIN)}
    out["handover_code"] = work.state.code
    return out


def continue_dossier(rt: Runtime, work: Work) -> None:
    """Open the follow-on dossier if the dossier just finished at a continuing end."""
    if work.wf is None or not continues(work):
        return
    data = wfm.final_data(work.wf)
    target, resume_at = data.get("target_procedure"), data.get("continue_at")
    if not isinstance(target, str) or not target or not isinstance(resume_at, str) or not resume_at:
        raise ProcedureIncident("procedure_error", wfm.end_event(work.wf),
                                "the dossier ends by continuing, but its data names no target_procedure and "
                                "continue_at")
    if work.state.commune is None:
        raise Invalid("no_owner", "the dossier continues, but its commune is not decided")
    try:
        days = int(data.get("days_spent") or 0)
    except (TypeError, ValueError):
        days = 0
    system = Officer(SYSTEM, "landflow", work.state.desk_unit, frozenset({"one_stop_desk"}))
    child, child_wf = rt.open_in(work.conn, system, target, work.state.commune, dict(work.state.applicant),
                                 dict(work.state.parcel), carried_data(work, data), None, max(0, days),
                                 work.state.id, resume_at)
    work.after_commit.append(lambda: rt.workflows.put(child.id, child.version, child_wf))
    work.events.append(PendingEvent("continued", SYSTEM, work.state.desk_unit, None, work.at, {
        "dossier": child.id, "code": child.code, "procedure": target, "step": resume_at,
        "commune": work.state.commune, "days_spent": max(0, days)}))
