"""dossier.awaiting / awaiting_paused: the message catch events a dossier waits on (another agency's
answer, e.g. the tax office's notice; engine/runtime/messages.py) and whether one of them pauses the
dossier clock. Folded from the events' effects; existing dossiers wait on none.

Revision ID: 0030
Revises: 0029
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dossier") as batch:
        batch.add_column(sa.Column("awaiting", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("awaiting_paused", sa.Boolean(), nullable=False, server_default=sa.text("false")))


def downgrade() -> None:
    with op.batch_alter_table("dossier") as batch:
        batch.drop_column("awaiting_paused")
        batch.drop_column("awaiting")
