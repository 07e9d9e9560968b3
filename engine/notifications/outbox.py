"""The outbox: which events cause a message to the applicant, and the life of each message row.

`enqueue` runs inside the command's transaction, right after its events are appended (one call in
engine/runtime/commands.py), so the row commits or rolls back with the event: a refused command leaves
none, a committed one cannot lose its message. It decides from the events alone:

- `opened` → received;  `supplement_requested` → supplement (the papers asked for);
- `apologised` → apology (the new date);  `completed` with `refused` → refused (the reason);
- any event whose new work items include a hand-back step (`handback` property) → result_ready.

Nothing is written unless the applicant consented at reception (`applicant.notify`, recorded in the
`opened` event): one row per consented channel with an address.

A row then moves pending → sending → sent | failed (engine/notifications/sender.py). `sending` is a
claim with a lease: a sender killed mid-send leaves its row `sending`, and once the lease ends another
claim sends it again with the same idempotency key, which the SMS gateway (and a mail server reading
the Message-ID) uses to drop the repeat. Every change is a compare-and-set on (state, attempts), so a
sender that outlived its lease cannot overwrite what a later claim did.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Connection, Table, and_, insert, or_, select, update

from ..eventlog import SPIFF_EVENTS
from ..store.db import Database
from ..store.notifications import NotificationRow

if TYPE_CHECKING:
    from ..definitions.model import ProcedureMeta
    from ..eventlog import PendingEvent
    from ..runtime.state import DossierState

N = cast(Table, NotificationRow.__table__)
CHANNELS = ("email", "sms")
ADDRESS = {"email": "email", "sms": "phone"}   # the applicant field each channel sends to
# the events that can cause one: those that say so, and those that open steps (SPIFF_EVENTS: a hand-back step)
TRIGGERS = frozenset({"supplement_requested", "apologised", *SPIFF_EVENTS})
INSERT = insert(N)


def consented(applicant: dict[str, Any]) -> list[tuple[str, str]]:
    """(channel, address) the applicant agreed to be told through; [] without consent."""
    notify = applicant.get("notify")
    if not isinstance(notify, dict) or notify.get("consent") is not True:
        return []
    out = []
    for channel in notify.get("channels") or ():
        address = str(applicant.get(ADDRESS.get(str(channel), "")) or "").strip()
        if channel == "sms":  # as the desk wrote it ("0905 123 456"), as a gateway takes it
            address = "".join(ch for ch in address if ch.isdigit() or ch == "+")
        if channel in CHANNELS and address:
            out.append((str(channel), address))
    return out


def check_notify(applicant: dict[str, Any]) -> list[str]:
    """Problems of `applicant.notify` ({consent: bool, channels: [email|sms]}): each channel needs its
    address, so consent is never recorded for a channel nobody can be reached on."""
    notify = applicant.get("notify")
    if notify is None:
        return []
    if not isinstance(notify, dict) or set(notify) - {"consent", "channels"} or \
            not isinstance(notify.get("consent"), bool):
        return ["applicant.notify is {consent: true|false, channels: [email, sms]}"]
    channels = notify.get("channels", [])
    if not isinstance(channels, list) or any(c not in CHANNELS for c in channels) or \
            len(set(channels)) != len(channels):
        return ["applicant.notify.channels: a list of email and/or sms, each once"]
    problems = []
    for channel in channels:
        if not str(applicant.get(ADDRESS[channel]) or "").strip():
            problems.append(f"applicant.notify: {channel} needs applicant.{ADDRESS[channel]}")
    if notify["consent"] and not channels:
        problems.append("applicant.notify: consent needs at least one channel")
    return problems


def _handback(meta: ProcedureMeta | None, step: str) -> bool:
    node = meta.nodes.get(step) if meta is not None else None
    return node is not None and node.properties.get("handback") == "true"


def cause(event: PendingEvent, meta: ProcedureMeta | None, state: DossierState) -> tuple[str, dict[str, Any]] | None:
    """The notification an event causes (kind, the facts its text needs), or None."""
    p, fx = event.payload, event.payload.get("fx") or {}
    if event.type == "opened":
        return "received", {"due": (fx.get("dossier") or {}).get("due_at") or
                            (state.due_at.isoformat() if state.due_at else None)}
    if event.type == "supplement_requested":
        return "supplement", {"asked": str(p.get("reason", ""))}
    if event.type == "apologised":
        return "apology", {"old_due": p.get("old_due"), "new_due": p.get("new_due"), "reason": p.get("reason", "")}
    if event.type == "completed" and p.get("refused"):
        return "refused", {"reason": str(p.get("reason", ""))}
    if any(_handback(meta, str(new.get("step", ""))) for new in fx.get("new", ())):
        return "result_ready", {}
    return None


def idempotency_key(code: str, seq: int, channel: str) -> str:
    """The same on every attempt of one (event, channel); readable, and valid in a Message-ID."""
    return f"{code}.{seq}.{channel}"


def enqueue(conn: Connection, state: DossierState, events: Sequence[PendingEvent],
            meta: ProcedureMeta | None = None) -> int:
    """Outbox rows for the events just appended to `state` (its `last_seq` is the last of them), in the
    command's own transaction. Returns how many."""
    if not any(ev.type in TRIGGERS for ev in events):
        return 0
    channels = consented(state.applicant)
    if not channels:
        return 0
    first = state.last_seq - len(events) + 1
    rows: list[dict[str, Any]] = []
    for offset, ev in enumerate(events):
        if ev.type not in TRIGGERS:
            continue
        found = cause(ev, meta, state)
        if found is None:
            continue
        kind, params = found
        seq = first + offset
        for channel, address in channels:
            rows.append({"dossier_id": state.id, "seq": seq, "code": state.code, "desk_unit": state.desk_unit or "",
                         "kind": kind, "channel": channel, "address": address[:200],
                         "params": json.dumps(params, ensure_ascii=False, sort_keys=True),
                         "idem_key": idempotency_key(state.code, seq, channel), "state": "pending", "attempts": 0,
                         "next_at": ev.at, "lease_until": None, "last_error": None, "created_at": ev.at,
                         "sent_at": None})
    if rows:
        conn.execute(INSERT, rows)
    return len(rows)


