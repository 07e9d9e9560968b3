"""Reviews of signals: the officer's explanation (giải trình), then a verdict.

A signal says that something *may* be shirking; a review settles it. Anyone entitled opens a review
of one signal about an officer or a unit (the head of that unit, or an inspector of the Department
of Home Affairs); the officer concerned (for a signal about a unit alone: its head) explains within
`LANDFLOW_EXPLANATION_LIMIT` of working time, or the sweep escalates the review once to the unit's
heads; then the unit's head or an inspector records the verdict: `justified` with its cause
(applicant, another agency, system or data, legal reason) or `shirking_confirmed`, always with a
reason, never by the person the review is about or who explained.

Every step is an entry of the hash-chained audit log (engine/audit.py): `review_opened`,
`review_explained`, `review_escalated`, `review_decided` (docs/decisions/0080). The `review` table is
their projection: `fold` is the one function that turns an entry into row values, used by the
commands here and by `verify_accountability`, which rebuilds every review from the log, compares, and
names the review whose entry was altered. A refused attempt is recorded as `action_refused` in the
audit log like any act on no single dossier.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import QueryableAttribute, Session

from . import audit
from .calendar import WorkingCalendar
from .clock import Clock
from .events import (
    AbsenceRecorded,
    ActionRefused,
    Event,
    ReviewDecided,
    ReviewEscalated,
    ReviewExplained,
    ReviewOpened,
    parse_audit,
)
from .jsoncanon import iso, parse_iso
from .org import SYSTEM, Directory, DirectoryCache, Officer
from .policy import Refusal
from .runtime.errors import CommandRefused
from .store import AuditEntryRow, Database, DossierRow, ReviewRow, SignalRow

TYPES = ("review_opened", "review_explained", "review_escalated", "review_decided")
ReviewEvent = ReviewOpened | ReviewExplained | ReviewEscalated | ReviewDecided
VERDICTS = ("justified", "shirking_confirmed")
CAUSES = ("applicant", "other_agency", "system_data", "legal")
STATES = ("open", "explained", "decided")
INSPECTOR = "inspector"
UNIT_HEAD = "unit_head"
MAX_TEXT = 4000


@dataclass(frozen=True)
class SignalKey:
    """A signal by its stable key: (dossier, seq, kind); dossier None for a signal of the audit log."""

    dossier_id: int | None
    seq: int
    kind: str

    def as_dict(self) -> dict[str, Any]:
        return {"dossier": self.dossier_id, "seq": self.seq, "kind": self.kind}


# -- the projection --------------------------------------------------------------------------------

def fold(row: dict[str, Any] | None, seq: int, actor: str, at: datetime, event: Event) -> dict[str, Any]:
    """The review's row values after one entry (row None before `review_opened`). Pure."""
    if isinstance(event, ReviewOpened):
        sig = event.signal
        return {"id": event.review, "signal_dossier_id": sig["dossier"], "signal_seq": sig["seq"],
                "signal_kind": sig["kind"], "signal_at": parse_iso(sig["at"]), "officer": event.officer,
                "unit": event.unit, "state": "open", "opened_by": actor, "opened_at": at,
                "explanation_due": parse_iso(event.explanation_due), "explained_by": None,
                "explained_at": None, "explanation": None, "escalated_at": None, "verdict": None, "cause": None,
                "decided_by": None, "decided_at": None, "verdict_reason": None, "first_seq": seq, "last_seq": seq}
    if row is None:
        raise ValueError(f"{event.kind} of review {getattr(event, 'review', None)} before it was opened")
    out = dict(row, last_seq=seq)
    match event:
        case ReviewExplained():
            out.update(state="explained", explained_by=actor, explained_at=at, explanation=event.explanation)
        case ReviewEscalated():
            out.update(escalated_at=at)
        case ReviewDecided():
            out.update(state="decided", verdict=event.verdict, cause=event.cause, decided_by=actor,
                       decided_at=at, verdict_reason=event.reason)
        case _:
            raise ValueError(f"unknown review entry {event.kind}")
    return out


def row_values(row: ReviewRow) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in ReviewRow.__table__.columns}


# -- who may do what (pure) ------------------------------------------------------------------------

