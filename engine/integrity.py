"""The whole-database integrity check behind `landflow verify --all` and GET /api/v1/audit/verify.

Three layers, each catching what the one before cannot:
1. each dossier's hash chain (an edited, deleted or inserted event), its replay against the stored
   projections and snapshot, and its decision signatures (engine/history.py);
2. the organisation audit log's chain (engine/audit.py), and the reviews and absences it holds,
   replayed against their tables (engine/reviews.py);
3. the signed checkpoints (engine/checkpoints.py): a chain rewritten consistently inside the database
   passes 1, but no longer has the head a checkpoint signed.

The report lists every finding in that order; `first` is the first inconsistency. The pieces are
separate so that the HTTP API can walk layer 1 a page of dossiers at a time (`dossier_ids`,
`verify_dossiers`), check the organisation-wide layers once (`verify_organisation`), or check one
dossier with the heads the checkpoints signed of it (`verify_one`). `landflow verify --all` runs layer 1
on every core (`verify_parallel`); its replay is the expensive part (SpiffWorkflow re-runs every step),
so `replay=False` checks the hash chains alone, streamed in bulk (engine/chains.py).
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

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from . import audit
from .chains import verify_chains
from .checkpoints import has_key, verify_checkpoints, verifying_ring
from .history import Verification, verify
from .keyhistory import KeyHistoryProblem
from .papers.blobs import BlobStore, FolderBlobStore
from .reviews import verify_accountability
from .runtime.workflow import ProcedureCache
from .store import CaseEventRow, CheckpointHeadRow, CheckpointRow, Database, DossierRow
from .verified import Entry, Memo, context_digest, entry_of, quick_pass


@dataclass
class IntegrityReport:
    dossiers: int = 0
    events: int = 0
    checkpoints: int = 0
    findings: list[dict[str, Any]] = field(default_factory=list)  # {layer, dossier?, checkpoint?, message}
    unchanged: int = 0  # dossiers not replayed: the memo proved their inputs those of a check that passed

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def first(self) -> dict[str, Any] | None:
        return self.findings[0] if self.findings else None

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "dossiers": self.dossiers, "events": self.events, "checkpoints": self.checkpoints,
                "first": self.first, "findings": self.findings}


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
                    progress: Callable[[int], None] | None = None, blobs: BlobStore | None = None,
                    passed: dict[int, Entry] | None = None) -> None:
    """Layer 1 for these dossiers, one read transaction each (a long walk holds no snapshot open).
    With `passed`: each dossier that passes gets its memo entry, read in the snapshot it was checked in."""
    for n, did in enumerate(ids, start=1):
        try:
            with db.read() as s:
                if passed is not None and db.dialect == "postgresql":
                    s.connection(execution_options={"isolation_level": "REPEATABLE READ"})
                result = verify(s, procedures, did, blobs)
                entry = entry_of(s.connection(), did) if passed is not None and result.ok else None
            finding = dossier_finding(result)
            if passed is not None and entry is not None:
                passed[did] = entry
            report.events += result.events
        except Exception as err:  # one unreadable dossier must not stop the check of all the others
            finding = {"layer": "replay", "dossier": did, "seq": None,
                       "message": f"dossier {did}: cannot be verified: {type(err).__name__}"}
        if finding is not None:
            report.findings.append(finding)
        report.dossiers += 1
        if progress is not None and n % 500 == 0:
            progress(n)


CHUNK = 250  # dossiers per task handed to a verifying process
_worker: tuple[Database, ProcedureCache] | None = None  # per verifying process (spawned, never forked)


def _verify_chunk(url: str, blob_dir: str | None, memo: bool,
                  ids: list[int]) -> tuple[int, list[dict[str, Any]], dict[int, Entry]]:
    """In a worker process: verify some dossiers with that process's own connection and caches."""
    global _worker
    if _worker is None or _worker[0].url != url:
        _worker = (Database(url, pool_size=1), ProcedureCache())
    report = IntegrityReport()
    passed: dict[int, Entry] = {}
    verify_dossiers(*_worker, ids, report, blobs=FolderBlobStore(Path(blob_dir)) if blob_dir else None,
                    passed=passed if memo else None)
    return report.events, report.findings, passed