# -- the sender's side ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Claimed:
    id: int
    dossier_id: int
    seq: int
    code: str
    desk_unit: str
    kind: str
    channel: str
    address: str
    params: dict[str, Any]
    idem_key: str
    attempts: int           # counting this one


def claim_next(db: Database, now: datetime, lease_seconds: float) -> Claimed | None:
    """Claim the next due row (pending and due, or sending with its lease over), in a transaction of
    its own; None when nothing is due. A row another sender claimed first is skipped."""
    due = or_(and_(N.c.state == "pending", N.c.next_at <= now),
              and_(N.c.state == "sending", N.c.lease_until <= now))
    for _ in range(20):
        with db.transaction() as conn:
            row = conn.execute(select(N).where(due).order_by(N.c.next_at, N.c.id).limit(1)).first()
            if row is None:
                return None
            done = conn.execute(update(N).where(N.c.id == row.id, N.c.state == row.state,
                                                N.c.attempts == row.attempts)
                                .values(state="sending", attempts=row.attempts + 1,
                                        lease_until=now + timedelta(seconds=lease_seconds)))
            if done.rowcount == 1:
                return Claimed(row.id, row.dossier_id, row.seq, row.code, row.desk_unit, row.kind, row.channel,
                               row.address, json.loads(row.params), row.idem_key, row.attempts + 1)
    return None


def _finish(db: Database, claimed: Claimed, **values: Any) -> bool:
    with db.transaction() as conn:
        done = conn.execute(update(N).where(N.c.id == claimed.id, N.c.state == "sending",
                                            N.c.attempts == claimed.attempts).values(**values))
        return done.rowcount == 1


def mark_sent(db: Database, claimed: Claimed, now: datetime) -> bool:
    return _finish(db, claimed, state="sent", sent_at=now, lease_until=None, last_error=None)


def mark_failed(db: Database, claimed: Claimed, error: str) -> bool:
    return _finish(db, claimed, state="failed", lease_until=None, last_error=error[:500])


def mark_skipped(db: Database, claimed: Claimed, error: str) -> bool:
    return _finish(db, claimed, state="skipped", lease_until=None, last_error=error[:500])


def backoff(attempts: int, base_seconds: float, cap_seconds: float = 3600.0) -> float:
    """Seconds before the next try after `attempts` tries: base · 2^(attempts−1), at most `cap`."""
    return float(min(cap_seconds, base_seconds * 2 ** max(attempts - 1, 0)))


def mark_retry(db: Database, claimed: Claimed, error: str, now: datetime, max_attempts: int,
               base_seconds: float) -> bool:
    """Back to pending after an exponential wait, or failed once `max_attempts` tries are spent."""
    if claimed.attempts >= max_attempts:
        return mark_failed(db, claimed, error)
    return _finish(db, claimed, state="pending", lease_until=None, last_error=error[:500],
                   next_at=now + timedelta(seconds=backoff(claimed.attempts, base_seconds)))


@dataclass(frozen=True)
class Trouble:
    """A notification the desk should know about: failed, or still not sent long after its event."""

    id: int
    dossier_id: int
    code: str
    kind: str
    channel: str
    state: str
    attempts: int
    created_at: datetime
    last_error: str
    sent_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "dossier_id": self.dossier_id, "code": self.code, "kind": self.kind,
                "channel": self.channel, "state": self.state, "attempts": self.attempts,
                "created_at": self.created_at, "last_error": self.last_error}


def troubles(db: Database, desk_unit: str | None, now: datetime, late_minutes: float,
             limit: int = 200) -> list[Trouble]:
    """Failed notifications and those pending or sending for more than `late_minutes`, newest first;
    of one desk (`desk_unit`) or of all. Never the address: the desk has it in the dossier."""
    late = now - timedelta(minutes=late_minutes)
    cond = or_(N.c.state == "failed", and_(N.c.state.in_(("pending", "sending")), N.c.created_at <= late))
    stmt = select(N.c.id, N.c.dossier_id, N.c.code, N.c.kind, N.c.channel, N.c.state, N.c.attempts,
                  N.c.created_at, N.c.last_error).where(cond)
    if desk_unit is not None:
        stmt = stmt.where(N.c.desk_unit == desk_unit)
    with db.read() as s:
        rows = s.execute(stmt.order_by(N.c.created_at.desc(), N.c.id.desc()).limit(limit)).all()
    return [Trouble(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8] or "") for r in rows]


def of_dossier(db: Database, dossier_id: int) -> list[Trouble]:
    """Every notification of one dossier, in the order of its events (the dossier page)."""
    with db.read() as s:
        rows = s.execute(select(N.c.id, N.c.dossier_id, N.c.code, N.c.kind, N.c.channel, N.c.state, N.c.attempts,
                                N.c.created_at, N.c.last_error, N.c.sent_at)
                         .where(N.c.dossier_id == dossier_id).order_by(N.c.seq, N.c.channel)).all()
    return [Trouble(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8] or "", r[9]) for r in rows]
