"""Refusal categories (docs/decisions/0050-refusal-categories.md): drop the `unauthorised_attempt`
signals that events written before categories existed no longer imply.

Signals are a projection of the events (engine/accountability.py `signals_for`). Until now every
refused action left `unauthorised_attempt`, a typo or a stale page included; from now on only acting
outside one's unit, role or claim does, and an old `action_refused` event (no `category` in its payload)
is read by its code. The stored projection is brought in line with that reading, so `verify` agrees
with the log and KPI stops counting old typos against officers. The events themselves (hash-chained)
are untouched: every refusal stays in the history. Downgrade does not restore the dropped rows (they
would be re-derived only by the old code).

Revision ID: 0015
Revises: 0018
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

from engine.accountability import signals_for

revision = "0015"
down_revision = "0018"
branch_labels = None
depends_on = None

KIND = "unauthorised_attempt"


def _implied(payload_text: str) -> bool:
    try:
        payload = json.loads(payload_text)
    except ValueError:
        return True  # not ours to judge: leave the row for `verify` to report
    return any(s.kind == KIND for s in signals_for("action_refused", "", None, payload))


def upgrade() -> None:
    conn = op.get_bind()
    stale: list[dict[str, object]] = []
    events = conn.execute(sa.text(
        "SELECT e.dossier_id, e.seq, e.payload FROM case_event e JOIN signal s "
        "ON s.dossier_id = e.dossier_id AND s.seq = e.seq AND s.kind = :kind WHERE e.type = 'action_refused'"),
        {"kind": KIND})
    stale += [{"d": d, "seq": seq} for d, seq, text in events if not _implied(text)]
    entries = conn.execute(sa.text(
        "SELECT a.seq, a.payload FROM audit_log a JOIN signal s "
        "ON s.dossier_id IS NULL AND s.seq = a.seq AND s.kind = :kind WHERE a.type = 'action_refused'"),
        {"kind": KIND})
    stale += [{"d": None, "seq": seq} for seq, text in entries if not _implied(text)]
    for row in stale:
        if row["d"] is None:
            conn.execute(sa.text("DELETE FROM signal WHERE dossier_id IS NULL AND seq = :seq AND kind = :kind"),
                         {"seq": row["seq"], "kind": KIND})
        else:
            conn.execute(sa.text("DELETE FROM signal WHERE dossier_id = :d AND seq = :seq AND kind = :kind"),
                         {**row, "kind": KIND})


def downgrade() -> None:
    pass
