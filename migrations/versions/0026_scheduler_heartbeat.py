"""scheduler_heartbeat: each scheduler process's last heartbeat and last sweep (readiness, metrics).

Revision ID: 0026
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.store.models

revision = "0026"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scheduler_heartbeat",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("started_at", engine.store.models.UTCDateTime(), nullable=False),
        sa.Column("beat_at", engine.store.models.UTCDateTime(), nullable=False),
        sa.Column("sweep_at", engine.store.models.UTCDateTime(), nullable=True),
        sa.Column("sweep_seconds", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_index("ix_scheduler_heartbeat_beat_at", "scheduler_heartbeat", ["beat_at"])


def downgrade() -> None:
    op.drop_index("ix_scheduler_heartbeat_beat_at", table_name="scheduler_heartbeat")
    op.drop_table("scheduler_heartbeat")
