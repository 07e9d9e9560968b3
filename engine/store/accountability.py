"""Tables of reviews (explanation and verdict of a signal) and officers' absences.

Both are projections of the organisation audit log (engine/audit.py): the entries `review_opened`,
`review_explained`, `review_escalated`, `review_decided` and `absence_recorded` are the truth, these
rows the fast reads; `engine.reviews.verify_accountability` rebuilds them from the log and compares.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UTCDateTime


class ReviewRow(Base):
    """One signal opened as a review: the officer's explanation, then a verdict."""

    __tablename__ = "review"
    __table_args__ = (
        UniqueConstraint("signal_dossier_id", "signal_seq", "signal_kind", name="uq_review_signal"),
        Index("ix_review_unit_state", "unit", "state"),
        Index("ix_review_officer_state", "officer", "state"),
        Index("ix_review_state_due", "state", "explanation_due"),
        Index("ix_review_signal_at", "signal_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # the signal, by its stable key (a signal row's id is not: the table can be rebuilt from the log);
    # dossier NULL: a signal of the audit log, `signal_seq` its entry
    signal_dossier_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    signal_seq: Mapped[int] = mapped_column(Integer)
    signal_kind: Mapped[str] = mapped_column(String(32))
    signal_at: Mapped[datetime] = mapped_column(UTCDateTime)
    officer: Mapped[str | None] = mapped_column(String(80))  # the officer concerned (None: the unit)
    unit: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(12))  # open | explained | decided
    opened_by: Mapped[str] = mapped_column(String(80))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    explanation_due: Mapped[datetime] = mapped_column(UTCDateTime)
    explained_by: Mapped[str | None] = mapped_column(String(80))
    explained_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    explanation: Mapped[str | None] = mapped_column(Text)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verdict: Mapped[str | None] = mapped_column(String(24))  # justified | shirking_confirmed
    cause: Mapped[str | None] = mapped_column(String(24))  # of a justified signal
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verdict_reason: Mapped[str | None] = mapped_column(Text)
    first_seq: Mapped[int] = mapped_column(Integer)  # audit-log entries of this review lie in [first, last]
    last_seq: Mapped[int] = mapped_column(Integer)


class AbsenceRow(Base):
    """An officer's absence (leave, training) and the deputy who takes their items meanwhile."""

    __tablename__ = "absence"
    __table_args__ = (Index("ix_absence_officer", "officer"), Index("ix_absence_ends", "ends_at"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    officer: Mapped[str] = mapped_column(String(80))
    deputy: Mapped[str] = mapped_column(String(80))
    unit: Mapped[str] = mapped_column(String(32))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)  # 00:00 local of the first day
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)  # 00:00 local of the day after the last
    reason: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    audit_seq: Mapped[int] = mapped_column(Integer)
