"""worklist pages straight off an index: (assignee, state, due_at) and the partial pool index

(assignee, state, due_at) replaces (assignee, state); (unit, role, due_at, id) over ready items
reserved for nobody replaces (unit, state, due_at). See engine/queries.py `worklist`.

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


def upgrade() -> None:
    with op.batch_alter_table("work_item") as batch:
        batch.create_index("ix_work_item_assignee_state_due", ["assignee", "state", "due_at"])
        batch.create_index("ix_work_item_pool", ["unit", "role", "due_at", "id"], postgresql_where=POOL,
                           sqlite_where=POOL)
        batch.drop_index("ix_work_item_assignee_state")
        batch.drop_index("ix_work_item_unit_state_due")


def downgrade() -> None:
    with op.batch_alter_table("work_item") as batch:
        batch.create_index("ix_work_item_unit_state_due", ["unit", "state", "due_at"])
        batch.create_index("ix_work_item_assignee_state", ["assignee", "state"])
        batch.drop_index("ix_work_item_pool")
        batch.drop_index("ix_work_item_assignee_state_due")
