"""The notification outbox: one row per (event, channel) that should reach the applicant.

Written in the same transaction as the event that causes it (engine/notifications/outbox.py), so a
rolled-back or refused command leaves none, and a committed one can never lose its message. The
scheduler's sender moves each row through pending → sending (claimed, with a lease) → sent | failed;
`idem_key` is the same on every attempt, so the SMS gateway (and a mail server reading Message-ID)
can drop repeats of a send that a killed sender could not mark done.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UTCDateTime


class NotificationRow(Base):
    """One message to one address over one channel, caused by one event (`dossier_id`, `seq`)."""

    __tablename__ = "notification"
    __table_args__ = (
        UniqueConstraint("dossier_id", "seq", "channel", name="uq_notification_event_channel"),
        UniqueConstraint("idem_key", name="uq_notification_idem_key"),
        Index("ix_notification_state_next", "state", "next_at"),
        Index("ix_notification_desk_state", "desk_unit", "state"),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    dossier_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    seq: Mapped[int] = mapped_column(Integer)              # the event that caused it
    code: Mapped[str] = mapped_column(String(64))          # the dossier's code (texts, the desk's list)
    desk_unit: Mapped[str] = mapped_column(String(32))     # the receiving desk, which sees its failures
    kind: Mapped[str] = mapped_column(String(24))          # received | supplement | apology | result_ready | refused
    channel: Mapped[str] = mapped_column(String(8))        # email | sms
    address: Mapped[str] = mapped_column(String(200))      # the email address or phone number consented to
    params: Mapped[str] = mapped_column(Text)              # the event's facts the text needs (canonical JSON)
    idem_key: Mapped[str] = mapped_column(String(120))     # per (event, channel): Idempotency-Key, Message-ID
    state: Mapped[str] = mapped_column(String(12))         # pending | sending | sent | failed | skipped
    attempts: Mapped[int] = mapped_column(Integer)
    next_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when a pending row may be tried
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # sending: the claim ends
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
