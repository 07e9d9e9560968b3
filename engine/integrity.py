"""The whole-database integrity check behind `landflow verify --all` and GET /api/v1/audit/verify.

Three layers, each catching what the one before cannot:
1. each dossier's hash chain (an edited, deleted or inserted event), its replay against the stored
   projections and snapshot, and its decision signatures (engine/history.py);
2. the organisation audit log's chain (engine/audit.py);
3. the signed checkpoints (engine/checkpoints.py): a chain rewritten consistently inside the database
   passes 1, but no longer has the head a checkpoint signed.

The report lists every finding in that order; `first` is the first inconsistency.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from . import audit
from .checkpoints import load_verifying_key, verify_checkpoints
from .history import verify
from .runtime.workflow import ProcedureCache
from .store import Database, DossierRow


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


def verify_everything(db: Database, procedures: ProcedureCache, checkpoint_key: Path,
                      progress: Callable[[int], None] | None = None) -> IntegrityReport:
    report = IntegrityReport()
    with db.read() as s:
        ids = list(s.scalars(select(DossierRow.id).order_by(DossierRow.id)))
    for n, did in enumerate(ids, start=1):
        try:
            with db.read() as s:
                result = verify(s, procedures, did)
        except Exception as err:  # one unreadable dossier must not stop the check of all the others
            report.findings.append({"layer": "replay", "dossier": did, "seq": None,
                                    "message": f"dossier {did}: cannot be verified: {type(err).__name__}"})
            continue
        if not result.ok:
            layer = "chain" if not result.chain_ok else "replay"
            report.findings.append({"layer": layer, "dossier": did, "seq": result.first_bad_seq,
                                    "message": f"dossier {did}: " + "; ".join(result.problems[:3])})
        if progress is not None and n % 500 == 0:
            progress(n)
    report.dossiers = len(ids)
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
            from .store import CheckpointRow

            if s.scalar(select(CheckpointRow.id).limit(1)) is not None:
                report.findings.append({"layer": "checkpoint", "message": f"checkpoints exist but the key "
                                        f"{checkpoint_key} is missing: they cannot be checked"})
    return report
