"""Decision 766/QĐ-TTg, group 4 "Số hóa hồ sơ" (22 points), for the dossiers received in a period, per
receiving desk: what landflow can measure now that papers and results are held electronically.

Indicators (shared/data/papers-and-slips.md, section 4.2: a third-party reconstruction of the official
formulas, not the official annex — treat the points as indicative):
- 4.1 dossiers with an electronic result: finished with their result (status done, not refused) and
  holding a `result` document ÷ dossiers finished with their result; 6 points (no threshold published:
  proportional).
- 4.2 dossiers digitised: holding at least one scanned paper (`document_added` received/supplement)
  and, when finished with their result, an electronic result ÷ dossiers received; 4 points at 80%.
- 4.3 reuse of digitised data (2 points), 4.4 data-sharing (4), 4.5 population data (2+2) and the
  e-certified copies (2) need links landflow does not have (the national portal, the population
  database): reported as not measured, never as zero.
Points = max when the rate reaches the threshold, else rate × max / threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from .events import Completed, DocumentAdded, stored_like
from .store import CaseEventRow, DossierRow

RESULT_DOC = stored_like(DocumentAdded, "kind_", "result")
SCAN_DOC = (stored_like(DocumentAdded, "kind_", "received"), stored_like(DocumentAdded, "kind_", "supplement"))


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    numerator: int
    denominator: int
    max_points: float
    threshold: float | None

    @property
    def rate(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    @property
    def points(self) -> float | None:
        rate = self.rate
        if rate is None:
            return None
        limit = self.threshold or 1.0
        return round(self.max_points if rate >= limit else rate * self.max_points / limit, 2)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "numerator": self.numerator, "denominator": self.denominator,
                "rate": self.rate, "points": self.points, "max_points": self.max_points, "threshold": self.threshold}


@dataclass(frozen=True)
class DigitisationRow:
    key: str  # desk unit code, or "all"
    indicators: tuple[Indicator, ...]

    @property
    def points(self) -> float:
        return round(sum(i.points or 0 for i in self.indicators), 2)

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "points": self.points, "indicators": [i.as_dict() for i in self.indicators]}


NOT_MEASURED = ("4.3", "4.4", "4.5a", "4.5b", "e-certified copies")


def digitisation(session: Session, start: datetime, end: datetime) -> list[DigitisationRow]:
    """Per receiving desk (then "all"), for dossiers received in [start, end)."""
    ev = CaseEventRow
    result_doc = exists().where(ev.dossier_id == DossierRow.id, ev.type == "document_added",
                                ev.payload.like(RESULT_DOC))
    scanned = exists().where(ev.dossier_id == DossierRow.id, ev.type == "document_added",
                             or_(*(ev.payload.like(p) for p in SCAN_DOC)))
    refused = exists().where(ev.dossier_id == DossierRow.id, ev.type == "completed",
                             ev.payload.like(stored_like(Completed, "refused", True)))
    finished_ok = and_(DossierRow.status == "done", ~refused)

    def count(cond: ColumnElement[bool]) -> ColumnElement[int]:
        return func.sum(case((cond, 1), else_=0))

    q = (select(DossierRow.desk_unit, func.count(), count(finished_ok), count(and_(finished_ok, result_doc)),
                count(and_(scanned, or_(~finished_ok, result_doc))))
         .where(DossierRow.received_at >= start, DossierRow.received_at < end)
         .group_by(DossierRow.desk_unit).order_by(DossierRow.desk_unit))
    rows = []
    totals = [0, 0, 0, 0]
    for desk, *values in session.execute(q):
        counts = [int(v or 0) for v in values]
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
        rows.append(DigitisationRow(desk, _indicators(*counts)))
    rows.append(DigitisationRow("all", _indicators(*totals)))
    return rows


def _indicators(received: int, finished: int, with_result: int, digitised: int) -> tuple[Indicator, ...]:
    return (Indicator("4.1", "electronic_result", with_result, finished, 6.0, None),
            Indicator("4.2", "digitised", digitised, received, 4.0, 0.8))
