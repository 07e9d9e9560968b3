"""Receiving a dossier: the first command of every history.

Opening decides what every later deadline hangs on: the statutory limit (with the remote-commune
extension and, for transitional dossiers, the days already spent), the dossier code, and the
owner of the first step. All of it is recorded in the `opened` event.
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from sqlalchemy import Connection, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ..definitions import DefinitionRefused, check
from ..definitions.lint import LintReport, lint
from ..definitions.registry import Deployed, deploy
from ..definitions.versions import version_in_force
from ..jsoncanon import iso
from ..org import SYSTEM, Officer, UnresolvedOwner
from ..papers.reception import check_applicant, check_reception
from ..policy import check_deploy, check_open, check_validate
from ..search import search_line
from ..store import CodeCounterRow, DossierRow, DossierSearchRow
from . import fastforward
from . import workflow as wfm
from .deadlines import dossier_due, limit_for, procedure_limit
from .errors import CommandRefused, refuse
from .incidents import ProcedureIncident
from .state import DossierState

if TYPE_CHECKING:
    from .commands import Runtime, Work

SEARCH = DossierSearchRow.__table__
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
MAX_JSON_BYTES = 32_000
RESERVED = {"commune", "remote", "procedure", "parcel", "applicant", "dossier_code"}


def _check_data(data: Any, what: str) -> list[str]:
    import json

    if not isinstance(data, dict):
        return [f"{what} must be an object"]
    problems = []
    for k, v in data.items():
        if not isinstance(k, str) or not NAME.match(k):
            problems.append(f"{what}: {k!r} is not a valid name")
        if isinstance(v, (dict, list)) and what == "data":
            problems.append(f"{what}: {k} must be a plain value")
    try:
        if len(json.dumps(data, ensure_ascii=False)) > MAX_JSON_BYTES:
            problems.append(f"{what} is too large")
    except (TypeError, ValueError):
        problems.append(f"{what} is not JSON")
    return problems


def next_code(session: Session | Connection, dialect: str, agency: str, day: str) -> str:
    """`agency-YYMMDD-NNNN` (Circular 04/2025/TT-VPCP); the counter row serialises concurrent opens."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(CodeCounterRow).values(agency=agency, day=day, last=1)
    stmt = stmt.on_conflict_do_update(index_elements=["agency", "day"],
                                      set_={"last": CodeCounterRow.last + 1}).returning(CodeCounterRow.last)
    n = session.execute(stmt).scalar_one()
    return f"{agency}-{day}-{n:04d}"


def workflow_data(data: dict[str, Any], dossier: dict[str, Any]) -> dict[str, Any]:
    """What the workflow starts with: the opening data plus the dossier fields conditions may read.

    Derived from the `opened` event (its data and its dossier effects), so the event need not repeat it.
    """
    return {**data, "commune": dossier["commune"], "remote": dossier["remote"], "procedure": dossier["procedure"],
            "parcel": dossier["parcel"], "applicant": dossier["applicant"], "dossier_code": dossier["code"]}


