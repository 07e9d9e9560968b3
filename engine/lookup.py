"""What a citizen may learn about their dossier without signing in, and how they prove it is theirs.

Proof: the dossier code plus the last four digits of the applicant's identity number, or the token
printed in the receipt's QR code (an HMAC of the code under the installation's lookup key, so a slip
renders to the same bytes every time and nobody can make a token for another code). A wrong code and
wrong digits get the same answer (`None`): nothing tells which was wrong.

What it shows: the procedure, received date, appointment (and the apology's new date), the status in
plain words, on time or late, and the *units* holding the dossier. Never identity numbers, addresses,
phones, or officers' names (tests/api/test_lookup.py compares every output with the dossier's personal
fields).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .events import Apologised, Completed, DocumentAdded, Rated, SlipIssued, SupplementRequested, parse, parse_shown
from .org import Directory
from .search import digits
from .store import CaseEventRow, DossierRow, ProcedureVersionRow, WorkItemRow
from .waiting import awaited, node_table

TOKEN_CHARS = 16


def lookup_key(var_dir: Path, given: str = "") -> bytes:
    """The installation's lookup key: `given` (LANDFLOW_LOOKUP_KEY), else a random key kept in
    <var dir>/keys/lookup.key (mode 0600), made by the first process that needs it. The engine reads it
    too (the notifications' links), so it lives here, not in api/."""
    if given:
        return given.encode()
    path = var_dir / "keys" / "lookup.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it meanwhile
            pass
        else:
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="ascii").strip().encode()


def lookup_address(base_url: str, code: str, token: str | None = None) -> str:
    """The lookup page of a dossier; with the receipt's token, it opens without typing anything."""
    tail = f"&t={token}" if token else ""
    return f"{base_url.rstrip('/')}/tra-cuu?ma={code}{tail}"


def lookup_token(key: bytes, code: str) -> str:
    """The receipt's QR token of a dossier code: 16 base32 characters (80 bits) of HMAC-SHA256."""
    mac = hmac.new(key, b"lookup:" + code.encode(), hashlib.sha256).digest()
    return base64.b32encode(mac).decode()[:TOKEN_CHARS].lower()


@dataclass(frozen=True)
class PublicPaper:
    """A slip issued or a result added: what it is, when, and its SHA-256 (the key to its proof); never the
    file's name (it may name the applicant)."""

    event: str          # slip_issued | document_added
    kind: str           # receipt, supplement, … | result
    number: str
    at: datetime
    sha256: str

    def as_dict(self) -> dict[str, Any]:
        return {"event": self.event, "kind": self.kind, "number": self.number, "at": self.at, "sha256": self.sha256}


def public_papers(session: Session, dossier_id: int) -> tuple[PublicPaper, ...]:
    rows = session.execute(select(CaseEventRow.type, CaseEventRow.at, CaseEventRow.payload).where(
        CaseEventRow.dossier_id == dossier_id, CaseEventRow.type.in_(("slip_issued", "document_added")))
        .order_by(CaseEventRow.seq)).all()
    out = []
    for etype, at, payload in rows:
        p = parse_shown(etype, payload)  # the public page: a malformed event is left out, not a failure
        if isinstance(p, SlipIssued):
            out.append(PublicPaper(etype, p.slip, p.number, at, p.sha256))
        elif isinstance(p, DocumentAdded) and p.kind_ == "result":
            out.append(PublicPaper(etype, "result", "", at, p.sha256))
    return tuple(out)


@dataclass(frozen=True)
class PublicStatus:
    code: str
    procedure: str
    received_at: datetime
    due_at: datetime | None
    first_due_at: datetime | None          # the appointment before an apology moved it, else None
    state: str                             # processing | awaiting_supplement | result_ready | handed_back |
    #                                        refused | stopped | cancelled
    late: bool | None                      # None: neither (stopped, cancelled)
    units: tuple[str, ...] = ()            # who holds it now (names of units, never officers)
    asked: str = ""                        # the papers asked for (awaiting_supplement)
    reason: str = ""                       # why it was refused or returned
    collect_at: str = ""                   # where to collect the result
    finished_at: datetime | None = None
    can_rate: bool = False
    rated: str | None = None
    papers: tuple[PublicPaper, ...] = ()   # the slips issued and results added: each can be proven genuine
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "procedure": self.procedure, "received_at": self.received_at,
                "due_at": self.due_at, "first_due_at": self.first_due_at, "state": self.state, "late": self.late,
                "units": list(self.units), "asked": self.asked, "reason": self.reason,
                "collect_at": self.collect_at, "finished_at": self.finished_at, "can_rate": self.can_rate,
                "rated": self.rated, "papers": [p.as_dict() for p in self.papers]}


