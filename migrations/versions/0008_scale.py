"""scale: worklist pages straight off an index; the sweep's "not noticed yet" partial indexes

(assignee, state, due_at) replaces (assignee, state); (unit, role, due_at, id) over ready items
reserved for nobody replaces (unit, state, due_at) (engine/queries.py `worklist`). work_item and
dossier get the *_noticed columns, filled from deadline_notice for existing rows, and the partial
indexes of rows whose deadline has no notice yet (engine/store/models.py, engine/scheduler/sweep.py).

Revision ID: 0008
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0005"
branch_labels = None
depends_on = None

POOL = sa.text("state = 'ready' AND assignee IS NULL")
ITEM_OPEN = "state IN ('ready', 'claimed')"
UNNOTICED = (
    ("work_item", "ix_work_item_unnoticed_overdue",
     f"{ITEM_OPEN} AND (overdue_noticed IS NULL OR overdue_noticed <> due_at)"),
    ("work_item", "ix_work_item_unescalated",
     f"{ITEM_OPEN} AND (escalated_noticed IS NULL OR escalated_noticed <> due_at)"),
    ("dossier", "ix_dossier_unnoticed_overdue",
     "status = 'in_progress' AND (overdue_noticed IS NULL OR overdue_noticed <> due_at)"),
)
BACKFILL = (
    f"UPDATE work_item SET overdue_noticed = due_at WHERE {ITEM_OPEN} AND EXISTS (SELECT 1 FROM "
    "deadline_notice n WHERE n.dossier_id = work_item.dossier_id AND n.item = work_item.ordinal "
    "AND n.kind = 'step_overdue' AND n.deadline = work_item.due_at)",
    f"UPDATE work_item SET escalated_noticed = due_at WHERE {ITEM_OPEN} AND EXISTS (SELECT 1 FROM "
    "deadline_notice n WHERE n.dossier_id = work_item.dossier_id AND n.item = work_item.ordinal "
    "AND n.kind = 'escalated' AND n.deadline = work_item.due_at)",
    "UPDATE dossier SET overdue_noticed = due_at WHERE status = 'in_progress' AND EXISTS (SELECT 1 FROM "
    "deadline_notice n WHERE n.dossier_id = dossier.id AND n.item = 0 AND n.kind = 'dossier_overdue' "
    "AND n.deadline = dossier.due_at)",
)


def upgrade() -> None:
    with op.batch_alter_table("work_item") as batch:
        batch.create_index("ix_work_item_assignee_state_due", ["assignee", "state", "due_at"])
        batch.create_index("ix_work_item_pool", ["unit", "role", "due_at", "id"], postgresql_where=POOL,
                           sqlite_where=POOL)
        batch.drop_index("ix_work_item_assignee_state")
        batch.drop_index("ix_work_item_unit_state_due")
        batch.add_column(sa.Column("overdue_noticed", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("escalated_noticed", sa.DateTime(), nullable=True))
    with op.batch_alter_table("dossier") as batch:
        batch.add_column(sa.Column("overdue_noticed", sa.DateTime(), nullable=True))
    for statement in BACKFILL:
        op.execute(statement)
    for table, name, where in UNNOTICED:
        op.create_index(name, table, ["due_at"], postgresql_where=sa.text(where), sqlite_where=sa.text(where))


def downgrade() -> None:
    for table, name, _where in UNNOTICED:
        op.drop_index(name, table_name=table)
    with op.batch_alter_table("dossier") as batch:
        batch.drop_column("overdue_noticed")
    with op.batch_alter_table("work_item") as batch:
        batch.drop_column("escalated_noticed")
        batch.drop_column("overdue_noticed")
    with op.batch_alter_table("work_item") as batch:
        batch.create_index("ix_work_item_unit_state_due", ["unit", "state", "due_at"])
        batch.create_index("ix_work_item_assignee_state", ["assignee", "state"])
        batch.drop_index("ix_work_item_pool")
        batch.drop_index("ix_work_item_assignee_state_due")
