"""drop indexes no query uses: events are read per dossier, work items by (dossier, ordinal)

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case_event") as batch:
        batch.drop_index("ix_case_event_type_at")
    with op.batch_alter_table("work_item") as batch:
        batch.drop_index("ix_work_item_dossier_id")


def downgrade() -> None:
    with op.batch_alter_table("work_item") as batch:
        batch.create_index("ix_work_item_dossier_id", ["dossier_id"])
    with op.batch_alter_table("case_event") as batch:
        batch.create_index("ix_case_event_type_at", ["type", "at"])

