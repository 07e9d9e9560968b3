"""Who a late work item's delay belongs to: the applicant, another agency, the officer or unit that
held it, or an incident of the procedure — attributed from the events, per officer and per unit.

A work item is *late* here when it took (or, open, has taken) more working time than its step's own
limit, counted from its creation: the promise made when it opened. Supplement pauses and paused steps
move the engine's deadlines later, so the KPI's on-time rate already excuses them; this report says
how much of the time the citizen waited beyond the promise each cause took. Over the item's life
[created, closed (or now)], each working minute goes to one bucket, first match wins:

1. `applicant`: the dossier was waiting for the applicant's supplement (`supplement_requested` →
   `supplement_received`, or the dossier's end);
2. `procedure_incident`: the procedure version had an incident open on the dossier
   (`procedure_incident` → `incident_resolved`, or the next event that moves the workflow);
3. `other_agency`: the item is itself a step whose clock is paused (tax and other agencies' steps),
   or such a step of the dossier was open at the same time;
4. `officer_unit`: the rest, the time the officer or unit held it.

The delay (working time used − the step's limit) is then split: the holder is charged what they used
beyond the limit (`officer_unit` minutes − limit, if positive, at most the delay); the remainder is
shared among the other buckets in proportion to their minutes. When the holder used more than the
limit this is exact: delay = applicant + incident + other agency + the holder's excess.

Computed on demand from `kpi_item` (done items), `work_item` (open items past their deadline) and the
events of those dossiers that open and close pauses and incidents: a page of one unit or a month of a
province is a few indexed queries and some arithmetic, no workflow is deserialised.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .calendar import WorkingCalendar
from .events import Claimed, Substituted, Transferred, item_of, parse
from .store import CaseEventRow, DossierRow, ItemFactRow, WorkItemRow
from .store.models import ITEM_OPEN_SQL, partial_predicate

BUCKETS = ("applicant", "other_agency", "officer_unit", "procedure_incident")
PAUSE_START, PAUSE_END = "supplement_requested", "supplement_received"
INCIDENT_START = "procedure_incident"
INCIDENT_END = ("incident_resolved", "opened", "completed", "returned", "timer_fired")
ENDINGS = ("stopped", "cancelled")
CHUNK = 500

Interval = tuple[datetime, datetime]


@dataclass
class LateItem:
    work_item_id: int
    dossier_id: int
    step: str
    unit: str | None
    officer: str | None
    created_at: datetime
    end: datetime
    sla_minutes: int
    used_minutes: int
    paused_clock: bool
    ordinal: int = 0
    minutes: dict[str, int] = field(default_factory=dict)  # per bucket, of the item's life
    delay: dict[str, int] = field(default_factory=dict)  # per bucket, of the delay
    charged: dict[str | None, int] = field(default_factory=dict)  # the holders' part, per officer (None: unit)

    @property
    def delay_minutes(self) -> int:
        return max(0, self.used_minutes - self.sla_minutes)


@dataclass
class CauseRow:
    key: str
    late_items: int = 0
    delay_minutes: int = 0
    minutes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BUCKETS, 0))

    @property
    def shares(self) -> dict[str, float | None]:
        total = sum(self.minutes.values())
        return {b: (self.minutes[b] / total if total else None) for b in BUCKETS}

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "late_items": self.late_items, "delay_minutes": self.delay_minutes,
                **{f"{b}_minutes": self.minutes[b] for b in BUCKETS},
                **{f"{b}_share": s for b, s in self.shares.items()}}


# -- the attribution of one item (pure) ------------------------------------------------------------

def _overlap(calendar: WorkingCalendar, spans: Iterable[Interval], lo: datetime, hi: datetime,
             taken: list[Interval]) -> tuple[int, list[Interval]]:
    """Working minutes of `spans` within [lo, hi] not already in `taken`; and the new pieces taken."""
    pieces: list[Interval] = []
    for a, b in spans:
        a, b = max(a, lo), min(b, hi)
        if a >= b:
            continue
        cut = [(a, b)]
        for ta, tb in taken + pieces:
            nxt: list[Interval] = []
            for ca, cb in cut:
                if tb <= ca or ta >= cb:
                    nxt.append((ca, cb))
                    continue
                if ca < ta:
                    nxt.append((ca, ta))
                if tb < cb:
                    nxt.append((tb, cb))
            cut = nxt
        pieces += cut
    return sum(calendar.between(a, b) for a, b in pieces), pieces


def attribute(calendar: WorkingCalendar, item: LateItem, pauses: list[Interval], incidents: list[Interval],
              paused_steps: list[Interval], holders: list[tuple[datetime, str | None]] | None = None) -> LateItem:
    lo, hi = item.created_at, item.end
    taken: list[Interval] = []
    applicant, got = _overlap(calendar, pauses, lo, hi, taken)
    taken += got
    incident, got = _overlap(calendar, incidents, lo, hi, taken)
    taken += got
    if item.paused_clock:
        other = max(0, item.used_minutes - applicant - incident)
    else:
        other, got = _overlap(calendar, paused_steps, lo, hi, taken)
        taken += got
    held = max(0, item.used_minutes - applicant - incident - other)
    item.minutes = {"applicant": applicant, "other_agency": other, "officer_unit": held,
                    "procedure_incident": incident}
    delay = item.delay_minutes
    own = min(delay, max(0, held - item.sla_minutes)) if not item.paused_clock else 0
    rest = delay - own
    excused = {"applicant": applicant, "other_agency": other, "procedure_incident": incident}
    total = sum(excused.values())
    share = {b: (rest * m // total if total else 0) for b, m in excused.items()}
    if total:  # the remainder of the integer division goes to the largest bucket, so the parts add up
        share[max(excused, key=lambda b: excused[b])] += rest - sum(share.values())
    else:
        own += rest
    item.delay = {"applicant": share["applicant"], "other_agency": share["other_agency"], "officer_unit": own,
                  "procedure_incident": share["procedure_incident"]}
    item.charged = _charge(calendar, item, holders or [(lo, item.officer)], taken, own)
    return item


def _charge(calendar: WorkingCalendar, item: LateItem, holders: list[tuple[datetime, str | None]],
            taken: list[Interval], own: int) -> dict[str | None, int]:
    """The holders' part of the delay, in time order: the step's limit is used up first, and each
    working minute a holder keeps the item beyond it is theirs (an absent officer's idle days stay
    theirs, not their deputy's). `holders`: (since, officer or None for the unit's pool), in order."""
    out: dict[str | None, int] = {}
    if own <= 0:
        return out
    # time in a unit's pool is the next taker's (officers usually take an item by completing it), or,
    # if nobody has taken it yet, the unit's
    resolved: list[tuple[datetime, str | None]] = []
    taker = item.officer
    for since, who in reversed(holders):
        taker = who if who is not None else taker
        resolved.append((since, taker))
    holders = resolved[::-1]
    allowed = item.sla_minutes
    bounds = [*(t for t, _ in holders[1:]), item.end]
    for (since, who), until in zip(holders, bounds, strict=True):
        held, _pieces = _overlap(calendar, [(since, until)], item.created_at, item.end, taken)
        used = min(allowed, held)
        allowed -= used
        beyond = held - used
        if beyond > 0:
            out[who] = out.get(who, 0) + beyond
    total = sum(out.values())
    if total != own and total:  # rounding of the working-time pieces: scale to the holder part exactly
        scaled = {who: m * own // total for who, m in out.items()}
        scaled[max(out, key=lambda w: out[w])] += own - sum(scaled.values())
        out = scaled
    elif not total:
        out = {item.officer: own}
    return out


# -- reading the facts -----------------------------------------------------------------------------

def late_items(s: Session, calendar: WorkingCalendar, start: datetime, end: datetime, now: datetime,
               unit: str | None = None) -> list[LateItem]:
    F = ItemFactRow
    q = select(F.work_item_id, F.dossier_id, F.step, F.unit, F.officer, F.created_at, F.done_at, F.sla_minutes,
               F.used_minutes).where(F.done_at >= start, F.done_at < end, F.used_minutes > F.sla_minutes)
    if unit is not None:
        q = q.where(F.unit == unit)
    items = [LateItem(int(r[0]), int(r[1]), r[2], r[3], r[4], r[5], r[6], int(r[7]), int(r[8]), False)
             for r in s.execute(q)]
    W = WorkItemRow
    ref = min(end, now)
    q2 = select(W.id, W.dossier_id, W.step, W.unit, W.assignee, W.created_at, W.sla, W.clock, W.ordinal).where(
        partial_predicate("work_item", ITEM_OPEN_SQL), W.due_at < ref)
    if unit is not None:
        q2 = q2.where(W.unit == unit)
    for r in s.execute(q2):
        used = calendar.between(r[5], ref)
        sla = calendar.minutes(r[6])
        if used > sla:
            items.append(LateItem(int(r[0]), int(r[1]), r[2], r[3], r[4], r[5], ref, sla, used, r[7] == "paused",
                                  int(r[8])))
    if items:
        _paused_of_facts(s, items)
    return items


def _paused_of_facts(s: Session, items: list[LateItem]) -> None:
    """Done items: their ordinal, and whether their step's clock is paused (the fact row keeps neither)."""
    done = [i.work_item_id for i in items if not i.ordinal]
    found: dict[int, tuple[str, int]] = {}
    for n in range(0, len(done), CHUNK):
        chunk = done[n:n + CHUNK]
        found.update((int(r[0]), (r[1], int(r[2]))) for r in s.execute(
            select(WorkItemRow.id, WorkItemRow.clock, WorkItemRow.ordinal).where(WorkItemRow.id.in_(chunk))))
    for i in items:
        if i.work_item_id in found:
            clock, i.ordinal = found[i.work_item_id]
            i.paused_clock = i.paused_clock or clock == "paused"


