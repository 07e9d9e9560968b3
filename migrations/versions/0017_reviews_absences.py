"""accountability: reviews of signals (explanation and verdict) and officers' absences with a deputy

Both tables are projections of the audit log (engine/reviews.py, engine/absences.py).

Revision ID: 0017
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0015"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "review",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("signal_dossier_id", ID, nullable=True),
        sa.Column("signal_seq", sa.Integer(), nullable=False),
        sa.Column("signal_kind", sa.String(32), nullable=False),
        sa.Column("signal_at", sa.DateTime(), nullable=False),
        sa.Column("officer", sa.String(80), nullable=True),
        sa.Column("unit", sa.String(32), nullable=True),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("opened_by", sa.String(80), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("explanation_due", sa.DateTime(), nullable=False),
        sa.Column("explained_by", sa.String(80), nullable=True),
        sa.Column("explained_at", sa.DateTime(), nullable=True),
        sa.Column("explanation", sa.Text(), nullable=True),
        sa.Column("escalated_at", sa.DateTime(), nullable=True),
        sa.Column("verdict", sa.String(24), nullable=True),
        sa.Column("cause", sa.String(24), nullable=True),
        sa.Column("decided_by", sa.String(80), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("verdict_reason", sa.Text(), nullable=True),
        sa.Column("first_seq", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.UniqueConstraint("signal_dossier_id", "signal_seq", "signal_kind", name="uq_review_signal"),
    )
    op.create_index("ix_review_unit_state", "review", ["unit", "state"])
    op.create_index("ix_review_officer_state", "review", ["officer", "state"])
    op.create_index("ix_review_state_due", "review", ["state", "explanation_due"])
    op.create_index("ix_review_signal_at", "review", ["signal_at"])
    op.create_table(
        "absence",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("officer", sa.String(80), nullable=False),
        sa.Column("deputy", sa.String(80), nullable=False),
        sa.Column("unit", sa.String(32), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(80), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("audit_seq", sa.Integer(), nullable=False),
    )
    op.create_index("ix_absence_officer", "absence", ["officer"])
    op.create_index("ix_absence_ends", "absence", ["ends_at"])


def downgrade() -> None:
    op.drop_table("absence")
    op.drop_table("review")
