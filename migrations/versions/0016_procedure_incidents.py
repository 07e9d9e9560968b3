"""dossier.incident: the BPMN element of an open procedure incident (engine/runtime/incidents.py), NULL
when there is none. Set by `incident_raised`, cleared by `moved`; existing dossiers have none (the
sweep raises incidents for those left in progress with nothing open).

Revision ID: 0016
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dossier") as batch:
        batch.add_column(sa.Column("incident", sa.String(length=100), nullable=True))
    op.create_index("ix_dossier_incident", "dossier", ["incident"])


def downgrade() -> None:
    op.drop_index("ix_dossier_incident", table_name="dossier")
    with op.batch_alter_table("dossier") as batch:
        batch.drop_column("incident")
