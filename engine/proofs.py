"""Proof bundles: what anyone needs to check, offline, that a paper (a slip, a result) is the one issued.

Given a file's SHA-256, find the event that named it (`slip_issued`, `document_added`: the first one), the
first signed checkpoint whose head for that dossier is at or after it, the events from the paper's event to
that head, and the audit path of that head in the checkpoint's Merkle tree (RFC 6962; the tree of
engine/checkpoints.py is that tree: the odd node moving up unchanged is the same shape as RFC 6962's
split at the largest power of two). `engine/proofcheck.py` checks the bundle without a database.

The bundle holds the events between the paper's and the signed head: their types, officers' user names
and payloads (`docs/decisions/0120-…`). It is given to whoever holds the SHA-256, that is the file; the
public page shows none of it.

Cost: the audit path needs every leaf of the checkpoint (one query, one SHA-256 a dossier: about a
second for a million dossiers). Not cached: a cache would have to be invalidated by anything that edits the
stored heads, and a proof must show what the database holds now.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from .events import DocumentAdded, SlipIssued, parse_shown, stored_like
from .jsoncanon import iso
from .proofcheck import PAPER_EVENTS, audit_path, leaf_hash
from .store import CaseEventRow, CheckpointHeadRow, CheckpointRow, DossierRow

SHA256 = re.compile(r"^[0-9a-f]{64}$")
H = CheckpointHeadRow


@dataclass(frozen=True)
class Paper:
    """What the public page may say of a paper: no personal data, no officer."""

    sha256: str
    dossier_id: int
    code: str
    seq: int
    event: str           # slip_issued | document_added
    kind: str            # the slip's kind (receipt, …) or the document's kind (result, received, supplement)
    number: str          # the slip's number ("" for a document)
    at: Any              # when it was issued / added


def find_paper(session: Session, sha256: str) -> Paper | None:
    """The first event naming a file with this SHA-256 (a slip issued, a document added), or None."""
    sha = sha256.strip().lower()
    if not SHA256.match(sha):
        return None
    E = CaseEventRow
    row = session.execute(
        select(E.dossier_id, E.seq, E.type, E.at, E.payload, DossierRow.code)
        .join(DossierRow, DossierRow.id == E.dossier_id)
        .where(E.type.in_(PAPER_EVENTS), E.payload.like(stored_like(SlipIssued, "sha256", sha)))
        .order_by(E.id).limit(1)).first()
    if row is None:
        return None
    paper = parse_shown(row.type, row.payload)  # a malformed event proves nothing (verify names it)
    if isinstance(paper, SlipIssued) and paper.sha256 == sha:
        kind, number = paper.slip, paper.number
    elif isinstance(paper, DocumentAdded) and paper.sha256 == sha:
        kind, number = paper.kind_ or "received", ""
    else:
        return None
    return Paper(sha, int(row.dossier_id), row.code, int(row.seq), row.type, kind, number, row.at)


def _leaves(session: Session, checkpoint_id: int) -> tuple[list[int], list[bytes]]:
    """Checkpoint N's leaves, in dossier order: per dossier its latest stored head at or before N."""
    latest = (select(H.dossier_id, func.max(H.checkpoint_id).label("c")).where(H.checkpoint_id <= checkpoint_id)
              .group_by(H.dossier_id).subquery())
    rows = session.execute(select(H.dossier_id, H.last_seq, H.head_hash)
                           .join(latest, and_(H.dossier_id == latest.c.dossier_id, H.checkpoint_id == latest.c.c))
                           .order_by(H.dossier_id)).all()
    ids = [int(d) for d, _q, _h in rows]
    hashes = [leaf_hash(int(d), int(q), h) for d, q, h in rows]
    return ids, hashes


def _event(ev: CaseEventRow) -> dict[str, Any]:
    return {"d": ev.dossier_id, "s": ev.seq, "t": ev.type, "a": ev.actor, "u": ev.unit, "st": ev.step,
            "at": iso(ev.at), "payload": ev.payload, "prev": ev.prev_hash, "hash": ev.hash}


def proof_bundle(session: Session, sha256: str) -> dict[str, Any] | None:
    """The bundle of module docstring for the paper with this SHA-256; None when no event names it.

    Without a checkpoint covering the paper yet, `checkpoint` is None (the chain part can still be checked)."""
    paper = find_paper(session, sha256)
    if paper is None:
        return None
    head = session.execute(select(H.checkpoint_id, H.last_seq, H.head_hash)
                           .where(H.dossier_id == paper.dossier_id, H.last_seq >= paper.seq)
                           .order_by(H.checkpoint_id).limit(1)).first()
    last = int(head.last_seq) if head is not None else paper.seq
    E = CaseEventRow
    events = [_event(ev) for ev in session.scalars(
        select(E).where(E.dossier_id == paper.dossier_id, E.seq >= paper.seq, E.seq <= last).order_by(E.seq))]
    bundle: dict[str, Any] = {
        "v": 1, "sha256": paper.sha256, "dossier": paper.dossier_id, "code": paper.code,
        "paper": {"event": paper.event, "kind": paper.kind, "number": paper.number, "at": iso(paper.at)},
        "events": events, "checkpoint": None, "leaf": None, "leaf_index": None, "tree_size": None,
        "audit_path": [],
    }
    if head is None:
        return bundle
    cp = session.get(CheckpointRow, int(head.checkpoint_id))
    if cp is None:
        return bundle
    ids, hashes = _leaves(session, cp.id)
    try:
        index = ids.index(paper.dossier_id)
    except ValueError:
        index = -1
    bundle.update(
        checkpoint={"id": cp.id, "record": cp.record, "signature": cp.signature, "key_id": cp.key_id},
        leaf={"dossier": paper.dossier_id, "seq": int(head.last_seq), "hash": head.head_hash},
        leaf_index=index, tree_size=len(hashes),
        audit_path=[p.hex() for p in audit_path(hashes, index)] if index >= 0 else [])
    return bundle
