"""Tables of the running system itself, not of any dossier: the schedulers' heartbeats.

A scheduler process (`landflow scheduler`, or the one `landflow serve` starts) writes its row every
few seconds and after every sweep; `/api/v1/health/ready` and `/metrics` read them, from any host,
so an operator learns that deadlines are no longer swept without logging into the scheduler's host.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UTCDateTime


class SchedulerBeatRow(Base):
    """One scheduler process (host and pid): when it last answered, and its last sweep."""

    __tablename__ = "scheduler_heartbeat"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)  # "<host>:<pid>"
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # when its last sweep ended, and how long it took (rounds skipped because another scheduler held
    # the sweep's lock are not sweeps: they leave these alone)
    sweep_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sweep_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
