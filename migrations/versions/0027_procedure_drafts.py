"""procedure_draft (the browser modeler's drafts, per supervisor, versioned) and
procedure_version.effective_from (a version taking effect on the decree's date).

Revision ID: 0027
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.store.models

revision = "0027"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "procedure_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=80), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("bpmn", sa.Text(), nullable=False),
        sa.Column("based_on", sa.Integer(), nullable=True),
        sa.Column("problems", sa.Integer(), nullable=False),
        sa.Column("saved_at", engine.store.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key", "owner", "revision"),
    )
    op.create_index("ix_procedure_draft_key", "procedure_draft", ["key"])
    op.create_index("ix_procedure_draft_owner", "procedure_draft", ["owner"])
    with op.batch_alter_table("procedure_version") as batch:
        batch.add_column(sa.Column("effective_from", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("procedure_version") as batch:
        batch.drop_column("effective_from")
    op.drop_index("ix_procedure_draft_owner", table_name="procedure_draft")
    op.drop_index("ix_procedure_draft_key", table_name="procedure_draft")
    op.drop_table("procedure_draft")