class OpeningMixin:
    def open(self: Runtime, officer: Officer, procedure: str, commune: str | None, applicant: dict[str, Any],
             parcel: dict[str, Any] | None = None, data: dict[str, Any] | None = None,
             version: int | None = None, days_spent: int = 0, parent_id: int | None = None,
             resume_at: str | None = None, reception: dict[str, Any] | None = None) -> DossierState:
        """Receive a dossier. `commune` may be None only for a procedure that resolves its jurisdiction
        (process property `jurisdiction_from`); `resume_at` opens it at a later step (fastforward);
        `reception` is how it came and the papers ticked (engine/papers/reception.py)."""
        try:
            self.check(check_open(officer))
            problems = _check_data(applicant, "applicant") + _check_data(parcel or {}, "parcel") + \
                _check_data(data or {}, "data")
            if isinstance(applicant, dict) and not str(applicant.get("name") or "").strip():
                problems.append("applicant.name is required")
            if isinstance(applicant, dict):
                problems += check_applicant(applicant)
            if isinstance(data, dict):
                problems += [f"data: {k} is a reserved name" for k in data if k in RESERVED]
            if isinstance(days_spent, bool) or not isinstance(days_spent, int) or days_spent < 0:
                problems.append("days_spent must be a whole number of working days, 0 or more")
            if problems:
                raise refuse("invalid", "invalid_data", "; ".join(problems), problems)
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

    def open_in(self: Runtime, s: Connection, officer: Officer, key: str, commune: str | None,
                applicant: dict[str, Any], parcel: dict[str, Any], data: dict[str, Any], version: int | None,
                days_spent: int, parent_id: int | None, resume_at: str | None = None,
                reception: dict[str, Any] | None = None) -> tuple[DossierState, BpmnWorkflow]:
        """Open a dossier inside the caller's transaction (a continuation opens one while it finishes
        another). Returns the state and the live workflow, for the caller to cache after commit."""
        from .commands import Work

        proc = self._procedure(s, key, version)
        received, problems = check_reception(reception, proc.meta.papers())
        if problems:
            raise refuse("invalid", "invalid_data", "; ".join(problems), problems)
        directory = self.directory.get()
        if commune is None and not proc.meta.properties.get("jurisdiction_from"):
            raise refuse("invalid", "invalid_data", f"procedure {key} needs the parcel's commune")
        if commune is not None and not directory.is_commune(commune):
            raise refuse("invalid", "invalid_data", f"commune {commune!r} is not a ward, commune or special zone")
        if commune is not None:
            for step in proc.meta.steps.values():
                try:
                    directory.owner_unit(step.role or "", commune, officer.unit)
                except UnresolvedOwner as err:
                    raise refuse("invalid", "no_owner", f"step {step.id}: {err}") from None
        if resume_at is not None and resume_at not in proc.meta.steps:
            raise refuse("invalid", "illegal_target", f"{resume_at!r} is not a step of procedure {key}")
        at = self.clock.now()
        remote = bool(commune and directory.units[commune].remote)
        desk = directory.units.get(officer.unit)
        agency = (desk.agency_code if desk and desk.agency_code else officer.unit)
        day = at.astimezone(self.calendar.tz).strftime("%y%m%d")
        code = next_code(s, self.db.dialect, agency, day)
        dossier_id = s.execute(insert(DossierRow.__table__).returning(DossierRow.__table__.c.id), {
            "code": code, "procedure": proc.key, "procedure_version_id": proc.version_id, "commune": commune,
            "desk_unit": officer.unit, "applicant": "{}", "parcel": "{}", "status": "new", "received_at": at,
            "version": 0, "last_seq": 0, "head_hash": "", "next_item": 1, "snapshot_seq": 0, "workflow_seq": 0,
            "supplement_count": 0, "apologised": False, "remote": False, "days_spent_before": 0}).scalar_one()
        s.execute(insert(SEARCH), {"dossier_id": dossier_id, "line": search_line(applicant, parcel)})
        state = DossierState(id=dossier_id, desk_unit=officer.unit, commune=commune)
        wf_data = workflow_data(data, {"commune": commune, "remote": remote, "procedure": proc.key,
                                       "parcel": parcel, "applicant": applicant, "code": code})
        work = Work(s, state, at, officer, directory, proc=proc, created=True)
        self.run_spiff(work, lambda: setattr(work, "wf", wfm.start(proc, wf_data, live=True)))
        assert work.wf is not None
        carried_new, carried_fx, carried = self._carry_over(work, resume_at, data)
        state.next_ordinal = len(carried_new) + 1
        new, task_ids, _ = self.new_items(work, None)
        base = procedure_limit(proc.meta, self.settings.sla_overrides)
        limit = limit_for(proc.meta, base, wfm.current_data(work.wf))
        extension = proc.meta.remote_extension or self.settings.remote_extension
        deducted = 0 if self.settings.transitional_clock == "restart" else days_spent
        due = dossier_due(self.calendar, at, limit, extension, remote, deducted)
        fx: dict[str, Any] = {
            "dossier": {
                "code": code, "procedure": proc.key, "procedure_version_id": proc.version_id, "commune": commune,
                "desk_unit": officer.unit, "applicant": applicant, "parcel": parcel, "status": "in_progress",
                "received_at": iso(at), "due_at": iso(due), "statutory_due_at": iso(due), "remote": remote,
                "days_spent_before": days_spent, "parent_id": parent_id,
            },
            "new": carried_new + new,
            "items": carried_fx,
        }
        self.finish_if_ended(work, fx)
        payload: dict[str, Any] = {
            "procedure": proc.key, "version": proc.version, "procedure_version_id": proc.version_id,
            "limit": limit, "remote_extension": extension if remote else None, "data": data, "fx": fx}
        if days_spent:
            payload["days_spent"] = {"days": days_spent, "deducted": deducted,
                                     "clock": self.settings.transitional_clock}
        if received is not None:
            payload["reception"] = received
        if carried:
            payload["resume_at"] = resume_at
            payload["carried"] = carried
        self.emit(work, "opened", payload, task_ids=task_ids)
        self._check_not_stuck(work)
        self._persist(work)
        return state, work.wf

    def _carry_over(self: Runtime, work: Work, resume_at: str | None, data: dict[str, Any],
                    ) -> tuple[list[dict[str, Any]], dict[str, Any], list[dict[str, Any]]]:
        """Complete the steps before `resume_at` on the dossier's behalf (outcome `carried_over`)."""
        if resume_at is None:
            return [], {}, []
        assert work.wf is not None and work.proc is not None
        steps = fastforward.plan(work.proc, work.wf, resume_at, data)
        if steps is None:
            raise refuse("invalid", "illegal_target",
                         f"procedure {work.proc.key} cannot be opened at step {resume_at!r}: no route from its "
                         "start reaches it with the data carried over")
        new: list[dict[str, Any]] = []
        closed: dict[str, Any] = {}
        carried: list[dict[str, Any]] = []
        at = iso(work.at)
        for ordinal, (step, values) in enumerate(steps, start=1):
            meta = work.proc.meta.steps[step]
            try:
                unit = work.directory.owner_unit(meta.role or "", work.state.commune, work.state.desk_unit)
            except UnresolvedOwner as err:
                raise refuse("invalid", "no_owner", f"step {step}: {err}") from None
            new.append({"item": ordinal, "step": step, "name": meta.name, "role": meta.role, "unit": unit,
                        "sla": meta.sla, "clock": meta.clock, "due_at": None})
            closed[str(ordinal)] = {"state": "done", "outcome": "carried_over", "done_at": at, "done_by": SYSTEM,
                                    "last_activity_at": at}
            carried.append({"item": ordinal, "step": step, "data": values})
            task = fastforward.ready_task(work.wf, step)
            self.run_spiff(work, lambda t=task, v=values: fastforward.run_step(work.wf, t, v))  # type: ignore[misc]
        return new, closed, carried

    def _procedure(self: Runtime, session: Session | Connection, key: str, version: int | None) -> wfm.Procedure:
        from ..store import ProcedureVersionRow

        if version is None:  # the version in force on the day received (effective dates)
            in_force = version_in_force(session, key, self.clock.now())
            proc = None if in_force is None else self.procedures.get(session, in_force)
        else:
            row_id = session.execute(select(ProcedureVersionRow.id).where(
                ProcedureVersionRow.key == key, ProcedureVersionRow.version == version)).scalar()
            proc = None if row_id is None else self.procedures.get(session, row_id)
        if proc is None:
            raise refuse("invalid", "unknown_procedure", f"procedure {key!r} (version {version or 'latest'}) "
                                                         "is not deployed")
        return proc

    def deploy(self: Runtime, officer: Officer, bpmn: bytes, dmns: list[bytes] | None = None,
               max_bytes: int = 2_000_000, effective_from: date | None = None) -> Deployed:
        """Validate and store a procedure version; refused files change nothing and are recorded."""
        refusal = check_deploy(officer)
        if refusal is not None:
            err = CommandRefused(refusal)
            self.record_refusal("deploy", officer, err)
            raise err
        checked, problems = check(bpmn, dmns, self.directory.get().step_roles(), max_bytes)
        if checked is None:
            from .. import audit

            audit.append(self.db, "deploy_refused", officer.username, officer.unit, self.clock.now(),
                         {"problems": len(problems), "rules": sorted({p.rule for p in problems})[:20]})
            raise DefinitionRefused(problems)
        result = deploy(self.db, checked, officer.username, self.clock.now(), effective_from)
        with self.db.read() as s:
            self.procedures.get(s, result.id)
        return result

    def validate(self: Runtime, officer: Officer, bpmn: bytes, dmns: list[bytes] | None = None,
                 max_bytes: int = 2_000_000) -> LintReport:
        """Every problem of a file, storing nothing; supervisors only (checking costs work), refusals recorded."""
        refusal = check_validate(officer)
        if refusal is not None:
            err = CommandRefused(refusal)
            self.record_refusal("validate", officer, err)
            raise err
        return lint(bpmn, dmns, self.directory.get().step_roles(), max_bytes)

