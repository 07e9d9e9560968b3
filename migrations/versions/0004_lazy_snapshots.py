"""lazy snapshots: the next work-item ordinal on the dossier, the event each snapshot reflects

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dossier") as batch:
        batch.add_column(sa.Column("next_item", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("snapshot_seq", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("dossier_state") as batch:
        batch.add_column(sa.Column("seq", sa.Integer(), nullable=False, server_default="0"))
    # Before this revision every command wrote a snapshot, so each one reflects its dossier's last event.
    op.execute("UPDATE dossier SET next_item = 1 + COALESCE("
               "(SELECT max(ordinal) FROM work_item WHERE work_item.dossier_id = dossier.id), 0)")
    op.execute("UPDATE dossier SET snapshot_seq = last_seq")
    op.execute("UPDATE dossier_state SET seq = "
               "(SELECT last_seq FROM dossier WHERE dossier.id = dossier_state.dossier_id)")


def downgrade() -> None:
    with op.batch_alter_table("dossier_state") as batch:
        batch.drop_column("seq")
    with op.batch_alter_table("dossier") as batch:
        batch.drop_column("snapshot_seq")
        batch.drop_column("next_item")