def find(session: Session, code: str, last4: str | None = None, token: str | None = None,
         key: bytes = b"") -> DossierRow | None:
    """The dossier, when the proof holds; None for a wrong code and a wrong proof alike."""
    row = session.scalar(select(DossierRow).where(DossierRow.code == code.strip()[:64]))
    expected_digits = digits(json.loads(row.applicant or "{}").get("id_number"))[-4:] if row is not None else ""
    if token:
        good = bool(key) and hmac.compare_digest(lookup_token(key, code.strip()).encode(),
                                                 token.strip().lower()[:TOKEN_CHARS].encode())
    else:
        given = digits(last4)[-4:]
        good = len(given) == 4 and len(expected_digits) == 4 and hmac.compare_digest(given.encode(),
                                                                                    expected_digits.encode())
    return row if row is not None and good else None


def status(session: Session, row: DossierRow, directory: Directory, now: datetime) -> PublicStatus:
    events = session.execute(select(CaseEventRow.type, CaseEventRow.payload).where(
        CaseEventRow.dossier_id == row.id,
        CaseEventRow.type.in_(("supplement_requested", "apologised", "completed", "returned", "rated")))
        .order_by(CaseEventRow.seq)).all()
    history = [parse(t, p) for t, p in events]
    name, meta = session.execute(select(ProcedureVersionRow.name, ProcedureVersionRow.meta)
                                 .where(ProcedureVersionRow.id == row.procedure_version_id)).one()
    handback_steps = {n[0] for n in json.loads(meta).get("nodes", [])
                      if len(n) > 4 and isinstance(n[4], dict) and n[4].get("handback") == "true"}
    items = session.execute(select(WorkItemRow.step, WorkItemRow.unit).where(
        WorkItemRow.dossier_id == row.id, WorkItemRow.state.in_(("ready", "claimed")))).all()
    units = tuple(dict.fromkeys(directory.units[u].name if u in directory.units else u for _, u in items if u))
    if not items:  # waiting for another agency's answer (the tax office): that agency holds it
        units = tuple(a.unit for a in awaited(row.awaiting, row.status, row.commune, row.desk_unit,
                                              node_table(json.loads(meta).get("nodes", [])), directory) if a.unit)
    desk = directory.units.get(row.desk_unit)
    collect = f"Bộ phận Một cửa {desk.name}" if desk is not None else row.desk_unit
    first_due = next((datetime.fromisoformat(e.old_due) for e in history
                      if isinstance(e, Apologised) and e.old_due), None)
    refused = next((e for e in reversed(history) if isinstance(e, Completed) and e.refused), None)
    rated = next((e.rating for e in history if isinstance(e, Rated)), None)
    asked = ""
    if row.status == "awaiting_supplement":
        asked = next((e.reason for e in reversed(history) if isinstance(e, SupplementRequested)), "")
        state = "awaiting_supplement"
    elif row.status in ("stopped", "cancelled"):
        state = row.status
    elif row.status == "done":
        state = "refused" if refused is not None else "handed_back"
    elif any(step in handback_steps for step, _ in items):
        state = "result_ready"
    else:
        state = "processing"
    due = row.due_at
    if state in ("stopped", "cancelled"):
        late: bool | None = None
    elif row.finished_at is not None:
        late = due is not None and row.finished_at > due
    else:
        late = due is not None and now > due
    return PublicStatus(
        code=row.code, procedure=name or row.procedure, received_at=row.received_at, due_at=due,
        first_due_at=first_due, state=state, late=late, units=units if state == "processing" else (),
        asked=asked, reason=(refused.reason or "") if refused else "",
        collect_at=collect if state in ("result_ready", "handed_back") else "", finished_at=row.finished_at,
        can_rate=state == "handed_back" and rated is None, rated=rated, papers=public_papers(session, row.id))
