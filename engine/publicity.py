"""Decision 766/QĐ-TTg, publicity and transparency (group 1): what landflow can know, per receiving desk, for
the dossiers received in a period (docs/decisions/0122-publicity-what-landflow-can-measure.md).

The group's four scored indicators (18 points, as the third-party reconstruction in shared/data/papers-and-
slips.md gives them) are about the national database of procedures (1.1 announced on time, 1.2 published
on time, 1.3 published with all their parts) and the national portal (1.4 dossiers synchronised): none is
held here, so none is scored. What landflow does hold is whether each applicant was told, in writing and
verifiably, where the dossier stands:

- receipts: dossiers whose receipt and appointment slip was issued (its QR opens the public lookup);
- delays announced: of the dossiers that missed or moved their appointment (late, or apologised), those
  whose applicant received the apology with a new date (`apologised`) — Decree 118/2025 asks for it;
- papers verifiable: slips issued and results added that a signed checkpoint already covers, so anyone
  can prove them genuine offline (engine/proofs.py).

Public look-ups are not counted: a look-up writes nothing (a public GET must not), and notifications are
not in this branch's history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from .events import DocumentAdded, SlipIssued, stored_like
from .store import CaseEventRow, CheckpointHeadRow, DossierRow


@dataclass(frozen=True)
class PublicityRow:
    key: str  # desk unit code, or "all"
    dossiers: int
    receipts: int
    delayed: int
    announced: int
    papers: int
    verifiable: int

    @staticmethod
    def _rate(part: int, whole: int) -> float | None:
        return part / whole if whole else None

    @property
    def receipt_rate(self) -> float | None:
        return self._rate(self.receipts, self.dossiers)

    @property
    def announced_rate(self) -> float | None:
        return self._rate(self.announced, self.delayed)

    @property
    def verifiable_rate(self) -> float | None:
        return self._rate(self.verifiable, self.papers)

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "dossiers": self.dossiers, "receipts": self.receipts,
                "receipt_rate": self.receipt_rate, "delayed": self.delayed, "announced": self.announced,
                "announced_rate": self.announced_rate,
                "papers": self.papers, "verifiable": self.verifiable, "verifiable_rate": self.verifiable_rate}


def publicity(session: Session, start: datetime, end: datetime, now: datetime) -> list[PublicityRow]:
    """Per receiving desk (then "all"), for dossiers received in [start, end)."""
    ev, H = CaseEventRow, CheckpointHeadRow
    receipt = exists().where(ev.dossier_id == DossierRow.id, ev.type == "slip_issued",
                             ev.payload.like(stored_like(SlipIssued, "slip", "receipt")))
    apologised = exists().where(ev.dossier_id == DossierRow.id, ev.type == "apologised")
    withdrawn = DossierRow.status.in_(("stopped", "cancelled"))
    late = and_(~withdrawn, DossierRow.due_at.is_not(None), or_(
        and_(DossierRow.finished_at.is_not(None), DossierRow.finished_at > DossierRow.due_at),
        and_(DossierRow.finished_at.is_(None), DossierRow.due_at < now)))
    paper = or_(ev.type == "slip_issued",
                and_(ev.type == "document_added", ev.payload.like(stored_like(DocumentAdded, "kind_", "result"))))
    papers = (select(func.count()).select_from(ev).where(ev.dossier_id == DossierRow.id, paper)
              .correlate(DossierRow).scalar_subquery())
    covered = (select(func.count()).select_from(ev).where(
        ev.dossier_id == DossierRow.id, paper,
        exists().where(H.dossier_id == ev.dossier_id, H.last_seq >= ev.seq))
        .correlate(DossierRow).scalar_subquery())

    def count(cond: Any) -> Any:
        return func.sum(case((cond, 1), else_=0))

    q = (select(DossierRow.desk_unit, func.count(), count(receipt), count(or_(late, apologised)), count(apologised),
                func.sum(papers), func.sum(covered))
         .where(DossierRow.received_at >= start, DossierRow.received_at < end)
         .group_by(DossierRow.desk_unit).order_by(DossierRow.desk_unit))
    rows: list[PublicityRow] = []
    totals = [0] * 6
    for row in session.execute(q).all():
        counts = [int(v or 0) for v in row[1:]]
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
        rows.append(PublicityRow(str(row[0]), *counts))
    rows.append(PublicityRow("all", *totals))
    return rows