def _active(officer: Officer) -> Refusal | None:
    """Before anything is looked up: a deactivated account, or an auditor (who reads and changes nothing)."""
    if not officer.active:
        return Refusal("forbidden", "inactive", "this account is deactivated")
    if "auditor" in officer.roles:
        return Refusal("forbidden", "read_only", "auditors read and verify; they change nothing")
    return None


def check_open(officer: Officer, unit: str | None, about: str | None) -> Refusal | None:
    """The head of the signal's unit or an inspector opens a review; a signal about nobody cannot be."""
    refusal = _active(officer)
    if refusal:
        return refusal
    if unit is None and about is None:
        return Refusal("invalid", "not_reviewable", "the signal names no officer and no unit")
    if INSPECTOR not in officer.roles:
        if UNIT_HEAD not in officer.roles:
            return Refusal("forbidden", "wrong_role", "the unit's head or an inspector opens a review")
        if unit != officer.unit:
            return Refusal("forbidden", "wrong_unit", f"the signal is about unit {unit}, not {officer.unit}")
    if about == officer.username:
        return Refusal("forbidden", "own_review", "nobody reviews a signal about themselves")
    return None


def check_explain(officer: Officer, review: ReviewRow, text_: str) -> Refusal | None:
    refusal = _active(officer)
    if refusal:
        return refusal
    if review.officer is not None:
        if officer.username != review.officer:
            return Refusal("forbidden", "wrong_role", f"only {review.officer}, whom the signal is about, explains")
    elif UNIT_HEAD not in officer.roles or officer.unit != review.unit:
        return Refusal("forbidden", "wrong_role", f"the head of unit {review.unit} explains a signal about it")
    if review.state == "decided":
        return Refusal("conflict", "already_decided", "the verdict is recorded")
    if review.state == "explained":
        return Refusal("conflict", "already_explained", "the explanation is recorded")
    return _text("explanation", text_)


def check_decide(officer: Officer, review: ReviewRow, verdict: str, cause: str | None, reason: str,
                 now: datetime) -> Refusal | None:
    refusal = _active(officer)
    if refusal:
        return refusal
    if INSPECTOR not in officer.roles:
        if UNIT_HEAD not in officer.roles:
            return Refusal("forbidden", "wrong_role", "the unit's head or an inspector records the verdict")
        if officer.unit != review.unit:
            return Refusal("forbidden", "wrong_unit", f"the review is about unit {review.unit}, not {officer.unit}")
    if officer.username in (review.officer, review.explained_by):
        return Refusal("forbidden", "own_review", "nobody decides a review about themselves or they explained")
    if review.state == "decided":
        return Refusal("conflict", "already_decided", "the verdict is recorded")
    if review.state == "open" and now < review.explanation_due:
        return Refusal("conflict", "explanation_pending",
                       "the officer may still explain until the limit; the verdict comes after")
    if verdict not in VERDICTS:
        return Refusal("invalid", "invalid_verdict", f"verdict must be one of {', '.join(VERDICTS)}")
    if verdict == "justified" and cause not in CAUSES:
        return Refusal("invalid", "invalid_cause", f"a justified signal names its cause: {', '.join(CAUSES)}")
    if verdict == "shirking_confirmed" and cause is not None:
        return Refusal("invalid", "invalid_cause", "a confirmed shirking has no excusing cause")
    return _text("reason", reason)


def _text(name: str, value: str | None) -> Refusal | None:
    if value is None or not value.strip():
        return Refusal("invalid", "missing_reason", f"the {name} is empty")
    if len(value) > MAX_TEXT:
        return Refusal("invalid", "reason_too_long", f"the {name} is longer than {MAX_TEXT} characters")
    return None


# -- the commands ----------------------------------------------------------------------------------

