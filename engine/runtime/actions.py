"""What officers do to dossiers: claim, release, complete, return, transfer, request and receive a
supplement, apologise, stop, cancel. Each only decides its effects (the events it emits); the command
machinery in engine/runtime/commands.py locks, checks, folds and writes, the same for all of them.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..definitions.forms import clean_submission
from ..errors import Conflict, Invalid
from ..jsoncanon import iso
from ..org import Officer
from . import continuation, fastforward, succession
from . import workflow as wfm
from .deadlines import apology_open
from .incidents import engine_steps
from .refusals import refusal_of
from .state import DossierState

if TYPE_CHECKING:
    from .commands import Runtime, Work


class OfficerActionsMixin:
    # -- item commands ------------------------------------------------------------------------------
    def claim(self: Runtime, officer: Officer, item_id: int, expected_version: int | None = None) -> DossierState:
        def body(work: Work, item: Any) -> None:
            at = iso(work.at)
            self.emit(work, "claimed", {"item": item.ordinal, "fx": {"items": {str(item.ordinal): {
                "state": "claimed", "assignee": officer.username, "claimed_at": at, "last_activity_at": at}}}},
                step=item.step)
        return self._item_command("claim", officer, item_id, expected_version, body)

    def release(self: Runtime, officer: Officer, item_id: int, expected_version: int | None = None) -> DossierState:
        def body(work: Work, item: Any) -> None:
            self.emit(work, "released", {"item": item.ordinal, "fx": {"items": {str(item.ordinal): {
                "state": "ready", "assignee": None, "claimed_at": None, "last_activity_at": iso(work.at)}}}},
                step=item.step)
        return self._item_command("release", officer, item_id, expected_version, body)

    def complete(self: Runtime, officer: Officer, item_id: int, data: dict[str, Any] | None = None,
                 expected_version: int | None = None, signature: dict[str, str] | None = None) -> DossierState:
        """`signature` ({signed_at, value}) is required by steps marked `signed` (engine/signatures.py)."""
        def body(work: Work, item: Any) -> None:
            wf = self.load_workflow(work)
            assert work.proc is not None
            meta = work.proc.meta.steps[item.step]
            if not isinstance(data or {}, dict):
                raise Invalid("invalid_data", "data must be an object")
            clean, problems = clean_submission(list(meta.form), dict(data or {}))
            if problems:
                raise Invalid("invalid_data", "the form is not filled in correctly: " + "; ".join(problems),
                          problems=problems)
            signed = self.check_signature(work, officer, item, meta.signed, clean, signature)
            task = wfm.task_by_id(wf, item.task_id or "")
            if task is None:
                raise Conflict("not_ready", "the step is no longer waiting in the procedure")
            dossier_fx: dict[str, Any] = {}
            derived = succession.route(self.successors, work.proc.meta, meta, clean, task.data, work.state,
                                       work.directory, dossier_fx)
            refusal = refusal_of(work.proc.meta, meta, clean)
            changed = self._limit_change(work, meta, {**task.data, **clean}, dossier_fx)

            def op() -> None:
                fastforward.run_step(wf, task, {**clean, **derived})

            self.run_spiff(work, op, element=item.step)
            new, task_ids, closed = self.new_items(work, item.ordinal)
            at = iso(work.at)
            done = {"state": "done", "outcome": "completed", "done_at": at, "done_by": officer.username,
                    "last_activity_at": at}
            if item.state == "ready":
                done.update(assignee=officer.username, claimed_at=at)
            fx: dict[str, Any] = {"new": new, "items": {str(item.ordinal): done, **closed}, "dossier": dossier_fx}
            self.finish_if_ended(work, fx)
            payload: dict[str, Any] = {"item": item.ordinal, "data": clean, "fx": fx, **signed}
            if derived:
                payload["derived"] = derived
            if changed:
                payload["limit"] = changed
            if refusal is not None:
                payload.update(refused=True, reason=refusal)
            self.emit(work, "completed", payload, step=item.step, task_ids=task_ids)
            continuation.continue_dossier(self, work)
        return self._item_command("complete", officer, item_id, expected_version, body)

    def return_(self: Runtime, officer: Officer, item_id: int, to_step: str, reason: str,
                expected_version: int | None = None) -> DossierState:
        def body(work: Work, item: Any) -> None:
            wf = self.load_workflow(work)
            assert work.proc is not None
            if not to_step or to_step not in work.proc.meta.steps:
                raise Invalid("illegal_target", f"{to_step!r} is not a step of this procedure")
            target = wfm.last_completed(wf, to_step)
            if target is None:
                raise Invalid("illegal_target",
                             f"the dossier has not been through step {to_step!r}: it can only go back")
            self.run_spiff(work, lambda: (wf.reset_from_task_id(target.id), engine_steps(wf)), element=item.step)
            new, task_ids, closed = self.new_items(work, item.ordinal)
            fx = {"new": new, "items": {str(item.ordinal): self._closure(work, "returned", officer.username),
                                        **closed}}
            self.emit(work, "returned", {"item": item.ordinal, "to_step": to_step, "reason": reason, "fx": fx},
                      step=item.step, task_ids=task_ids)
        return self._item_command("return", officer, item_id, expected_version, body, reason)

    def transfer(self: Runtime, officer: Officer, item_id: int, reason: str, to_unit: str | None = None,
                 to_officer: str | None = None, expected_version: int | None = None) -> DossierState:
        def body(work: Work, item: Any) -> None:
            d = work.directory
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
            fx = {"items": {str(item.ordinal): {"unit": unit, "assignee": assignee, "state": "ready",
                                                "claimed_at": None, "trail": trail,
                                                "last_activity_at": iso(work.at)}}}
            self.emit(work, "transferred", {"item": item.ordinal, "from_unit": item.unit, "to_unit": unit,
                                            "to_officer": assignee, "reason": reason, "ping_pong": ping_pong,
                                            "fx": fx}, step=item.step)
        return self._item_command("transfer", officer, item_id, expected_version, body, reason)

    def request_supplement(self: Runtime, officer: Officer, item_id: int, reason: str,
                           expected_version: int | None = None) -> DossierState:
        def body(work: Work, item: Any) -> None:
            st = work.state
            fx = {"dossier": {"supplement_since": iso(work.at), "supplement_count": st.supplement_count + 1,
                              "status": "awaiting_supplement"},
                  "items": {str(item.ordinal): {"last_activity_at": iso(work.at)}}}
            self.emit(work, "supplement_requested", {"item": item.ordinal, "reason": reason,
                                                     "repeat": st.supplement_count >= 1, "fx": fx}, step=item.step)
        return self._item_command("request_supplement", officer, item_id, expected_version, body, reason)

    # -- dossier commands -----------------------------------------------------------------------------
    def receive_supplement(self: Runtime, officer: Officer, dossier_id: int, note: str = "",
                           expected_version: int | None = None) -> DossierState:
        def body(work: Work) -> None:
            st = work.state
            assert st.supplement_since is not None
            lost = self.calendar.between(st.supplement_since, work.at)
            items = {str(i.ordinal): {"due_at": iso(self.calendar.add(i.due_at, lost))}
                     for i in st.open_items() if i.due_at is not None}
            fx = {"dossier": {"supplement_since": None, "status": "in_progress"}, "items": items}
            self.emit(work, "supplement_received", {"note": note[:4000], "paused_minutes": lost, "fx": fx})
        return self._dossier_command("receive_supplement", officer, dossier_id, expected_version, body)

    def apologise(self: Runtime, officer: Officer, dossier_id: int, reason: str, new_due: datetime,
                  expected_version: int | None = None) -> DossierState:
        def body(work: Work) -> None:
            st = work.state
            if not apology_open(self.calendar, st.due_at, work.at):
                raise Invalid("not_late", "an apology is for a dossier due within one working day or "
                                                    "already late")
            if new_due is None or new_due.tzinfo is None:
                raise Invalid("invalid_data", "the new date must be a date and time with a zone")
            if st.due_at is not None and new_due <= st.due_at:
                raise Invalid("invalid_data", "the new date must be later than the current deadline")
            late_notice = st.due_at is not None and self.calendar.add(work.at, "P1D") > st.due_at
            fx = {"dossier": {"apologised": True, "due_at": iso(new_due)}}
            self.emit(work, "apologised", {"reason": reason, "old_due": iso(st.due_at) if st.due_at else None,
                                           "new_due": iso(new_due), "late_notice": late_notice, "fx": fx})
        return self._dossier_command("apologise", officer, dossier_id, expected_version, body, reason)

    def stop(self: Runtime, officer: Officer, dossier_id: int, reason: str,
             expected_version: int | None = None) -> DossierState:
        return self._end("stop", "stopped", officer, dossier_id, reason, expected_version)

    def cancel(self: Runtime, officer: Officer, dossier_id: int, reason: str,
               expected_version: int | None = None) -> DossierState:
        return self._end("cancel", "cancelled", officer, dossier_id, reason, expected_version)

    def _end(self: Runtime, action: str, status: str, officer: Officer, dossier_id: int, reason: str,
             expected_version: int | None) -> DossierState:
        def body(work: Work) -> None:
            items = {str(i.ordinal): self._closure(work, "cancelled") for i in work.state.open_items()}
            fx = {"dossier": {"status": status, "finished_at": iso(work.at), "supplement_since": None},
                  "items": items}
            self.emit(work, status, {"reason": reason, "fx": fx})
        return self._dossier_command(action, officer, dossier_id, expected_version, body, reason)
