"""dossier.workflow_seq: the last event that moved the workflow, so that a cold load replays only the
events between the snapshot and it (engine/runtime/commands.py `load_workflow`), however many
claims, releases, transfers and notices follow. Filled for existing dossiers from their events.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BACKFILL = (
    "UPDATE dossier SET workflow_seq = COALESCE((SELECT max(e.seq) FROM case_event e WHERE e.dossier_id = dossier.id "
    "AND e.type IN ('opened', 'completed', 'returned', 'timer_fired')), 0)"
)


def upgrade() -> None:
    with op.batch_alter_table("dossier") as batch:
        batch.add_column(sa.Column("workflow_seq", sa.Integer(), nullable=False, server_default="0"))
    op.execute(BACKFILL)


def downgrade() -> None:
    with op.batch_alter_table("dossier") as batch:
        batch.drop_column("workflow_seq")