class Reviews:
    """Opening, explaining, escalating and deciding reviews; each one transaction on the audit log."""

    def __init__(self, db: Database, directory: DirectoryCache, calendar: WorkingCalendar, clock: Clock,
                 explanation_limit: str = "P3D"):
        self.db = db
        self.directory = directory
        self.calendar = calendar
        self.clock = clock
        self.limit = explanation_limit

    @classmethod
    def of(cls, lf: Any) -> Reviews:
        """From a Landflow (engine/bootstrap.py)."""
        return cls(lf.db, lf.directory, lf.calendar, lf.clock, lf.settings.explanation_limit)

    def _lock(self, s: Session) -> None:
        """The audit log's head lock first, so that checks and the entry see one state (PostgreSQL;
        SQLite's write transactions are serial)."""
        if self.db.dialect == "postgresql":
            s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": audit.LOCK})

    def _refused(self, action: str, officer: Officer, refusal: Refusal, review: int | None = None) -> CommandRefused:
        refused = ActionRefused(action=action, kind_=refusal.kind, code=refusal.code, message=refusal.message,
                                review=review)
        audit.append(self.db, refused.kind, officer.username, officer.unit, self.clock.now(), refused.to_payload())
        return CommandRefused(refusal)

    def _entry(self, s: Session, row: ReviewRow | None, event: ReviewEvent, actor: Officer | None,
               at: datetime) -> ReviewRow:
        unit_of_event = event.unit if isinstance(event, ReviewOpened | ReviewEscalated) else None
        name, unit = (actor.username, actor.unit) if actor is not None else (SYSTEM, unit_of_event)
        entry = audit.append_in(s, event.kind, name, unit, at, event.to_payload())
        values = fold(row_values(row) if row is not None else None, entry.seq, name, at, event)
        if row is None:
            row = ReviewRow(**values)
            s.add(row)
        else:
            for k, v in values.items():
                setattr(row, k, v)
        s.flush()
        return row

    def open(self, officer: Officer, key: SignalKey, note: str = "") -> ReviewRow:
        now = self.clock.now()
        try:
            with self.db.write() as s:
                self._lock(s)
                early = _active(officer) or (None if officer.roles & {INSPECTOR, UNIT_HEAD} else Refusal(
                    "forbidden", "wrong_role", "the unit's head or an inspector opens a review"))
                if early is not None:
                    raise CommandRefused(early)
                on = SignalRow.dossier_id.is_(None) if key.dossier_id is None else \
                    SignalRow.dossier_id == key.dossier_id
                sig = s.scalar(select(SignalRow).where(on, SignalRow.seq == key.seq, SignalRow.kind == key.kind))
                if sig is None:
                    raise CommandRefused(Refusal("not_found", "not_found", "no such signal"))
                refusal = check_open(officer, sig.unit, sig.officer)
                if refusal is None and note and len(note) > MAX_TEXT:
                    refusal = Refusal("invalid", "reason_too_long", f"the note is longer than {MAX_TEXT} characters")
                if refusal is None and review_of(s, key) is not None:
                    refusal = Refusal("conflict", "already_reviewed", "this signal is already under review")
                if refusal is not None:
                    raise CommandRefused(refusal)
                number = (s.scalar(select(func.max(ReviewRow.id))) or 0) + 1
                opened = ReviewOpened(
                    review=number, signal={**key.as_dict(), "at": iso(sig.at)}, officer=sig.officer, unit=sig.unit,
                    limit=self.limit, explanation_due=iso(self.calendar.add(now, self.limit)),
                    note=note.strip() or None)
                return self._entry(s, None, opened, officer, now)
        except CommandRefused as err:
            raise self._refused("review_open", officer, err.refusal) from None

    def _act(self, action: str, officer: Officer, review_id: int, check: Any,
             entry: Callable[[int], ReviewEvent]) -> ReviewRow:
        now = self.clock.now()
        try:
            with self.db.write() as s:
                self._lock(s)
                early = _active(officer)
                if early is not None:
                    raise CommandRefused(early)
                row = s.get(ReviewRow, review_id, **self.db.lock_clause())
                if row is None:
                    raise CommandRefused(Refusal("not_found", "not_found", f"review {review_id} does not exist"))
                refusal = check(row, now)
                if refusal is not None:
                    raise CommandRefused(refusal)
                return self._entry(s, row, entry(review_id), officer, now)
        except CommandRefused as err:
            raise self._refused(action, officer, err.refusal, review_id) from None

    def explain(self, officer: Officer, review_id: int, explanation: str) -> ReviewRow:
        return self._act("review_explain", officer, review_id,
                         lambda row, now: check_explain(officer, row, explanation),
                         lambda n: ReviewExplained(review=n, explanation=(explanation or "").strip()))

    def decide(self, officer: Officer, review_id: int, verdict: str, reason: str,
               cause: str | None = None) -> ReviewRow:
        return self._act("review_decide", officer, review_id,
                         lambda row, now: check_decide(officer, row, verdict, cause, reason, now),
                         lambda n: ReviewDecided(review=n, verdict=verdict, reason=(reason or "").strip(), cause=cause))

    # -- the sweep ------------------------------------------------------------------------------------
    def escalate_overdue(self, now: datetime | None = None) -> int:
        """Reviews whose explanation limit passed with no explanation: escalated once each, to the heads
        of the unit (and, while a head is absent, to their deputy too)."""
        from .absences import with_deputies

        now = now or self.clock.now()
        with self.db.read() as s:
            due = list(s.scalars(select(ReviewRow.id).where(
                ReviewRow.state == "open", ReviewRow.escalated_at.is_(None), ReviewRow.explanation_due <= now)
                .order_by(ReviewRow.explanation_due, ReviewRow.id).limit(500)))
        directory = self.directory.get()
        done = 0
        for review_id in due:
            with self.db.write() as s:
                self._lock(s)
                row = s.get(ReviewRow, review_id, **self.db.lock_clause())
                if row is None or row.state != "open" or row.escalated_at is not None or row.explanation_due > now:
                    continue
                heads = sorted(o.username for o in directory.heads_of(row.unit or ""))
                to = with_deputies(s, heads, now)
                self._entry(s, row, ReviewEscalated(review=review_id, officer=row.officer, unit=row.unit, to=to,
                                                    due=iso(row.explanation_due)), None, now)
                done += 1
        return done


