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

from typing import TYPE_CHECKING, Any

from .. import audit
from ..errors import Conflict, Invalid
from ..org import SYSTEM, Officer
from ..policy import check_move_to_step, check_reason
from . import incidents
from .incidents import ProcedureIncident
from .state import DossierState
from .timers import SYSTEM_OFFICER

if TYPE_CHECKING:
    from .commands import Runtime, Work


class IncidentMixin:
    def record_incident(self: Runtime, action: str, officer: Officer, dossier_id: int | None, item: int | None,
                        step: str | None, err: ProcedureIncident, procedure: str | None = None) -> None:
        """After the command rolled back: the incident in the dossier's chain (or, for an open that never
        made a dossier, in the audit log), with the `procedure_incident` signal to supervisors."""
        payload: dict[str, Any] = {"action": action, "by": officer.username, "cause": err.cause,
                                   "element": err.element, "detail": err.detail}
        if item is not None:
            payload["item"] = item
        if dossier_id is None:
            payload["procedure"] = procedure
            audit.append(self.db, "incident_raised", SYSTEM, None, self.clock.now(), payload)
            return
        self._raise_incident(dossier_id, step, payload, system=officer.username == SYSTEM)

    def _raise_incident(self: Runtime, dossier_id: int, step: str | None, payload: dict[str, Any],
                        system: bool) -> bool:
        from .commands import Target

        raised: list[bool] = []

        def decide(work: Work) -> None:
            st = work.state
            if st.is_finished or (system and st.incident is not None):
                return  # the scheduler meeting the same incident again records nothing new
            raised.append(self._emit_incident(work, step, dict(payload)))

        self._run("raise_incident", SYSTEM_OFFICER, Target(dossier_id=dossier_id), None, decide)
        return bool(raised)

    def _emit_incident(self: Runtime, work: Work, step: str | None, body: dict[str, Any]) -> bool:
        if work.state.incident is not None:
            body["repeat"] = True
        else:
            body["fx"] = {"dossier": {"incident": str(body.get("element") or body["cause"])[:100]}}
        self.emit(work, "incident_raised", body, step=step)
        work.events[-1].unit = None  # the procedure's incident: no unit's, no officer's
        return True

    def raise_stuck(self: Runtime, dossier_id: int) -> bool:
        """The sweep found the dossier in progress with nothing open and no timer (older data, or a
        defect the engine did not catch): record it as an incident. False when it is not (or no longer)."""
        from sqlalchemy import select

        from ..store import TimerRow, WorkItemRow
        from .commands import Target

        raised: list[bool] = []

        def decide(work: Work) -> None:
            st = work.state
            if st.status != "in_progress" or st.open_items() or st.incident is not None:
                return
            if work.conn.execute(select(TimerRow.ordinal).where(TimerRow.dossier_id == st.id,
                                                                TimerRow.state == "waiting").limit(1)).first():
                return  # waiting for a BPMN timer is not stuck
            try:
                element = incidents.stuck_element(self.load_workflow(work))
            except Exception:  # a dossier whose workflow cannot even load is stuck all the same
                element = None
            last_step = work.conn.execute(select(WorkItemRow.step).where(WorkItemRow.dossier_id == st.id)
                                          .order_by(WorkItemRow.ordinal.desc()).limit(1)).scalar()
            raised.append(self._emit_incident(work, last_step, {
                "action": "sweep", "by": SYSTEM, "cause": "stuck", "element": element,
                "detail": "the dossier is in progress with no step open"}))

        self._run("sweep", SYSTEM_OFFICER, Target(dossier_id=dossier_id), None, decide)
        return bool(raised)

    def move_to_step(self: Runtime, officer: Officer, dossier_id: int, to_step: str, reason: str,
                     expected_version: int | None = None) -> DossierState:
        """A supervisor resolves a dossier's open incident by putting it at a step of its procedure."""
        from .commands import Target

        def decide(work: Work) -> None:
            self.check(check_move_to_step(officer))
            self.check(check_reason("move_to_step", reason))
            st = work.state
            if st.is_finished:
                raise Conflict("finished", f"the dossier is {st.status}")
            if st.incident is None:
                raise Conflict("no_incident", "the dossier has no open procedure incident to resolve")
            wf = self.load_workflow(work)
            assert work.proc is not None
            if not to_step or to_step not in work.proc.meta.steps:
                raise Invalid("illegal_target", f"{to_step!r} is not a step of this procedure")
            left = [i.step for i in st.open_items()]
            self.run_spiff(work, lambda: incidents.move_to(wf, to_step), element=to_step)
            new, task_ids, closed = self.new_items(work, None)
            for changes in closed.values():
                changes["outcome"] = "moved"
            fx: dict[str, Any] = {"new": new, "items": closed, "dossier": {"incident": None}}
            self.finish_if_ended(work, fx)
            self.emit(work, "moved", {"to_step": to_step, "from_steps": left, "reason": reason,
                                      "incident": st.incident, "fx": fx},
                      step=to_step, task_ids=task_ids)

        return self._run("move_to_step", officer, Target(dossier_id=dossier_id), expected_version, decide)
