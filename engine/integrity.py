"""The whole-database integrity check behind `landflow verify --all` and GET /api/v1/audit/verify.

Three layers, each catching what the one before cannot:
1. each dossier's hash chain (an edited, deleted or inserted event), its replay against the stored
   projections and snapshot, and its decision signatures (engine/history.py);
2. the organisation audit log's chain (engine/audit.py);
3. the signed checkpoints (engine/checkpoints.py): a chain rewritten consistently inside the database
   passes 1, but no longer has the head a checkpoint signed.

The report lists every finding in that order; `first` is the first inconsistency. The pieces are
separate so that the HTTP API can walk layer 1 a page of dossiers at a time (`dossier_ids`,
`verify_dossiers`), check the organisation-wide layers once (`verify_organisation`), or check one
dossier with the heads the checkpoints signed of it (`verify_one`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from . import audit
from .checkpoints import load_verifying_key, verify_checkpoints
from .history import Verification, verify
from .runtime.workflow import ProcedureCache
from .store import CaseEventRow, CheckpointHeadRow, CheckpointRow, Database, DossierRow


@dataclass
class IntegrityReport:
    dossiers: int = 0
    checkpoints: int = 0
    findings: list[dict[str, Any]] = field(default_factory=list)  # {layer, dossier?, checkpoint?, message}

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def first(self) -> dict[str, Any] | None:
        return self.findings[0] if self.findings else None

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "dossiers": self.dossiers, "checkpoints": self.checkpoints, "first": self.first,
                "findings": self.findings}


def dossier_finding(result: Verification) -> dict[str, Any] | None:
    """Layer 1's finding for one dossier, or None when its chain, replay and signatures hold."""
    if result.ok:
        return None
    layer = "chain" if not result.chain_ok else "replay"
    return {"layer": layer, "dossier": result.dossier_id, "seq": result.first_bad_seq,
            "message": f"dossier {result.dossier_id}: " + "; ".join(result.problems[:3])}


def dossier_ids(db: Database, after: int = 0, limit: int | None = None) -> list[int]:
    """Dossier ids in order, after `after`: the unit of work of a paged verification."""
    q = select(DossierRow.id).where(DossierRow.id > after).order_by(DossierRow.id)
    if limit is not None:
        q = q.limit(limit)
    with db.read() as s:
        return list(s.scalars(q))


def verify_dossiers(db: Database, procedures: ProcedureCache, ids: Iterable[int], report: IntegrityReport,
                    progress: Callable[[int], None] | None = None) -> None:
    """Layer 1 for these dossiers, one read transaction each (a long walk holds no snapshot open)."""
    for n, did in enumerate(ids, start=1):
        try:
            with db.read() as s:
                finding = dossier_finding(verify(s, procedures, did))
        except Exception as err:  # one unreadable dossier must not stop the check of all the others
            finding = {"layer": "replay", "dossier": did, "seq": None,
                       "message": f"dossier {did}: cannot be verified: {type(err).__name__}"}
        if finding is not None:
            report.findings.append(finding)
        report.dossiers += 1
        if progress is not None and n % 500 == 0:
            progress(n)


def verify_organisation(db: Database, checkpoint_key: Path, report: IntegrityReport) -> None:
    """Layers 2 and 3: the audit log's chain and every checkpoint (key from the file, never the database)."""
    with db.read() as s:
        ok, seq = audit.verify_log(s)
    if not ok:
        report.findings.append({"layer": "audit_log", "seq": seq, "message": f"audit log: first bad entry {seq}"})
    if checkpoint_key.exists() or checkpoint_key.with_name(checkpoint_key.name + ".pub").exists():
        with db.read() as s:
            cps = verify_checkpoints(s, load_verifying_key(checkpoint_key))
        report.checkpoints = cps.checked
        report.findings += [{"layer": "checkpoint", **p} for p in cps.problems]
    else:
        with db.read() as s:
            if s.scalar(select(CheckpointRow.id).limit(1)) is not None:
                report.findings.append({"layer": "checkpoint", "message": f"checkpoints exist but the key "
                                        f"{checkpoint_key} is missing: they cannot be checked"})


def signed_heads_of(session: Session, dossier_id: int) -> tuple[int, list[dict[str, Any]]]:
    """For one dossier: how many checkpoints signed one of its heads, and those heads no longer in its
    chain (same seq, same hash). The per-dossier part of layer 3, in one query, without walking every
    checkpoint (`checkpoint_head` is keyed by checkpoint first: an index on its dossier column would
    spare the scan on a very large database)."""
    H, E = CheckpointHeadRow, CaseEventRow
    rows = session.execute(
        select(H.checkpoint_id, H.last_seq, H.head_hash, E.hash)
        .outerjoin(E, and_(E.dossier_id == H.dossier_id, E.seq == H.last_seq))
        .where(H.dossier_id == dossier_id).order_by(H.checkpoint_id)).all()
    drift = []
    for cp_id, seq, signed, now_hash in rows:
        if now_hash == signed:
            continue
        what = "is missing" if now_hash is None else "has a different hash than the one signed"
        drift.append({"layer": "checkpoint", "checkpoint": cp_id, "dossier": dossier_id, "seq": seq,
                      "message": f"dossier {dossier_id}: event {seq} {what} (checkpoint {cp_id}): "
                                 "its history was rewritten after it was signed"})
    return len(rows), drift


def verify_one(db: Database, procedures: ProcedureCache, dossier_id: int) -> IntegrityReport:
    """One dossier: its chain, replay and signatures, and the heads of it that checkpoints signed."""
    report = IntegrityReport()
    verify_dossiers(db, procedures, [dossier_id], report)
    with db.read() as s:
        report.checkpoints, drift = signed_heads_of(s, dossier_id)
    report.findings += drift
    return report


def verify_everything(db: Database, procedures: ProcedureCache, checkpoint_key: Path,
                      progress: Callable[[int], None] | None = None) -> IntegrityReport:
    report = IntegrityReport()
    verify_dossiers(db, procedures, dossier_ids(db), report, progress)
    verify_organisation(db, checkpoint_key, report)
    return report
