"""notification: the outbox of messages to applicants (engine/notifications), one row per event and
channel, written with the event; the scheduler's sender delivers them. No rows for existing dossiers:
nobody consented before this version asked.

Revision ID: 0019
Revises: 0026
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.store.models import UTCDateTime

revision = "0019"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notification",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("dossier_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("desk_unit", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("address", sa.String(200), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("idem_key", sa.String(120), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", UTCDateTime(), nullable=False),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("dossier_id", "seq", "channel", name="uq_notification_event_channel"),
        sa.UniqueConstraint("idem_key", name="uq_notification_idem_key"),
    )
    op.create_index("ix_notification_state_next", "notification", ["state", "next_at"])
    op.create_index("ix_notification_desk_state", "notification", ["desk_unit", "state"])


def downgrade() -> None:
    op.drop_index("ix_notification_desk_state", table_name="notification")
    op.drop_index("ix_notification_state_next", table_name="notification")
    op.drop_table("notification")