# -- reads -----------------------------------------------------------------------------------------

def review_of(s: Session, key: SignalKey) -> ReviewRow | None:
    where = ReviewRow.signal_dossier_id.is_(None) if key.dossier_id is None else \
        ReviewRow.signal_dossier_id == key.dossier_id
    return s.scalar(select(ReviewRow).where(where, ReviewRow.signal_seq == key.seq,
                                            ReviewRow.signal_kind == key.kind))


def sees_all(officer: Officer) -> bool:
    return bool(officer.roles & {INSPECTOR, "auditor", "supervisor"})


def may_read(officer: Officer, row: ReviewRow) -> bool:
    """Inspectors, auditors and supervisors read every review; others those of their unit or about them."""
    return sees_all(officer) or row.officer == officer.username or (
        UNIT_HEAD in officer.roles and row.unit == officer.unit)


def reviews(s: Session, officer: Officer, *, state: str | None = None, unit: str | None = None,
            about: str | None = None, limit: int = 200) -> list[ReviewRow]:
    """Newest first, within what the officer may read."""
    q = select(ReviewRow)
    if not sees_all(officer):
        mine = ReviewRow.officer == officer.username
        q = q.where(or_(mine, ReviewRow.unit == officer.unit) if UNIT_HEAD in officer.roles else mine)
    if state is not None:
        q = q.where(ReviewRow.state == state)
    if unit is not None:
        q = q.where(ReviewRow.unit == unit)
    if about is not None:
        q = q.where(ReviewRow.officer == about)
    return list(s.scalars(q.order_by(ReviewRow.id.desc()).limit(limit)))


def entries(s: Session, row: ReviewRow) -> list[AuditEntryRow]:
    """The review's entries in the audit log, oldest first."""
    found = s.scalars(select(AuditEntryRow).where(
        AuditEntryRow.seq >= row.first_seq, AuditEntryRow.seq <= row.last_seq, AuditEntryRow.type.in_(TYPES))
        .order_by(AuditEntryRow.seq))
    out = []
    for e in found:
        event = parse_audit(e.type, e.payload)
        if isinstance(event, ReviewEvent) and event.review == row.id:
            out.append(e)
    return out


def dossier_code(s: Session, dossier_id: int | None) -> str | None:
    return None if dossier_id is None else s.scalar(select(DossierRow.code).where(DossierRow.id == dossier_id))


