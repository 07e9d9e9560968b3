"""Recording one scheduler notice in a dossier's chain, exactly once.

Each notice is its own transaction: lock the dossier row (as every command does), check again that
the condition still holds (a command may have closed the item since the sweep looked), check that the
notice is not recorded yet, append the event (its signal follows from `signals_for`) and the
`deadline_notice` row. The unique key of `deadline_notice` is the last guard: two schedulers that
somehow reach the same notice at once cannot both commit it. Nothing is kept in memory, so a restart
or a sweep cut off half-way loses and repeats nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..absences import name_both
from ..calendar import WorkingCalendar
from ..eventlog import PendingEvent, append
from ..events import DossierOverdue, DueSoon, Escalated, IdleClaim, Notice, StepOverdue
from ..jsoncanon import iso
from ..org import SYSTEM, Directory
from ..runtime.state import DossierState
from ..store import Database, DeadlineNoticeRow, DossierRow, WorkItemRow

ITEM_KINDS = ("step_overdue", "escalated", "idle_claim")
DOSSIER_KINDS = ("dossier_overdue", "due_soon")
OPEN = ("ready", "claimed")


@dataclass(frozen=True)
class Candidate:
    kind: str
    dossier_id: int
    item: int  # work item ordinal; 0 for the dossier
    deadline: datetime


@dataclass(frozen=True)
class Limits:
    """The sweep's thresholds, in working time (config/settings.py)."""

    due_soon: str
    escalation_delay: str
    idle_claim: str


def _local(calendar: WorkingCalendar, at: datetime) -> str:
    return at.astimezone(calendar.tz).strftime("%Y-%m-%d %H:%M")


def _item_notice(c: Candidate, item: WorkItemRow, now: datetime, calendar: WorkingCalendar, limits: Limits,
                 directory: Directory) -> StepOverdue | Escalated | IdleClaim | None:
    if item.state not in OPEN:
        return None
    if c.kind in ("step_overdue", "escalated"):
        if item.due_at != c.deadline or item.due_at is None or item.due_at >= now:
            return None
        late = calendar.between(item.due_at, now)
        if c.kind == "step_overdue":
            return StepOverdue(item=item.ordinal, officer=item.assignee, unit=item.unit, deadline=iso(item.due_at),
                               late_minutes=late, reason=f"step {item.step} was due {_local(calendar, item.due_at)}")
        if item.due_at > calendar.subtract(now, limits.escalation_delay):
            return None
        heads = sorted(o.username for o in directory.heads_of(item.unit or ""))
        to = ", ".join(heads) if heads else "nobody: the unit has no unit_head"
        return Escalated(item=item.ordinal, officer=item.assignee, unit=item.unit, deadline=iso(item.due_at),
                         late_minutes=late, to=heads, delay=limits.escalation_delay,
                         reason=f"step {item.step} overdue by more than {limits.escalation_delay}; escalated to {to}")
    # idle_claim
    if item.state != "claimed" or item.last_activity_at != c.deadline:
        return None
    if item.last_activity_at > calendar.subtract(now, limits.idle_claim):
        return None
    since = _local(calendar, item.last_activity_at)
    return IdleClaim(item=item.ordinal, officer=item.assignee, unit=item.unit, since=iso(item.last_activity_at),
                     threshold=limits.idle_claim, reason=f"claimed by {item.assignee} and untouched since {since}")