def _spans(s: Session, dossier_ids: list[int], now: datetime) -> dict[int, tuple[list[Interval], list[Interval],
                                                                                  list[Interval]]]:
    """Per dossier: supplement pauses, incidents, and paused-clock steps, as intervals."""
    out: dict[int, tuple[list[Interval], list[Interval], list[Interval]]] = {d: ([], [], []) for d in dossier_ids}
    kinds = (PAUSE_START, PAUSE_END, INCIDENT_START, *INCIDENT_END, *ENDINGS)
    for n in range(0, len(dossier_ids), CHUNK):
        ids = dossier_ids[n:n + CHUNK]
        ends = {int(r[0]): r[1] for r in s.execute(select(DossierRow.id, DossierRow.finished_at)
                                                   .where(DossierRow.id.in_(ids)))}
        open_pause: dict[int, datetime] = {}
        open_incident: dict[int, datetime] = {}
        for did, etype, at in s.execute(select(CaseEventRow.dossier_id, CaseEventRow.type, CaseEventRow.at).where(
                CaseEventRow.dossier_id.in_(ids), CaseEventRow.type.in_(kinds))
                .order_by(CaseEventRow.dossier_id, CaseEventRow.seq)):
            pauses, incidents, _ = out[did]
            if etype == PAUSE_START:
                open_pause.setdefault(did, at)
            elif etype in (PAUSE_END, *ENDINGS) and did in open_pause:
                pauses.append((open_pause.pop(did), at))
            if etype == INCIDENT_START:
                open_incident.setdefault(did, at)
            elif (etype in INCIDENT_END or etype in ENDINGS) and did in open_incident:
                incidents.append((open_incident.pop(did), at))
        for did, since in open_pause.items():
            out[did][0].append((since, ends.get(did) or now))
        for did, since in open_incident.items():
            out[did][1].append((since, ends.get(did) or now))
        for did, created, done in s.execute(select(WorkItemRow.dossier_id, WorkItemRow.created_at, WorkItemRow.done_at)
                                            .where(WorkItemRow.dossier_id.in_(ids), WorkItemRow.clock == "paused")):
            out[did][2].append((created, done or now))
    return out


