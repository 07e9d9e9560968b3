"""The whole-database integrity check behind `landflow verify --all` and GET /api/v1/audit/verify.

Three layers, each catching what the one before cannot:
1. each dossier's hash chain (an edited, deleted or inserted event), its replay against the stored
   projections and snapshot, and its decision signatures (engine/history.py);
2. the organisation audit log's chain (engine/audit.py);
3. the signed checkpoints (engine/checkpoints.py): a chain rewritten consistently inside the database
   passes 1, but no longer has the head a checkpoint signed.

The report lists every finding in that order; `first` is the first inconsistency. Layer 1 runs on
every core. Its replay is the expensive part (SpiffWorkflow re-runs every step); `replay=False`
checks the hash chains alone, streamed in bulk (engine/chains.py), with layers 2 and 3 unchanged.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import select

from . import audit
from .chains import verify_chains
from .checkpoints import load_verifying_key, verify_checkpoints
from .history import verify
from .runtime.workflow import ProcedureCache
from .store import Database, DossierRow


@dataclass
class IntegrityReport:
    dossiers: int = 0
    events: int = 0
    checkpoints: int = 0
    findings: list[dict[str, Any]] = field(default_factory=list)  # {layer, dossier?, checkpoint?, message}

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def first(self) -> dict[str, Any] | None:
        return self.findings[0] if self.findings else None

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "dossiers": self.dossiers, "events": self.events, "checkpoints": self.checkpoints,
                "first": self.first, "findings": self.findings}


CHUNK = 250  # dossiers per task handed to a verifying process
_worker: tuple[Database, ProcedureCache] | None = None  # per verifying process (spawned, never forked)


def _verify_chunk(url: str, ids: list[int]) -> tuple[int, list[dict[str, Any]]]:
    """In a worker process: verify some dossiers with that process's own connection and caches."""
    global _worker
    if _worker is None or _worker[0].url != url:
        _worker = (Database(url, pool_size=1), ProcedureCache())
    return verify_chunk(*_worker, ids)


def verify_chunk(db: Database, procedures: ProcedureCache, ids: list[int]) -> tuple[int, list[dict[str, Any]]]:
    """(events checked, findings) for these dossiers."""
    events = 0
    findings: list[dict[str, Any]] = []
    for did in ids:
        with db.read() as s:
            result = verify(s, procedures, did)
        events += result.events
        if not result.ok:
            layer = "chain" if not result.chain_ok else "replay"
            findings.append({"layer": layer, "dossier": did, "seq": result.first_bad_seq,
                             "message": f"dossier {did}: " + "; ".join(result.problems[:3])})
    return events, findings


def verify_dossiers(db: Database, procedures: ProcedureCache, ids: list[int], workers: int | None = None,
                    progress: Callable[[int], None] | None = None) -> tuple[int, list[dict[str, Any]]]:
    """Verify dossiers on every core: each check is independent (its own chain, its own replay), so
    chunks of ids go to worker processes, and findings come back in id order. Processes, not threads:
    replay is Python (SpiffWorkflow) and holds the GIL. Spawned, not forked: no connection, lock or
    thread of this process crosses into a worker."""
    workers = workers or os.cpu_count() or 1
    chunks = [ids[i:i + CHUNK] for i in range(0, len(ids), CHUNK)]
    events = 0
    findings: list[dict[str, Any]] = []
    done = 0
    if workers <= 1 or len(chunks) <= 1:
        results: Iterable[tuple[int, list[dict[str, Any]]]] = (verify_chunk(db, procedures, c) for c in chunks)
        pool = None
    else:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
        results = pool.map(partial(_verify_chunk, db.url), chunks)
    try:
        for chunk, (n, found) in zip(chunks, results, strict=True):
            events += n
            findings += found
            done += len(chunk)
            if progress is not None:
                progress(done)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return events, findings


def verify_everything(db: Database, procedures: ProcedureCache, checkpoint_key: Path,
                      progress: Callable[[int], None] | None = None, workers: int | None = None,
                      replay: bool = True) -> IntegrityReport:
    """`replay=False`: layer 1 is the hash chains only, streamed in bulk (engine/chains.py); the audit
    log and the checkpoints are checked either way."""
    report = IntegrityReport()
    with db.read() as s:
        ids = list(s.scalars(select(DossierRow.id).order_by(DossierRow.id)))
    if replay:
        report.events, report.findings = verify_dossiers(db, procedures, ids, workers, progress)
    else:
        report.events, report.findings = verify_chains(db, workers, progress)
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
