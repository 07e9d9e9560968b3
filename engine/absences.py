"""Officers' absences and substitution by a deputy of the same unit and role.

An absence (leave, training, sickness: first and last day, local) names a deputy in the same unit who
holds every step role of the absent officer (and `unit_head` if the absent officer is a head). It is
recorded by the unit's head or an administrator as an `absence_recorded` entry of the audit log (the
`absence` table is its projection, verified with the reviews: engine/reviews.py).

While the absence lasts, the work items reserved to or claimed by the absent officer go to the deputy:
one `substituted` event in the dossier's chain per item, reserved to the deputy (state ready, as a
transfer to an officer leaves it), carrying the absence's number. It is not a transfer: no `rerouted`
or `ping_pong` signal, the item's trail of holders is untouched (a later A → B → A stays judged on
real transfers), and the unit does not change. It happens when the absence is recorded (if it has
begun) and at every sweep for absences that have begun since (items reserved to the absent officer
later go too). When the absence ends the items stay with the deputy: handing them back would be a
second move of work nobody asked for (docs/decisions/0082).

Escalations during an absence name both: an item substituted for an absent officer is escalated with
the deputy as `officer` and the absent officer as `absent_officer`; an absent head's deputy is added to
the escalation's `to`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from . import audit
from .events import AbsenceRecorded, ActionRefused, Escalated, Substituted, parse_as
from .jsoncanon import iso, parse_iso
from .org import SYSTEM, DirectoryCache, Officer
from .policy import Refusal
from .runtime.errors import CommandRefused
from .store import AbsenceRow, CaseEventRow, Database, WorkItemRow
from .store.models import ITEM_OPEN_SQL, partial_predicate

MAX_DAYS = 366


def fold_absence(seq: int, actor: str, at: datetime, event: AbsenceRecorded) -> dict[str, Any]:
    return {"id": event.absence, "officer": event.officer, "deputy": event.deputy, "unit": event.unit,
            "starts_at": parse_iso(event.starts_at), "ends_at": parse_iso(event.ends_at), "reason": event.reason,
            "recorded_by": actor, "recorded_at": at, "audit_seq": seq}


def absence_values(row: AbsenceRow) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in AbsenceRow.__table__.columns}


def active(s: Session, now: datetime) -> list[AbsenceRow]:
    return list(s.scalars(select(AbsenceRow).where(AbsenceRow.starts_at <= now, AbsenceRow.ends_at > now)
                          .order_by(AbsenceRow.id)))


def with_deputies(s: Session, usernames: list[str], now: datetime) -> list[str]:
    """The names, plus the deputy of each one absent now (an escalation reaches someone present)."""
    out = list(usernames)
    if usernames:
        for a in s.scalars(select(AbsenceRow).where(AbsenceRow.officer.in_(usernames), AbsenceRow.starts_at <= now,
                                                    AbsenceRow.ends_at > now).order_by(AbsenceRow.id)):
            if a.deputy not in out:
                out.append(a.deputy)
    return out


def check_record(actor: Officer, absent: Officer | None, deputy: Officer | None, first: date, last: date,
                 today: date, step_roles: set[str]) -> Refusal | None:
    """Pure: may `actor` record this absence?"""
    if not actor.active:
        return Refusal("forbidden", "inactive", "this account is deactivated")
    if "auditor" in actor.roles:
        return Refusal("forbidden", "read_only", "auditors read and verify; they change nothing")
    if not actor.roles & {"admin", "unit_head"}:
        return Refusal("forbidden", "wrong_role", "the unit's head or an administrator records an absence")
    if absent is None or not absent.active:
        return Refusal("invalid", "illegal_target", "the absent officer does not exist")
    if "admin" not in actor.roles:
        if "unit_head" not in actor.roles:
            return Refusal("forbidden", "wrong_role", "the unit's head or an administrator records an absence")
        if actor.unit != absent.unit:
            return Refusal("forbidden", "wrong_unit", f"{absent.username} is not in unit {actor.unit}")
    if deputy is None or not deputy.active or deputy.username == absent.username:
        return Refusal("invalid", "illegal_target", "the deputy must be another active officer")
    if deputy.unit != absent.unit:
        return Refusal("invalid", "illegal_target", f"the deputy must be of unit {absent.unit}")
    needed = absent.roles & (step_roles | {"unit_head"})
    if not needed <= deputy.roles:
        return Refusal("invalid", "illegal_target",
                       f"the deputy must hold the roles {', '.join(sorted(needed - deputy.roles))}")
    if last < first:
        return Refusal("invalid", "invalid_data", "the last day is before the first")
    if last < today:
        return Refusal("invalid", "invalid_data", "the absence is over: record absences that have not ended")
    if (last - first).days >= MAX_DAYS:
        return Refusal("invalid", "invalid_data", f"an absence lasts at most {MAX_DAYS} days")
    return None


class Absences:
    def __init__(self, lf: Any):
        self.lf = lf
        self.db: Database = lf.db
        self.directory: DirectoryCache = lf.directory

    def _refused(self, actor: Officer, refusal: Refusal) -> CommandRefused:
        refused = ActionRefused(action="record_absence", kind_=refusal.kind, code=refusal.code,
                                message=refusal.message)
        audit.append(self.db, refused.kind, actor.username, actor.unit, self.lf.clock.now(), refused.to_payload())
        return CommandRefused(refusal)

    def record(self, actor: Officer, username: str, deputy: str, first: date, last: date, reason: str) -> AbsenceRow:
        now = self.lf.clock.now()
        tz = self.lf.calendar.tz
        d = self.directory.get()
        absent, sub = d.officers.get(username), d.officers.get(deputy)
        try:
            refusal = check_record(actor, absent, sub, first, last, now.astimezone(tz).date(), d.step_roles())
            if refusal is None and (not reason or not reason.strip()):
                refusal = Refusal("invalid", "missing_reason", "the absence needs a reason")
            if refusal is None and len(reason) > 4000:
                refusal = Refusal("invalid", "reason_too_long", "the reason is longer than 4000 characters")
            if refusal is not None:
                raise CommandRefused(refusal)
            assert absent is not None and sub is not None
            starts = datetime.combine(first, time(0), tz)
            ends = datetime.combine(last + timedelta(days=1), time(0), tz)
            with self.db.write() as s:
                if self.db.dialect == "postgresql":
                    s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": audit.LOCK})
                for who, code in ((username, "overlapping_absence"), (deputy, "deputy_absent")):
                    clash = s.scalar(select(AbsenceRow.id).where(
                        AbsenceRow.officer == who, AbsenceRow.starts_at < ends, AbsenceRow.ends_at > starts))
                    if clash is not None:
                        raise CommandRefused(Refusal("conflict", code,
                                                     f"{who} is already absent then (absence {clash})"))
                number = (s.scalar(select(func.max(AbsenceRow.id))) or 0) + 1
                recorded = AbsenceRecorded(absence=number, officer=username, deputy=deputy, unit=absent.unit,
                                           first_day=first.isoformat(), last_day=last.isoformat(),
                                           starts_at=iso(starts), ends_at=iso(ends), reason=reason.strip())
                entry = audit.append_in(s, recorded.kind, actor.username, actor.unit, now, recorded.to_payload())
                row = AbsenceRow(**fold_absence(entry.seq, actor.username, now, recorded))
                s.add(row)
                s.flush()
        except CommandRefused as err:
            raise self._refused(actor, err.refusal) from None
        if starts <= now:
            self.apply(row)
        return row

    def apply(self, absence: AbsenceRow) -> int:
        """Hand the absent officer's open items to the deputy; one `substituted` event each."""
        with self.db.read() as s:
            items = s.execute(select(WorkItemRow.dossier_id, WorkItemRow.ordinal).where(
                partial_predicate("work_item", ITEM_OPEN_SQL), WorkItemRow.assignee == absence.officer)
                .order_by(WorkItemRow.dossier_id, WorkItemRow.ordinal)).all()
        return sum(self.substitute(absence, int(did), int(ordinal)) for did, ordinal in items)

    def substitute(self, absence: AbsenceRow, dossier_id: int, ordinal: int) -> int:
        from .runtime.commands import Target

        runtime = self.lf.runtime
        system = Officer(SYSTEM, SYSTEM, absence.unit, frozenset())
        moved = 0

        def decide(work: Any) -> None:
            nonlocal moved
            item = work.state.items.get(ordinal)
            if item is None or not item.is_open or item.assignee != absence.officer:
                return  # a command moved it since: nothing to substitute
            fx = {"items": {str(ordinal): {"assignee": absence.deputy, "state": "ready", "claimed_at": None,
                                           "last_activity_at": iso(work.at)}}}
            runtime.emit(work, Substituted(item=ordinal, from_=absence.officer, to=absence.deputy,
                                           absence=absence.id, was=item.state, fx=fx), step=item.step)
            moved = 1

        runtime._run("substitute", system, Target(dossier_id=dossier_id), None, decide)
        return moved

    def sweep(self, now: datetime) -> int:
        """Absences under way: the absent officers' open items go to their deputies (idempotent)."""
        with self.db.read() as s:
            current = active(s, now)
            for a in current:
                s.expunge(a)
        return sum(self.apply(a) for a in current)


def name_both(s: Session, notice: Escalated, dossier_id: int, ordinal: int, now: datetime) -> Escalated:
    """An escalation during an absence: the deputy holding a substituted item and the absent officer
    both named; an absent head's deputy added to `to`."""
    out = replace(notice, to=with_deputies(s, list(notice.to), now))
    assignee = notice.officer
    if assignee is None:
        return out
    for a in s.scalars(select(AbsenceRow).where(AbsenceRow.deputy == assignee, AbsenceRow.starts_at <= now,
                                                AbsenceRow.ends_at > now).order_by(AbsenceRow.id)):
        for (body,) in s.execute(select(CaseEventRow.payload).where(
                CaseEventRow.dossier_id == dossier_id, CaseEventRow.type == "substituted")):
            p = parse_as(Substituted, body)
            if p.item == ordinal and p.absence == a.id and p.to == assignee:
                return replace(out, absent_officer=a.officer,
                               reason=f"{out.reason} (held by {assignee} as deputy of {a.officer}, absent)")
    return out
