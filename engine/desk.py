"""What the one-stop desk needs beside its worklist: dossiers waiting for the applicant's supplement
(with what was asked), results waiting to be handed back, and, for any officer's open item that a
return or a refusal created, who sent it and why.

Reads only (projections and a few events of the dossiers on the page); nothing here decides.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from .events import Completed, SupplementRequested, parse, parse_as, reason_of
from .store import CaseEventRow, Database, DossierRow, WorkItemRow


@dataclass(frozen=True)
class WaitingDossier:
    id: int
    code: str
    procedure: str
    applicant: str
    since: datetime | None
    asked: str                      # the supplement request, as the officer wrote it
    asked_by: str


@dataclass(frozen=True)
class SentBack:
    actor: str
    reason: str
    at: datetime


def _name(applicant: str | None) -> str:
    try:
        return str(json.loads(applicant or "{}").get("name", ""))
    except ValueError:
        return ""


def awaiting_supplement(db: Database, desk_unit: str, limit: int = 100) -> list[WaitingDossier]:
    """The desk's dossiers whose clock is paused for the applicant's papers, longest waiting first."""
    with db.read() as s:
        rows = s.execute(select(DossierRow.id, DossierRow.code, DossierRow.procedure, DossierRow.applicant,
                                DossierRow.supplement_since)
                         .where(DossierRow.desk_unit == desk_unit, DossierRow.status == "awaiting_supplement")
                         .order_by(DossierRow.supplement_since, DossierRow.id).limit(limit)).all()
        asked: dict[int, tuple[str, str]] = {}
        if rows:
            for did, actor, payload in s.execute(
                    select(CaseEventRow.dossier_id, CaseEventRow.actor, CaseEventRow.payload)
                    .where(CaseEventRow.dossier_id.in_([r[0] for r in rows]),
                           CaseEventRow.type == "supplement_requested").order_by(CaseEventRow.seq)):
                asked[did] = (parse_as(SupplementRequested, payload).reason, actor)
    return [WaitingDossier(r[0], r[1], r[2], _name(r[3]), r[4], *asked.get(r[0], ("", ""))) for r in rows]


def awaiting_collection(db: Database, desk_unit: str, handback_steps: dict[str, set[str]],
                        limit: int = 100) -> list[tuple[int, str, str, str, datetime]]:
    """(dossier id, code, procedure, applicant, result ready since) of the desk's open hand-back items."""
    wanted = [(p, s) for p, steps in handback_steps.items() for s in steps]
    if not wanted:
        return []
    with db.read() as s:
        rows = s.execute(select(DossierRow.id, DossierRow.code, DossierRow.procedure, DossierRow.applicant,
                                WorkItemRow.created_at, WorkItemRow.step)
                         .join(WorkItemRow, WorkItemRow.dossier_id == DossierRow.id)
                         .where(DossierRow.desk_unit == desk_unit, WorkItemRow.unit == desk_unit,
                                WorkItemRow.state.in_(("ready", "claimed")),
                                WorkItemRow.step.in_({st for _, st in wanted}))
                         .order_by(WorkItemRow.created_at).limit(limit * 2)).all()
    return [(r[0], r[1], r[2], _name(r[3]), r[4]) for r in rows if r[5] in handback_steps.get(r[2], set())][:limit]


def sent_back(db: Database, items: list[tuple[int, int]]) -> dict[tuple[int, int], SentBack]:
    """For (dossier id, item ordinal) pairs: the return, or drawn refusal, that opened that item."""
    if not items:
        return {}
    wanted = set(items)
    out: dict[tuple[int, int], SentBack] = {}
    with db.read() as s:
        rows = s.execute(select(CaseEventRow.dossier_id, CaseEventRow.type, CaseEventRow.actor, CaseEventRow.at,
                                CaseEventRow.payload)
                         .where(CaseEventRow.dossier_id.in_({d for d, _ in wanted}),
                                CaseEventRow.type.in_(("returned", "completed")))
                         .order_by(CaseEventRow.seq)).all()
    for did, etype, actor, at, text in rows:
        event = parse(etype, text)
        if isinstance(event, Completed) and not event.refused:
            continue
        for new in event.effects.get("new", []):
            key = (did, int(new.get("item", -1)))
            if key in wanted:
                out[key] = SentBack(actor, reason_of(event) or "", at)
    return out
