"""dossier_search: one search line per dossier (engine/search.py), so the desk finds a dossier by the
applicant's name, identity number, phone or parcel. Filled for existing dossiers from their applicant
and parcel.

Revision ID: 0018
Revises: 0012
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from engine.search import search_line

    op.create_table(
        "dossier_search",
        sa.Column("dossier_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), sa.ForeignKey("dossier.id"),
                  primary_key=True),
        sa.Column("line", sa.String(600), nullable=False),
    )
    conn = op.get_bind()
    table = sa.table("dossier_search", sa.column("dossier_id"), sa.column("line"))
    rows = conn.execute(sa.text("SELECT id, applicant, parcel FROM dossier")).all()
    batch = [{"dossier_id": r[0], "line": search_line(json.loads(r[1] or "{}"), json.loads(r[2] or "{}"))}
             for r in rows]
    for i in range(0, len(batch), 5000):
        conn.execute(table.insert(), batch[i:i + 5000])


def downgrade() -> None:
    op.drop_table("dossier_search")
