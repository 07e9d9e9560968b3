"""Receiving a dossier: the first command of every history.

Opening decides what every later deadline hangs on: the statutory limit (with the remote-commune
extension and, for transitional dossiers, the days already spent), the dossier code, and the
owner of the first step. All of it is recorded in the `opened` event.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ..definitions import DefinitionRefused, check
from ..definitions.registry import Deployed, deploy
from ..jsoncanon import iso
from ..org import Officer, UnresolvedOwner
from ..policy import check_deploy, check_open
from ..store import CodeCounterRow, DossierRow
from . import workflow as wfm
from .deadlines import dossier_due, procedure_limit
from .errors import CommandRefused, refuse
from .state import DossierState

if TYPE_CHECKING:
    from .commands import Runtime

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


def next_code(session: Session, dialect: str, agency: str, day: str) -> str:
    """`agency-YYMMDD-NNNN` (Circular 04/2025/TT-VPCP); the counter row serialises concurrent opens."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(CodeCounterRow).values(agency=agency, day=day, last=1)
    stmt = stmt.on_conflict_do_update(index_elements=["agency", "day"],
                                      set_={"last": CodeCounterRow.last + 1}).returning(CodeCounterRow.last)
    n = session.execute(stmt).scalar_one()
    return f"{agency}-{day}-{n:04d}"


class OpeningMixin:
    def open(self: Runtime, officer: Officer, procedure: str, commune: str | None, applicant: dict[str, Any],
             parcel: dict[str, Any] | None = None, data: dict[str, Any] | None = None,
             version: int | None = None, days_spent: int = 0, parent_id: int | None = None) -> DossierState:
        try:
            self.check(check_open(officer))
            problems = _check_data(applicant, "applicant") + _check_data(parcel or {}, "parcel") + \
                _check_data(data or {}, "data")
            if isinstance(applicant, dict) and not str(applicant.get("name") or "").strip():
                problems.append("applicant.name is required")
            if isinstance(data, dict):
                problems += [f"data: {k} is a reserved name" for k in data if k in RESERVED]
            if problems:
                raise refuse("invalid", "invalid_data", "; ".join(problems), problems)
            return self._open(officer, procedure, commune, applicant, parcel or {}, data or {}, version,
                              days_spent, parent_id)
        except CommandRefused as err:
            if err.dossier_id is None:
                self.record_refusal("open", officer, err)
            raise

    def _open(self: Runtime, officer: Officer, key: str, commune: str | None, applicant: dict[str, Any],
              parcel: dict[str, Any], data: dict[str, Any], version: int | None, days_spent: int,
              parent_id: int | None) -> DossierState:
        from .commands import Work

        with self.db.write() as s:
            proc = self._procedure(s, key, version)
            directory = self.directory.get()
            if commune is not None and not directory.is_commune(commune):
                raise refuse("invalid", "invalid_data", f"commune {commune!r} is not a ward, commune or special zone")
            if commune is not None:
                for step in proc.meta.steps.values():
                    try:
                        directory.owner_unit(step.role or "", commune, officer.unit)
                    except UnresolvedOwner as err:
                        raise refuse("invalid", "no_owner", f"step {step.id}: {err}") from None
            at = self.clock.now()
            remote = bool(commune and directory.units[commune].remote)
            limit = procedure_limit(proc.meta, self.settings.sla_overrides)
            extension = proc.meta.remote_extension or self.settings.remote_extension
            if self.settings.transitional_clock == "restart":
                days_spent = 0
            due = dossier_due(self.calendar, at, limit, extension, remote, days_spent)
            desk = directory.units.get(officer.unit)
            agency = (desk.agency_code if desk and desk.agency_code else officer.unit)
            day = at.astimezone(self.calendar.tz).strftime("%y%m%d")
            code = next_code(s, self.db.dialect, agency, day)
            row = DossierRow(code=code, procedure=proc.key, procedure_version_id=proc.version_id, commune=commune,
                             desk_unit=officer.unit, applicant="{}", parcel="{}", status="new", received_at=at,
                             version=0, last_seq=0, head_hash="")
            s.add(row)
            s.flush()
            state = DossierState(id=row.id, desk_unit=officer.unit, commune=commune)
            wf_data = {**data, "commune": commune, "remote": remote, "procedure": proc.key, "parcel": parcel,
                       "applicant": applicant, "dossier_code": code}
            work = Work(s, row, state, {}, at, officer, directory, proc=proc)
            self.run_spiff(work, lambda: setattr(work, "wf", wfm.start(proc, wf_data)))
            new, task_ids, _ = self.new_items(work, None)
            fx: dict[str, Any] = {
                "dossier": {
                    "code": code, "procedure": proc.key, "procedure_version_id": proc.version_id, "commune": commune,
                    "desk_unit": officer.unit, "applicant": applicant, "parcel": parcel, "status": "in_progress",
                    "received_at": iso(at), "due_at": iso(due), "statutory_due_at": iso(due), "remote": remote,
                    "days_spent_before": days_spent, "parent_id": parent_id,
                },
                "new": new,
            }
            self.finish_if_ended(work, fx)
            self.emit(work, "opened", {"procedure": proc.key, "version": proc.version,
                                       "procedure_version_id": proc.version_id, "limit": limit,
                                       "remote_extension": extension if remote else None, "data": data,
                                       "wf_data": wf_data, "fx": fx}, task_ids=task_ids)
            self._persist(work)
        assert work.wf is not None
        self.workflows.put(state.id, state.version, work.wf)
        return state

    def _procedure(self: Runtime, session: Session, key: str, version: int | None) -> wfm.Procedure:
        from ..store import ProcedureVersionRow

        if version is None:
            proc = self.procedures.latest(session, key)
        else:
            row_id = session.scalar(select(ProcedureVersionRow.id).where(
                ProcedureVersionRow.key == key, ProcedureVersionRow.version == version))
            proc = None if row_id is None else self.procedures.get(session, row_id)
        if proc is None:
            raise refuse("invalid", "unknown_procedure", f"procedure {key!r} (version {version or 'latest'}) "
                                                         "is not deployed")
        return proc

    def deploy(self: Runtime, officer: Officer, bpmn: bytes, dmns: list[bytes] | None = None,
               max_bytes: int = 2_000_000) -> Deployed:
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
        result = deploy(self.db, checked, officer.username, self.clock.now())
        with self.db.read() as s:
            self.procedures.get(s, result.id)
        return result

