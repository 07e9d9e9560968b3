"""storage: every work-item index but its key is partial, on the rows its queries read

(assignee, state, due_at) over open items (the officer's own worklist); (state, due_at) becomes
(due_at) over open items (KPI `overdue_open`); (state, last_activity_at) becomes (last_activity_at)
over claimed items (the sweep's `idle_claim`); (state, done_at) over done items only (the KPI
facts' catch-up). A finished dossier's work items then sit in none of the open-item indexes
(engine/store/models.py, end of the file).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

OPEN = "state IN ('ready', 'claimed')"
CLAIMED = "state = 'claimed'"
DONE = "state = 'done'"
REPLACED = (("ix_work_item_assignee_state_due", ["assignee", "state", "due_at"]),
            ("ix_work_item_state_due", ["state", "due_at"]),
            ("ix_work_item_state_activity", ["state", "last_activity_at"]),
            ("ix_work_item_state_done", ["state", "done_at"]))
PARTIAL = (("ix_work_item_assignee_state_due", ["assignee", "state", "due_at"], OPEN),
           ("ix_work_item_open_due", ["due_at"], OPEN),
           ("ix_work_item_claimed_activity", ["last_activity_at"], CLAIMED),
           ("ix_work_item_done", ["state", "done_at"], DONE))


def upgrade() -> None:
    for name, _columns in REPLACED:
        op.drop_index(name, table_name="work_item")
    for name, columns, where in PARTIAL:
        op.create_index(name, "work_item", columns, postgresql_where=sa.text(where), sqlite_where=sa.text(where))


def downgrade() -> None:
    for name, _columns, _where in PARTIAL:
        op.drop_index(name, table_name="work_item")
    for name, columns in REPLACED:
        op.create_index(name, "work_item", columns)
