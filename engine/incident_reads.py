"""Reads of open procedure incidents for supervisors (API and pages): the dossiers whose `incident`
column is set, each with what its last `incident_raised` event says (cause, element, detail, when).

Its own module beside engine/queries.py: one indexed list and one look-up of events per page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from .events import IncidentRaised, parse_as
from .store import CaseEventRow, Database, DossierRow, WorkItemRow

# who reads incidents: those who answer for procedures, and those who audit them
READERS = frozenset({"supervisor", "auditor", "inspector"})


@dataclass(frozen=True)
class IncidentView:
    dossier_id: int
    code: str
    procedure: str
    procedure_version_id: int
    status: str
    version: int
    element: str
    cause: str | None
    detail: str | None
    action: str | None
    by: str | None
    raised_at: datetime | None
    seq: int | None
    open_steps: list[str]


def open_incidents(db: Database, before_id: int | None = None, limit: int = 100,
                   dossier_id: int | None = None) -> tuple[list[IncidentView], bool]:
    """Newest dossier first; (page, more)."""
    q = select(DossierRow.id, DossierRow.code, DossierRow.procedure, DossierRow.procedure_version_id,
               DossierRow.status, DossierRow.version, DossierRow.incident).where(DossierRow.incident.is_not(None))
    if before_id is not None:
        q = q.where(DossierRow.id < before_id)
    if dossier_id is not None:
        q = q.where(DossierRow.id == dossier_id)
    with db.read() as s:
        rows = s.execute(q.order_by(DossierRow.id.desc()).limit(limit + 1)).all()
        more = len(rows) > limit
        rows = rows[:limit]
        ids = [r.id for r in rows]
        raised: dict[int, tuple[CaseEventRow, IncidentRaised]] = {}
        for ev in s.scalars(select(CaseEventRow).where(CaseEventRow.dossier_id.in_(ids),
                                                       CaseEventRow.type == "incident_raised")
                            .order_by(CaseEventRow.seq)):
            incident = parse_as(IncidentRaised, ev.payload)
            if not incident.repeat:
                raised[ev.dossier_id] = (ev, incident)
        steps: dict[int, list[str]] = {}
        for did, step in s.execute(select(WorkItemRow.dossier_id, WorkItemRow.step).where(
                WorkItemRow.dossier_id.in_(ids), WorkItemRow.state.in_(("ready", "claimed")))
                .order_by(WorkItemRow.ordinal)):
            steps.setdefault(did, []).append(step)
    out = []
    for r in rows:
        found = raised.get(r.id)
        ev, p = found if found is not None else (None, None)  # type: ignore[assignment]
        out.append(IncidentView(r.id, r.code, r.procedure, r.procedure_version_id, r.status, r.version, r.incident,
                                p.cause if p else None, p.detail if p else None, p.action if p else None,
                                p.by if p else None, ev.at if ev is not None else None,
                                ev.seq if ev is not None else None, steps.get(r.id, [])))
    return out, more
