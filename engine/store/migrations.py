"""A planned migration of running dossiers between two versions of a procedure (engine/migration/).

One row per run: the plan as it was shown to the supervisor (each dossier with the optimistic-lock
version it had then), and how far the batches have got. The dossiers' own moves are events in their
chains; this row only drives the batches and shows their progress.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UTCDateTime


class MigrationRunRow(Base):
    __tablename__ = "migration_run"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    procedure: Mapped[str] = mapped_column(String(64), index=True)
    from_version: Mapped[int] = mapped_column(Integer)
    to_version: Mapped[int] = mapped_column(Integer)
    mapping: Mapped[str] = mapped_column(Text)  # JSON {old step: new step}
    deadlines: Mapped[str] = mapped_column(String(16))  # keep | recompute
    plan: Mapped[str] = mapped_column(Text)  # JSON list of {dossier_id, code, state_version}: the movable ones
    total: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)  # dossiers of the plan handled so far
    moved: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    report: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of {dossier_id, code, code_refused, detail}
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
