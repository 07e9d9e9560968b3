"""KPI facts of finished work items: the one place where working time is computed per item.

Working time needs the calendar (holidays, make-up days, office hours), which SQL does not have.
Rather than loop over a year of items in Python at report time, each finished item gets one
`kpi_item` row, once, shortly after it closes (the scheduler's sweep; `landflow kpi` catches up
first). Reports are then SQL aggregates over indexed columns.

Per item: `used_minutes` = working time from the item's creation to its closing; `allowed_minutes` =
working time from creation to its due time (the step's SLA, plus any supplement pause that moved the
due time); `on_time` = closed no later than due. Items the engine cancelled (the dossier stopped, a
timer interrupted the step) are not "handled" and get no fact.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, func, select

from .calendar import WorkingCalendar
from .store import Database, DossierRow, ItemFactRow, WorkItemRow
from .store.models import ITEM_DONE_SQL, partial_predicate

HANDLED = ("completed", "returned")
LOOKBACK = timedelta(days=2)  # commands that commit late, behind the watermark


def refresh_item_facts(db: Database, calendar: WorkingCalendar, now: datetime | None = None, full: bool = False,
                       batch: int = 5000) -> int:
    """Add facts for handled items that have none; returns how many were added."""
    added = 0
    with db.read() as s:
        watermark = None if full else s.scalar(select(func.max(ItemFactRow.done_at)))
    since = watermark - LOOKBACK if watermark is not None else None
    while True:
        W = WorkItemRow
        q = (select(W.id, W.dossier_id, DossierRow.procedure, W.step, W.unit, W.done_by, W.outcome, W.created_at,
                    W.due_at, W.done_at, W.sla)
             .join(DossierRow, DossierRow.id == W.dossier_id)
             .where(partial_predicate("work_item", ITEM_DONE_SQL), W.outcome.in_(HANDLED), W.done_at.is_not(None),
                    ~exists().where(ItemFactRow.work_item_id == W.id))
             .order_by(W.id).limit(batch))
        if since is not None:
            q = q.where(W.done_at >= since)
        with db.read() as s:
            rows = s.execute(q).all()
        if not rows:
            return added
        with db.write() as s:
            for r in rows:
                used = calendar.between(r.created_at, r.done_at)
                allowed = calendar.between(r.created_at, r.due_at) if r.due_at else calendar.minutes(r.sla)
                s.add(ItemFactRow(
                    work_item_id=r.id, dossier_id=r.dossier_id, procedure=r.procedure, step=r.step, unit=r.unit,
                    officer=r.done_by, outcome=r.outcome, created_at=r.created_at, due_at=r.due_at,
                    done_at=r.done_at, sla_minutes=calendar.minutes(r.sla), allowed_minutes=allowed,
                    used_minutes=used, on_time=r.due_at is None or r.done_at <= r.due_at))
        added += len(rows)
        if len(rows) < batch:
            return added
