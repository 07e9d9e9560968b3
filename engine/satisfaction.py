"""Decision 766/QĐ-TTg, satisfaction (group 5): the applicants' ratings (engine/ratings.py), per receiving
desk, for the dossiers received in a period.

- the ratings given: very satisfied, satisfied, not satisfied, and the share satisfied of those rated;
- indicator 5.4 "tỷ lệ hài lòng trong tiếp nhận, giải quyết TTHC", as the third-party reconstruction in
  shared/data/papers-and-slips.md (section 4.2) gives it: 100% − (share of dossiers late + share of
  dossiers rated "not satisfied"), 6 points, full from 90%. Late = finished after the appointment, or
  still open past it; stopped and cancelled dossiers are neither. Indicative, like that source.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from .events import Rated, stored_like
from .store import CaseEventRow, DossierRow

MAX_POINTS = 6.0
THRESHOLD = 0.9


@dataclass(frozen=True)
class SatisfactionRow:
    key: str  # desk unit code, or "all"
    dossiers: int
    late: int
    very_satisfied: int
    satisfied: int
    not_satisfied: int

    @property
    def rated(self) -> int:
        return self.very_satisfied + self.satisfied + self.not_satisfied

    @property
    def satisfied_rate(self) -> float | None:
        return (self.very_satisfied + self.satisfied) / self.rated if self.rated else None

    @property
    def index_54(self) -> float | None:
        if not self.dossiers:
            return None
        return max(0.0, 1.0 - (self.late + self.not_satisfied) / self.dossiers)

    @property
    def points(self) -> float | None:
        rate = self.index_54
        if rate is None:
            return None
        return round(MAX_POINTS if rate >= THRESHOLD else rate * MAX_POINTS / THRESHOLD, 2)

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "dossiers": self.dossiers, "late": self.late, "very_satisfied": self.very_satisfied,
                "satisfied": self.satisfied, "not_satisfied": self.not_satisfied, "rated": self.rated,
                "satisfied_rate": self.satisfied_rate, "index_54": self.index_54, "points": self.points}


def satisfaction(session: Session, start: datetime, end: datetime, now: datetime) -> list[SatisfactionRow]:
    """Per receiving desk (then "all"), for dossiers received in [start, end)."""
    ev = CaseEventRow
    rating = (select(ev.payload).where(ev.dossier_id == DossierRow.id, ev.type == "rated")
              .order_by(ev.seq).limit(1).scalar_subquery())
    withdrawn = DossierRow.status.in_(("stopped", "cancelled"))
    late = and_(~withdrawn, DossierRow.due_at.is_not(None), or_(
        and_(DossierRow.finished_at.is_not(None), DossierRow.finished_at > DossierRow.due_at),
        and_(DossierRow.finished_at.is_(None), DossierRow.due_at < now)))

    def count(cond: ColumnElement[bool]) -> ColumnElement[int]:
        return func.sum(case((cond, 1), else_=0))

    q = (select(DossierRow.desk_unit, func.count(), count(late),
                count(rating.like(stored_like(Rated, "rating", "very_satisfied"))),
                count(rating.like(stored_like(Rated, "rating", "satisfied"))),
                count(rating.like(stored_like(Rated, "rating", "not_satisfied"))))
         .where(DossierRow.received_at >= start, DossierRow.received_at < end)
         .group_by(DossierRow.desk_unit).order_by(DossierRow.desk_unit))
    rows: list[SatisfactionRow] = []
    totals = [0] * 5
    for desk, *values in session.execute(q):
        counts = [int(v or 0) for v in values]
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
        rows.append(SatisfactionRow(desk, *counts))
    rows.append(SatisfactionRow("all", *totals))
    return rows