def verify_parallel(db: Database, procedures: ProcedureCache, ids: list[int], report: IntegrityReport,
                    workers: int | None = None, progress: Callable[[int], None] | None = None,
                    blobs: FolderBlobStore | None = None, passed: dict[int, Entry] | None = None) -> None:
    """Layer 1 on every core: each check is independent (its own chain, its own replay), so chunks of
    ids go to worker processes, and findings come back in id order. Processes, not threads: replay is
    Python (SpiffWorkflow) and holds the GIL. Spawned, not forked: no connection, lock or thread of
    this process crosses into a worker."""
    workers = workers or os.cpu_count() or 1
    chunks = [ids[i:i + CHUNK] for i in range(0, len(ids), CHUNK)]
    if workers <= 1 or len(chunks) <= 1:
        verify_dossiers(db, procedures, ids, report, progress, blobs, passed)
        return
    done = 0
    check = partial(_verify_chunk, db.url, str(blobs.root) if blobs else None, passed is not None)
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        try:
            for chunk, (n, found, ok) in zip(chunks, pool.map(check, chunks), strict=True):
                report.events += n
                report.findings += found
                if passed is not None:
                    passed.update(ok)
                report.dossiers += len(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done)
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise


QUICK_RANGE = 2000  # dossiers per quick-pass snapshot


def verify_changed(db: Database, procedures: ProcedureCache, ids: list[int], report: IntegrityReport, memo: Memo,
                   workers: int | None = None, progress: Callable[[int], None] | None = None,
                   blobs: FolderBlobStore | None = None) -> None:
    """Layer 1 with the memo: the quick pass over every dossier, the full check of the others, the memo
    updated with what passed (and emptied of what did not)."""
    try:
        with db.read_engine.connect() as conn:
            memo.use_context(context_digest(conn))
        recheck: list[int] = []
        for i in range(0, len(ids), QUICK_RANGE):
            part = ids[i:i + QUICK_RANGE]
            quick = quick_pass(db, memo, part[0], part[-1] + 1, blobs)
            report.events += quick.events
            report.dossiers += quick.unchanged
            report.unchanged += quick.unchanged
            recheck += quick.recheck
            if progress is not None:
                progress(report.dossiers)
        passed: dict[int, Entry] = {}
        verify_parallel(db, procedures, recheck, report, workers, progress, blobs, passed)
        memo.update(passed, (d for d in recheck if d not in passed))
    finally:
        memo.close()


def verify_organisation(db: Database, checkpoint_key: Path, report: IntegrityReport) -> None:
    """Layers 2 and 3: the audit log's chain and every checkpoint (key from the file, never the database)."""
    with db.read() as s:
        ok, seq = audit.verify_log(s)
    if not ok:
        report.findings.append({"layer": "audit_log", "seq": seq, "message": f"audit log: first bad entry {seq}"})
    with db.read() as s:  # reviews and absences: named entries, replayed against their tables
        report.findings += verify_accountability(s)
    if has_key(checkpoint_key):
        try:
            ring = verifying_ring(checkpoint_key)
        except KeyHistoryProblem as err:
            report.findings.append({"layer": "checkpoint", "message": f"the checkpoint key history: {err}"})
            return
        with db.read() as s:
            cps = verify_checkpoints(s, ring)
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


def verify_one(db: Database, procedures: ProcedureCache, dossier_id: int,
               blobs: BlobStore | None = None) -> IntegrityReport:
    """One dossier: its chain, replay and signatures, and the heads of it that checkpoints signed."""
    report = IntegrityReport()
    verify_dossiers(db, procedures, [dossier_id], report, blobs=blobs)
    with db.read() as s:
        report.checkpoints, drift = signed_heads_of(s, dossier_id)
    report.findings += drift
    return report


def verify_everything(db: Database, procedures: ProcedureCache, checkpoint_key: Path,
                      progress: Callable[[int], None] | None = None, workers: int | None = None,
                      replay: bool = True, blobs: FolderBlobStore | None = None,
                      memo: Path | None = None) -> IntegrityReport:
    """Every layer over the whole database. `replay=False`: layer 1 is the hash chains only, streamed in
    bulk (engine/chains.py); the audit log and the checkpoints are checked either way. With `memo` (a
    file outside the database): replay only the dossiers whose chain, stored rows or files changed since
    they last passed (engine/verified.py); every chain is still re-hashed and every file re-read."""
    report = IntegrityReport()
    ids = dossier_ids(db)
    if replay and memo is not None:
        verify_changed(db, procedures, ids, report, Memo(memo), workers, progress, blobs)
    elif replay:
        verify_parallel(db, procedures, ids, report, workers, progress, blobs)
    else:
        report.events, report.findings = verify_chains(db, workers, progress)
        report.dossiers = len(ids)
    verify_organisation(db, checkpoint_key, report)
    return report
