"""api_token.purpose: `api` for bearer tokens, `page` for the pages' sessions. The session cookie used to
carry an ordinary API token; it now carries a page-session secret that /api/v1 refuses (issue 13,
point 8). Existing tokens are API tokens.

Revision ID: 0012
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_token") as batch:
        batch.add_column(sa.Column("purpose", sa.String(length=8), nullable=False, server_default="api"))


def downgrade() -> None:
    with op.batch_alter_table("api_token") as batch:
        batch.drop_column("purpose")
