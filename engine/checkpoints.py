"""Signed checkpoints: rewriting history inside the database becomes detectable from outside it.

A dossier's hash chain proves its events were not edited one by one; but someone with write access to
the database can rewrite a whole chain consistently (recompute every hash), and the per-dossier
check passes. A checkpoint signs, with an Ed25519 key that lives outside the database (a file under
the var dir, mode 0600), a record of:

    {"v": 1, "id": n, "at": instant, "events": number of events, "dossiers": number of chains,
     "root": Merkle root over every dossier's (id, last_seq, head_hash), "prev": hash of the previous
     checkpoint (record + signature), "audit_seq"/"audit_hash": head of the organisation audit log}

and stores the leaves it adds (`checkpoint_head`: the heads of the dossiers whose chains grew since
a previous checkpoint saw them). Verification recomputes every root from the stored leaves, checks
every signature with the public key from the key file (never from the database), checks the
checkpoints' own chain, and checks every signed head against today's events: a rewritten chain no
longer has the signed hash at the signed seq, and the report names the dossier.

Merkle tree: leaf = SHA-256(0x00 || "id:seq:hash"), node = SHA-256(0x01 || left || right), leaves in
dossier-id order, an odd node moves up unchanged; the root of no leaves is SHA-256 of nothing.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import and_, exists, func, or_, select, text
from sqlalchemy.orm import Session

from .jsoncanon import canonical, iso
from .keyhistory import KeyHistory, KeyHistoryProblem, history_path
from .keyhistory import entry as history_entry
from .proofcheck import KeyRing
from .signatures import key_id, public_key_text, read_private_key, write_private_key
from .store import AuditEntryRow, CaseEventRow, CheckpointHeadRow, CheckpointRow, Database, DossierRow

GENESIS = "0" * 64
LOCK = 0x1A4DF71  # pg advisory lock key: one checkpoint at a time
H = CheckpointHeadRow


# -- keys --------------------------------------------------------------------------------------------

def public_path(private: Path) -> Path:
    return private.with_name(private.name + ".pub")


def ensure_key(path: Path) -> bool:
    """Create the checkpoint key pair if missing (landflow init). True when created."""
    if path.exists():
        return False
    key = Ed25519PrivateKey.generate()
    write_private_key(key, path)
    public_path(path).write_text(public_key_text(key.public_key()) + "\n", encoding="utf-8")
    return True


def load_verifying_key(path: Path) -> str:
    """The public key, from the .pub file beside the private key (or derived from the private key)."""
    pub = public_path(path)
    if pub.exists():
        return pub.read_text(encoding="utf-8").strip()
    return public_key_text(read_private_key(path).public_key())


def verifying_ring(path: Path) -> KeyRing:
    """Every checkpoint key ever in force: the signed key history beside the private key (after a
    rotation), else the one published key. KeyHistoryProblem when the history does not hold."""
    hist = history_path(path)
    if hist.exists():
        return KeyHistory.load(hist).ring()
    return KeyRing.of(load_verifying_key(path))


def has_key(path: Path) -> bool:
    return path.exists() or public_path(path).exists() or history_path(path).exists()


def rotate_key(path: Path, at: datetime) -> tuple[str, str, Path]:
    """A new checkpoint key in force from `at`, handed over (signed) by the current one, appended to the key
    history (made on first rotation with the current key as its first entry, in force from the start). The
    old private key is kept as `<name>.<key id>.retired` (mode 0600) for the operator to take offline: it
    signs nothing any more. Returns (old key id, new key id, retired path)."""
    old = read_private_key(path)
    hist = history_path(path)
    history = KeyHistory.load(hist) if hist.exists() else KeyHistory([history_entry(old, None, None)])
    old_id = key_id(public_key_text(old.public_key()))
    if history.current()["key_id"] != old_id:
        raise KeyHistoryProblem(f"the key at {path} is not the last one of {hist}: rotate from the current key")
    new = Ed25519PrivateKey.generate()
    history = KeyHistory([*history.entries, history_entry(new, iso(at), old)])
    history.check()
    retired = path.with_name(f"{path.name}.{old_id[:16]}.retired")
    write_private_key(old, retired)
    tmp = hist.with_name(hist.name + ".tmp")
    tmp.write_text(history.text(), encoding="utf-8")
    tmp.replace(hist)
    new_tmp = path.with_name(path.name + ".tmp")
    write_private_key(new, new_tmp)
    new_tmp.replace(path)
    public_path(path).write_text(public_key_text(new.public_key()) + "\n", encoding="utf-8")
    return old_id, key_id(public_key_text(new.public_key())), retired


# -- Merkle ------------------------------------------------------------------------------------------

def leaf_hash(dossier_id: int, last_seq: int, head_hash: str) -> bytes:
    return hashlib.sha256(b"\x00" + f"{dossier_id}:{last_seq}:{head_hash}".encode()).digest()


def merkle_root(leaves: list[tuple[int, int, str]], known: dict[tuple[int, int, str], bytes] | None = None) -> str:
    """The root over these leaves; `known` remembers leaf hashes across the roots of successive checkpoints
    (each holds every leaf of the one before it)."""
    if known is None:
        level = [leaf_hash(*leaf) for leaf in sorted(leaves)]
    else:
        level = []
        for leaf in sorted(leaves):
            h = known.get(leaf)
            if h is None:
                h = known[leaf] = leaf_hash(*leaf)
            level.append(h)
    if not level:
        return hashlib.sha256(b"").hexdigest()
    while len(level) > 1:
        nxt = [hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0].hex()


def link_hash(cp: CheckpointRow | None) -> str:
    if cp is None:
        return GENESIS
    return hashlib.sha256(f"{cp.record}\n{cp.signature}".encode()).hexdigest()


# -- making one --------------------------------------------------------------------------------------

def create_checkpoint(db: Database, key: Ed25519PrivateKey, at: datetime) -> CheckpointRow:
    """Sign the current heads of every chain. One transaction, on one consistent snapshot."""
    with db.write() as s:
        if db.dialect == "postgresql":
            s.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
            s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK})
        prev = s.scalars(select(CheckpointRow).order_by(CheckpointRow.id.desc()).limit(1)).first()
        heads = [(int(a), int(b), c) for a, b, c in s.execute(
            select(DossierRow.id, DossierRow.last_seq, DossierRow.head_hash).where(DossierRow.last_seq > 0)
            .order_by(DossierRow.id))]
        events = s.scalar(select(func.count()).select_from(CaseEventRow)) or 0
        max_event = s.scalar(select(func.max(CaseEventRow.id))) or 0
        audit = s.execute(select(AuditEntryRow.seq, AuditEntryRow.hash).order_by(AuditEntryRow.seq.desc())
                          .limit(1)).first()
        new_leaves = s.execute(
            select(DossierRow.id, DossierRow.last_seq, DossierRow.head_hash)
            .where(DossierRow.last_seq > 0,
                   ~exists().where(H.dossier_id == DossierRow.id, H.last_seq == DossierRow.last_seq))).all()
        number = (prev.id if prev else 0) + 1
        record: dict[str, Any] = {
            "v": 1, "id": number, "at": iso(at), "events": events, "dossiers": len(heads),
            "root": merkle_root(heads), "prev": link_hash(prev),
            "audit_seq": audit[0] if audit else 0, "audit_hash": audit[1] if audit else GENESIS,
        }
        text_record = canonical(record)
        public = public_key_text(key.public_key())
        cp = CheckpointRow(id=number, at=at, events=events, dossiers=len(heads), max_event_id=max_event,
                           root=record["root"], record=text_record,
                           signature=base64.b64encode(key.sign(text_record.encode())).decode(), key_id=key_id(public))
        s.add(cp)
        s.flush()
        s.add_all(H(checkpoint_id=number, dossier_id=int(d), last_seq=int(q), head_hash=h) for d, q, h in new_leaves)
        return cp


# -- verifying ---------------------------------------------------------------------------------------

@dataclass
class CheckpointReport:
    checked: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)  # {checkpoint, dossier?, message}

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked": self.checked, "problems": self.problems}


def _ring(keys: str | KeyRing) -> KeyRing:
    return keys if isinstance(keys, KeyRing) else KeyRing.of(keys)


def verify_checkpoints(session: Session, keys: str | KeyRing) -> CheckpointReport:
    """`keys`: the published key, or the ring of every key in force over the years (`verifying_ring`)."""
    report = CheckpointReport()
    verifier = _ring(keys)
    # 1. Every signed head must still be in the chain: same hash at the same seq.
    E = CaseEventRow
    drift = session.execute(
        select(H.checkpoint_id, H.dossier_id, H.last_seq, H.head_hash, E.hash)
        .outerjoin(E, and_(E.dossier_id == H.dossier_id, E.seq == H.last_seq))
        .where(or_(E.id.is_(None), E.hash != H.head_hash))
        .order_by(H.checkpoint_id, H.dossier_id)).all()
    for cp_id, dossier, seq, _signed, now_hash in drift:
        what = "is missing" if now_hash is None else "has a different hash than the one signed"
        report.problems.append({"checkpoint": cp_id, "dossier": dossier, "seq": seq,
                                "message": f"dossier {dossier}: event {seq} {what} (checkpoint {cp_id}): "
                                           "its history was rewritten after it was signed"})
    # 2. Each checkpoint: record, signature, chain of checkpoints, root over its leaves.
    leaves: dict[int, tuple[int, str]] = {}
    prev: CheckpointRow | None = None
    heads = iter(session.execute(select(H.checkpoint_id, H.dossier_id, H.last_seq, H.head_hash)
                                 .order_by(H.checkpoint_id, H.dossier_id)))
    pending = next(heads, None)
    events_now = session.scalar(select(func.count()).select_from(CaseEventRow)) or 0
    known: dict[tuple[int, int, str], bytes] = {}
    for cp in session.scalars(select(CheckpointRow).order_by(CheckpointRow.id)):
        report.checked += 1
        while pending is not None and pending[0] <= cp.id:
            leaves[int(pending[1])] = (int(pending[2]), pending[3])
            pending = next(heads, None)
        problem = _check_one(cp, prev, leaves, verifier, events_now, known)
        if problem:
            report.problems.append({"checkpoint": cp.id, "message": f"checkpoint {cp.id}: {problem}"})
        prev = cp
    report.problems.sort(key=lambda p: (p["checkpoint"], "dossier" not in p, p.get("dossier") or 0))
    return report


def record_problem(cp: CheckpointRow, prev: CheckpointRow | None, verifier: KeyRing) -> str | None:
    """The checks one checkpoint allows on its own and its predecessor: signature (by a known key, in force
    at the checkpoint's instant), stored columns, link to the checkpoint before it."""
    try:
        record = json.loads(cp.record)
    except ValueError:
        record = None
    if not isinstance(record, dict):
        return "the record is not a JSON object"
    at = record.get("at")
    signed = verifier.problem(cp.key_id, at if isinstance(at, str) else None, cp.record.encode(), cp.signature)
    if signed:
        return signed
    if record.get("id") != cp.id or record.get("root") != cp.root or record.get("events") != cp.events:
        return "the stored columns differ from the signed record"
    expected_id = (prev.id if prev else 0) + 1
    if cp.id != expected_id or record.get("prev") != link_hash(prev):
        return "a checkpoint before it is missing or was changed"
    return None


def _check_one(cp: CheckpointRow, prev: CheckpointRow | None, leaves: dict[int, tuple[int, str]],
               verifier: KeyRing, events_now: int,
               known: dict[tuple[int, int, str], bytes] | None = None) -> str | None:
    problem = record_problem(cp, prev, verifier)
    if problem:
        return problem
    record = json.loads(cp.record)
    root = merkle_root([(d, q, h) for d, (q, h) in leaves.items()], known)
    if root != record["root"] or len(leaves) != record.get("dossiers"):
        return "its stored leaves do not give the signed root"
    if events_now < cp.events:
        return f"it counted {cp.events} events, the log now holds {events_now}: events were deleted"
    return None


# -- listing -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CheckpointView:
    id: int
    at: datetime
    events: int
    dossiers: int
    root: str
    prev: str
    audit_seq: int
    record: str
    signature: str
    key_id: str
    verified: bool | None  # None: the key file is missing, nothing can be checked
    problem: str | None


def list_checkpoints(session: Session, public_key: str | KeyRing | None, before_id: int | None = None,
                     limit: int = 50) -> tuple[list[CheckpointView], bool]:
    """Newest first, each checked on its own (`record_problem`); returns (page, more).

    The Merkle root over the leaves and the heads still in their chains need every checkpoint before
    it: `verify_checkpoints` (GET /audit/verify) checks those.
    """
    q = select(CheckpointRow).order_by(CheckpointRow.id.desc())
    if before_id is not None:
        q = q.where(CheckpointRow.id < before_id)
    rows = list(session.scalars(q.limit(limit + 1)))
    more = len(rows) > limit
    by_id = {r.id: r for r in rows}
    verifier = _ring(public_key) if public_key else None
    out = []
    for cp in rows[:limit]:
        prev = by_id.get(cp.id - 1) or (session.get(CheckpointRow, cp.id - 1) if cp.id > 1 else None)
        problem = record_problem(cp, prev, verifier) if verifier is not None else None
        try:
            record = json.loads(cp.record)
        except ValueError:
            record = None
        record = record if isinstance(record, dict) else {}
        audit_seq = record.get("audit_seq")
        out.append(CheckpointView(cp.id, cp.at, cp.events, cp.dossiers, cp.root, str(record.get("prev", "")),
                                  audit_seq if isinstance(audit_seq, int) else 0, cp.record, cp.signature,
                                  cp.key_id, None if verifier is None else problem is None, problem))
    return out, more