def verdict_counts(s: Session, group_by: str, start: datetime, end: datetime,
                   unit: str | None = None) -> dict[str | None, tuple[int, int]]:
    """Per officer / unit / procedure: (shirking confirmed, justified) among the signals of the period."""
    R = ReviewRow
    col: QueryableAttribute[str | None] = {"officer": R.officer, "unit": R.unit,
                                           "procedure": DossierRow.procedure}[group_by]
    q = select(col, R.verdict, func.count()).select_from(R).where(
        R.state == "decided", R.signal_at >= start, R.signal_at < end)
    if group_by == "procedure":
        q = q.outerjoin(DossierRow, DossierRow.id == R.signal_dossier_id)
    if unit is not None:
        q = q.where(R.unit == unit)
    out: dict[str | None, tuple[int, int]] = {}
    for key, verdict, n in s.execute(q.group_by(col, R.verdict)):
        confirmed, justified = out.get(key, (0, 0))
        out[key] = (confirmed + n, justified) if verdict == "shirking_confirmed" else (confirmed, justified + n)
    return out


def inbox_escalations(s: Session, unit: str | None, since: datetime, limit: int = 100) -> list[SignalRow]:
    """Escalated items of the unit (every unit: None) since a moment, newest first."""
    q = select(SignalRow).where(SignalRow.kind == "escalated", SignalRow.at >= since)
    if unit is not None:
        q = q.where(SignalRow.unit == unit)
    return list(s.scalars(q.order_by(SignalRow.id.desc()).limit(limit)))


def directory_names(directory: Directory, usernames: list[str]) -> list[str]:
    return [directory.officers[u].name if u in directory.officers else u for u in usernames]


# -- verification ----------------------------------------------------------------------------------

def verify_accountability(s: Session) -> list[dict[str, Any]]:
    """Rebuild every review and absence from the audit log and compare with the tables; an entry whose
    content no longer matches its hash is named by its review (or absence) and its type."""
    from .absences import fold_absence

    findings: list[dict[str, Any]] = []
    built: dict[int, dict[str, Any]] = {}
    absences: dict[int, dict[str, Any]] = {}
    for e in s.scalars(select(AuditEntryRow).where(AuditEntryRow.type.in_((*TYPES, "absence_recorded")))
                       .order_by(AuditEntryRow.seq)):
        payload = json.loads(e.payload)
        what = f"review {payload.get('review')}" if e.type in TYPES else f"absence {payload.get('absence')}"
        if audit.entry_hash(e.prev_hash, e.seq, e.type, e.actor, e.unit, e.at, e.payload) != e.hash:
            findings.append({"layer": "accountability", "seq": e.seq,
                             "message": f"{what}: event {e.type} (audit entry {e.seq}) was altered: its content "
                                        "does not match its hash"})
            continue
        try:
            event = parse_audit(e.type, e.payload)
            if isinstance(event, AbsenceRecorded):
                absences[event.absence] = fold_absence(e.seq, e.actor, e.at, event)
            elif isinstance(event, ReviewEvent):
                built[event.review] = fold(built.get(event.review), e.seq, e.actor, e.at, event)
            else:
                raise ValueError(f"{e.type} is not an entry of a review")
        except (KeyError, TypeError, ValueError) as err:
            findings.append({"layer": "accountability", "seq": e.seq,
                             "message": f"{what}: event {e.type} (audit entry {e.seq}) cannot be replayed: {err}"})
    findings += _compare("review", built, {r.id: row_values(r) for r in s.scalars(select(ReviewRow))})
    from .absences import absence_values
    from .store import AbsenceRow

    findings += _compare("absence", absences, {a.id: absence_values(a) for a in s.scalars(select(AbsenceRow))})
    return findings


def _compare(name: str, replayed: dict[int, dict[str, Any]], stored: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for n in sorted(set(replayed) | set(stored)):
        a, b = replayed.get(n), stored.get(n)
        if a is None or b is None:
            out.append({"layer": "accountability", "message": f"{name} {n}: "
                        + ("in the table but not in the log" if a is None else "in the log but not in the table")})
            continue
        diff = sorted(k for k in a if a[k] != b.get(k))
        if diff:
            out.append({"layer": "accountability",
                        "message": f"{name} {n}: the table differs from the log in {', '.join(diff)}"})
    return out