def _dossier_notice(c: Candidate, session: Session, row: DossierRow, now: datetime, calendar: WorkingCalendar,
                    limits: Limits) -> DossierOverdue | DueSoon | None:
    if row.status != "in_progress" or row.paused_at is not None or row.due_at != c.deadline or row.due_at is None:
        return None
    if c.kind == "dossier_overdue" and row.due_at >= now:
        return None
    if c.kind == "due_soon" and not (now < row.due_at <= calendar.add(now, limits.due_soon)):
        return None
    holder = session.execute(select(WorkItemRow.unit, WorkItemRow.assignee).where(
        WorkItemRow.dossier_id == row.id, WorkItemRow.state.in_(OPEN)).order_by(WorkItemRow.ordinal).limit(1)).first()
    unit, officer = (holder[0], holder[1]) if holder else (row.desk_unit, None)
    if c.kind == "dossier_overdue":
        return DossierOverdue(deadline=iso(row.due_at), unit=unit, officer=officer,
                              late_minutes=calendar.between(row.due_at, now),
                              reason=f"dossier {row.code} was due {_local(calendar, row.due_at)}")
    return DueSoon(deadline=iso(row.due_at), unit=unit, officer=officer,
                   reason=f"dossier {row.code} is due {_local(calendar, row.due_at)}: if it will be late, "
                          "apologise with a new date now")


# Which column remembers that a kind of notice is recorded for the current deadline (engine/store/models.py:
# the sweep's partial indexes hold only rows whose deadline has no notice yet).
MARKERS = {"step_overdue": (WorkItemRow, WorkItemRow.overdue_noticed),
           "escalated": (WorkItemRow, WorkItemRow.escalated_noticed),
           "dossier_overdue": (DossierRow, DossierRow.overdue_noticed)}


def _mark_noticed(s: Session, c: Candidate) -> None:
    marker = MARKERS.get(c.kind)
    if marker is None:
        return
    table, column = marker
    where: tuple[ColumnElement[bool], ...]
    if table is WorkItemRow:
        where = (WorkItemRow.dossier_id == c.dossier_id, WorkItemRow.ordinal == c.item,
                 WorkItemRow.due_at == c.deadline)
    else:
        where = (DossierRow.id == c.dossier_id, DossierRow.due_at == c.deadline)
    s.execute(update(table).where(*where).values({column.key: c.deadline}).execution_options(synchronize_session=False))


def record(db: Database, calendar: WorkingCalendar, directory: Directory, limits: Limits, c: Candidate,
           now: datetime) -> bool:
    """Record the notice if it still applies and is not recorded yet. True when recorded."""
    try:
        with db.write() as s:
            row = s.get(DossierRow, c.dossier_id, **db.lock_clause())
            if row is None:
                return False
            seen = s.scalar(select(DeadlineNoticeRow.id).where(
                DeadlineNoticeRow.dossier_id == c.dossier_id, DeadlineNoticeRow.item == c.item,
                DeadlineNoticeRow.kind == c.kind, DeadlineNoticeRow.deadline == c.deadline))
            if seen is not None:
                _mark_noticed(s, c)
                return False
            step = None
            notice: Notice | None
            if c.kind in ITEM_KINDS:
                if row.supplement_since is not None:
                    return False  # the applicant holds the dossier: nobody can be late on it
                item = s.scalar(select(WorkItemRow).where(WorkItemRow.dossier_id == c.dossier_id,
                                                          WorkItemRow.ordinal == c.item))
                notice = None if item is None else _item_notice(c, item, now, calendar, limits, directory)
                if isinstance(notice, Escalated):  # during an absence: name both
                    notice = name_both(s, notice, c.dossier_id, c.item, now)
                step = item.step if item is not None else None
            else:
                notice = _dossier_notice(c, s, row, now, calendar, limits)
            if notice is None:
                return False
            lite = DossierState(id=row.id, last_seq=row.last_seq, head_hash=row.head_hash)
            append(s, lite, [PendingEvent.of(notice, SYSTEM, notice.unit, step, now)])
            row.last_seq, row.head_hash = lite.last_seq, lite.head_hash
            s.add(DeadlineNoticeRow(dossier_id=c.dossier_id, item=c.item, kind=c.kind, deadline=c.deadline,
                                    seq=lite.last_seq, at=now))
            _mark_noticed(s, c)
            s.flush()
            return True
    except IntegrityError:
        return False  # another scheduler recorded it first