HOLDER_EVENTS = ("claimed", "released", "transferred", "substituted")


def _holders(s: Session, items: list[LateItem]) -> dict[tuple[int, int], list[tuple[datetime, str | None]]]:
    """Per (dossier, item ordinal): who held it from when: claimed (the claimant), released (the
    pool), transferred (the officer it was sent to, or the new unit's pool), substituted (the deputy)."""
    wanted = {(i.dossier_id, i.ordinal) for i in items}
    ids = sorted({d for d, _ in wanted})
    out: dict[tuple[int, int], list[tuple[datetime, str | None]]] = {}
    for n in range(0, len(ids), CHUNK):
        for did, etype, actor, at, body in s.execute(
                select(CaseEventRow.dossier_id, CaseEventRow.type, CaseEventRow.actor, CaseEventRow.at,
                       CaseEventRow.payload).where(CaseEventRow.dossier_id.in_(ids[n:n + CHUNK]),
                                                   CaseEventRow.type.in_(HOLDER_EVENTS))
                .order_by(CaseEventRow.dossier_id, CaseEventRow.seq)):
            event = parse(etype, body)
            key = (int(did), item_of(event) or 0)
            if key not in wanted:
                continue
            who: str | None = None  # released: the pool
            match event:
                case Claimed():
                    who = actor
                case Transferred():
                    who = event.to_officer
                case Substituted():
                    who = event.to
            out.setdefault(key, []).append((at, who))
    return out


def delay_causes(s: Session, calendar: WorkingCalendar, group_by: str, start: datetime, end: datetime,
                 now: datetime, unit: str | None = None) -> tuple[list[CauseRow], list[LateItem]]:
    """Per officer (who closed or holds the item) or unit (that owns it): late items, their delay in
    working minutes, and the minutes and share of each cause."""
    if group_by not in ("officer", "unit"):
        raise ValueError("group_by must be officer or unit")
    items = late_items(s, calendar, start, end, now, unit)
    spans = _spans(s, sorted({i.dossier_id for i in items}), min(end, now))
    holders = _holders(s, items)
    rows: dict[str, CauseRow] = {}
    for item in items:
        pauses, incidents, paused_steps = spans[item.dossier_id]
        others = [span for span in paused_steps if not item.paused_clock]
        changes = holders.get((item.dossier_id, item.ordinal), [])
        attribute(calendar, item, pauses, incidents, others, [(item.created_at, None), *changes])
        key = (item.officer if group_by == "officer" else item.unit) or "-"
        row = rows.setdefault(key, CauseRow(key))
        row.late_items += 1
        for b in BUCKETS:
            if b != "officer_unit" or group_by == "unit":
                row.minutes[b] += item.delay[b]
        if group_by == "unit":
            continue
        for who, minutes in item.charged.items():  # each holder's own part, in their row
            holder = rows.setdefault(who or "-", CauseRow(who or "-"))
            holder.minutes["officer_unit"] += minutes
            if holder is not row:
                holder.late_items += 1
    for row in rows.values():
        row.delay_minutes = sum(row.minutes.values())
    return sorted(rows.values(), key=lambda r: r.key), items
