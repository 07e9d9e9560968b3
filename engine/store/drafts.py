"""Drafts of procedures, per supervisor: what the browser modeler saves. Never executed.

A draft is a (key, owner) pair; each save is a new revision (append-only), so a supervisor can go back
to what they saw an hour ago. Drafts are not procedure versions: nothing reads them to open a dossier.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UTCDateTime


class ProcedureDraftRow(Base):
    """One saved revision of one supervisor's draft of one procedure."""

    __tablename__ = "procedure_draft"
    __table_args__ = (UniqueConstraint("key", "owner", "revision"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), index=True)
    owner: Mapped[str] = mapped_column(String(80), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(300))
    bpmn: Mapped[str] = mapped_column(Text)
    based_on: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the deployed version it started from
    problems: Mapped[int] = mapped_column(Integer, default=0)  # the check's count when saved
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime)
