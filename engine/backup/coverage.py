"""What a (restored) database holds, told by the signed checkpoints: `landflow verify --all` prints it.

From the database alone: the last checkpoint it holds (its number, instant, events, dossiers), and
the events after it that no checkpoint covers yet (per dossier: the seqs beyond the last signed head).
From the copies outside the database (engine/backup/copies.py), checked with the public key: the
checkpoints signed after the database's last one, and every dossier whose signed head the database no
longer reaches (the checkpoint says 14 events for dossier X, the database holds 11: events 12–14 are
missing), or reaches with another hash. Those are findings: acknowledged acts a restore did not bring
back, named dossier by dossier.

Every copy's signature and its link to the one before are checked; the Merkle root over the leaves is
recomputed at the database's last checkpoint and at every copy after it (the heads compared below).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from ..checkpoints import GENESIS, merkle_root
from ..signatures import SignatureProblem, key_id, load_public_key
from ..store import CaseEventRow, CheckpointHeadRow, CheckpointRow, DossierRow
from .copies import CheckpointCopy, read_copies

H, D, E = CheckpointHeadRow, DossierRow, CaseEventRow
SHOWN = 20  # missing dossiers named one by one in the findings; the rest counted


@dataclass
class Coverage:
    events: int = 0
    dossiers: int = 0
    last_checkpoint: dict[str, Any] | None = None  # id, at, events, dossiers
    uncovered_events: int = 0
    uncovered_dossiers: int = 0
    copies_folder: str | None = None
    copies: int = 0  # copies checked and accepted
    last_copy: dict[str, Any] | None = None  # id, at
    missing_events: int = 0
    missing_dossiers: list[dict[str, Any]] = field(default_factory=list)  # dossier, code, signed, held, checkpoint
    findings: list[dict[str, Any]] = field(default_factory=list)  # layer "copies" or "missing"

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("events", "dossiers", "last_checkpoint", "uncovered_events",
                                              "uncovered_dossiers", "copies_folder", "copies", "last_copy",
                                              "missing_events", "missing_dossiers", "findings")}

    def lines(self) -> list[str]:
        out = [f"the database holds {self.events} event(s) in {self.dossiers} dossier(s)"]
        cp = self.last_checkpoint
        if cp is None:
            out.append("no checkpoint in the database: nothing of it is covered by a signature")
        else:
            out.append(f"last checkpoint covered: {cp['id']}, signed at {cp['at']}, {cp['events']} event(s) in "
                       f"{cp['dossiers']} dossier(s)")
        out.append(f"not covered by any checkpoint: {self.uncovered_events} event(s) in "
                   f"{self.uncovered_dossiers} dossier(s)")
        if self.copies_folder is not None:
            if self.last_copy is None:
                out.append(f"checkpoint copies: none in {self.copies_folder}")
            else:
                out.append(f"checkpoint copies: {self.copies} checked in {self.copies_folder}, the last "
                           f"{self.last_copy['id']} signed at {self.last_copy['at']}")
            if self.missing_dossiers:
                out.append(f"missing after the last checkpoint: {self.missing_events} signed event(s) in "
                           f"{len(self.missing_dossiers)} dossier(s)")
            elif self.last_copy is not None:
                out.append("missing after the last checkpoint: nothing (every signed event is in the database)")
        return out


def coverage(session: Session, public_keys: str | list[str] | None, copies_folder: Path | None) -> Coverage:
    """`public_keys`: the checkpoint key's public half, or every public key it ever had (a copy is
    checked with the one its `key_id` names)."""
    report = Coverage()
    report.events = int(session.scalar(select(func.count()).select_from(E)) or 0)
    report.dossiers = int(session.scalar(select(func.count()).select_from(D)) or 0)
    last = session.scalars(select(CheckpointRow).order_by(CheckpointRow.id.desc()).limit(1)).first()
    if last is not None:
        report.last_checkpoint = {"id": last.id, "at": _iso(last.at), "events": last.events,
                                  "dossiers": last.dossiers}
    signed = select(H.dossier_id.label("d"), func.max(H.last_seq).label("q")).group_by(H.dossier_id).subquery()
    beyond = D.last_seq - func.coalesce(signed.c.q, 0)
    n, total = session.execute(select(func.count(), func.coalesce(func.sum(beyond), 0)).select_from(D)
                               .outerjoin(signed, signed.c.d == D.id).where(beyond > 0)).one()
    report.uncovered_dossiers, report.uncovered_events = int(n), int(total)
    if copies_folder is not None:
        report.copies_folder = str(copies_folder)
        keys = [public_keys] if isinstance(public_keys, str) else list(public_keys or [])
        _against_copies(session, report, keys, copies_folder, last.id if last else 0)
    return report


def _against_copies(session: Session, report: Coverage, public_keys: list[str], folder: Path,
                    db_last: int) -> None:
    copies, unreadable = read_copies(folder)
    for name in unreadable:
        report.findings.append({"layer": "copies", "message": f"checkpoint copy {name} cannot be read"})
    if not copies:
        return
    if not public_keys:
        report.findings.append({"layer": "copies", "message": "the checkpoint key is missing: the copies "
                                "cannot be checked"})
        return
    heads, valid = _accepted_heads(copies, public_keys, db_last, report)
    if valid is None:
        return
    report.copies = valid.id
    record = json.loads(valid.record)
    report.last_copy = {"id": valid.id, "at": record.get("at")}
    in_db = {int(i): str(r) for i, r in session.execute(select(CheckpointRow.id, CheckpointRow.record))}
    for c in copies:
        if c.id <= valid.id and c.id in in_db and in_db[c.id] != c.record:
            report.findings.append({"layer": "copies", "checkpoint": c.id, "message": f"checkpoint {c.id} in the "
                                    "database differs from its signed copy"})
    if valid.id > db_last:
        first = db_last + 1
        span = f"{first}" if first == valid.id else f"{first}–{valid.id}"
        report.findings.append({"layer": "missing", "message": f"checkpoint(s) {span} were signed (copies in "
                                f"{folder}) but are not in the database"})
    held = {int(d): (int(q), code) for d, q, code in session.execute(select(D.id, D.last_seq, D.code))}
    later = [(d, q, h) for d, (q, h, cp) in heads.items() if cp > db_last and held.get(d, (0, ""))[0] >= q]
    changed = _changed_heads(session, later)
    for dossier, (seq, _hash, cp_id) in sorted(heads.items()):
        have, code = held.get(dossier, (0, None))
        if have >= seq and dossier not in changed:
            continue
        name = f"dossier {dossier}" + (f" ({code})" if code else "")
        if dossier in changed:
            message = (f"{name}: event {seq} has a different hash than checkpoint {cp_id} signed (copy outside "
                       "the database)")
        else:
            lost = f"event {seq}" if have + 1 == seq else f"events {have + 1}–{seq}"
            message = (f"{name}: checkpoint {cp_id} (copy outside the database) signed {seq} event(s), the "
                       f"database holds {have if code else 'no such dossier'}: {lost} missing")
            report.missing_events += seq - have
        report.missing_dossiers.append({"dossier": dossier, "code": code, "signed": seq, "held": have,
                                        "checkpoint": cp_id})
        if len(report.missing_dossiers) <= SHOWN:
            report.findings.append({"layer": "missing", "dossier": dossier, "seq": have + 1, "message": message})
    if len(report.missing_dossiers) > SHOWN:
        report.findings.append({"layer": "missing", "message": f"… and {len(report.missing_dossiers) - SHOWN} "
                                "more dossier(s) with signed events missing"})


def _accepted_heads(copies: list[CheckpointCopy], public_keys: list[str], db_last: int,
                    report: Coverage) -> tuple[dict[int, tuple[int, str, int]], CheckpointCopy | None]:
    """The signed heads (dossier → seq, hash, checkpoint) of the copies from 1 that hold together."""
    try:
        verifiers = {key_id(k): load_public_key(k) for k in public_keys}
    except SignatureProblem as err:
        report.findings.append({"layer": "copies", "message": f"checkpoint key: {err}"})
        return {}, None
    heads: dict[int, tuple[int, str, int]] = {}
    link, valid = GENESIS, None
    for expected, c in enumerate(copies, start=1):
        problem = None
        if c.id != expected:
            problem = f"the copy of checkpoint {expected} is missing; the copies after it are not used"
        elif c.key_id not in verifiers:
            problem = f"the copy of checkpoint {c.id} is signed by an unknown key ({c.key_id[:12]}…)"
        else:
            try:
                verifiers[c.key_id].verify(base64.b64decode(c.signature), c.record.encode())
                record = json.loads(c.record)
            except (InvalidSignature, ValueError):
                record, problem = None, f"the copy of checkpoint {c.id} does not carry a valid signature"
            if record is not None and (not isinstance(record, dict) or record.get("id") != c.id
                                       or record.get("prev") != link):
                problem = f"the copy of checkpoint {c.id} does not follow the one before it"
        undo: dict[int, tuple[int, str, int] | None] = {}
        if problem is None:
            for d, q, h in c.leaves:
                undo.setdefault(d, heads.get(d))
                heads[d] = (q, h, c.id)
            last_of_db = c.id == db_last or (c.id < db_last and c is copies[-1])
            if (c.id > db_last or last_of_db) and (
                    merkle_root([(d, q, h) for d, (q, h, _) in heads.items()]) != record["root"]
                    or len(heads) != record.get("dossiers")):
                problem = f"the copy of checkpoint {c.id}: its leaves do not give the signed root"
        if problem is not None:
            for d, before in undo.items():  # a copy not believed adds no head
                if before is None:
                    del heads[d]
                else:
                    heads[d] = before
            report.findings.append({"layer": "copies", "checkpoint": c.id, "message": problem})
            break
        link = hashlib.sha256(f"{c.record}\n{c.signature}".encode()).hexdigest()
        valid = c
    return heads, valid


def _changed_heads(session: Session, heads: list[tuple[int, int, str]]) -> set[int]:
    """Of these signed heads the database reaches, the dossiers whose event there has another hash."""
    changed: set[int] = set()
    for i in range(0, len(heads), 500):
        chunk = heads[i:i + 500]
        now = {(int(d), int(q)): h for d, q, h in session.execute(
            select(E.dossier_id, E.seq, E.hash).where(tuple_(E.dossier_id, E.seq).in_([(d, q) for d, q, _ in chunk])))}
        changed |= {d for d, q, h in chunk if now.get((d, q)) != h}
    return changed


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="seconds")
