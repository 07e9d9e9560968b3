"""Every dossier's hash chain, streamed: the tamper-evidence layer of `verify --all`, at bulk speed.

`history.verify` checks one dossier completely: chain, replay through SpiffWorkflow, projections,
signatures; about 10 ms a dossier on this project's 2-core machine, mostly the replay. Over a
province (a million dossiers, seven million events) that is hours. The chain check alone is what
detects an edited, deleted, inserted or reordered event, and it needs no replay: here it runs over
the events in (dossier, seq) order straight from one streaming query per range of dossiers, one
range per process, with the hash written out by hand (`event_hash` builds a dict and sorts it; the
result is the same string, which tests/engine/test_chains.py checks). Each chain must start at the
genesis hash, run 1..n without gaps, link every `prev_hash`, reproduce every `hash`, and end at the
dossier row's `last_seq` and `head_hash`. What this layer does not look at (payload semantics,
projections, signatures) is the full check's job: `landflow verify --all` runs both, `--chains`
only this one.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from functools import partial
from typing import Any

from sqlalchemy import text

from .eventlog import GENESIS
from .store import Database

RANGE = 20_000  # dossier ids per task


_JS: dict[str | None, str] = {None: "null"}


def _js(value: str | None) -> str:
    """A JSON string as canonical() writes it; actors, units, steps and types repeat: remembered."""
    out = _JS.get(value)
    if out is None:
        out = json.dumps(value, ensure_ascii=False)
        if len(_JS) < 100_000:
            _JS[value] = out
    return out


def _iso(at: Any) -> str:
    """`jsoncanon.iso` of a stored instant read without the model's types (naive UTC, or SQLite text)."""
    if type(at) is not datetime:
        at = datetime.fromisoformat(str(at))
    if at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return at.isoformat(timespec="microseconds") + "Z"


def fast_hash(prev: str, dossier_id: int, seq: int, etype: str, actor: str, unit: str | None, step: str | None,
              at: Any, payload: str) -> str:
    """`eventlog.event_hash`, without building and sorting a dict (keys written in sorted order)."""
    head = (f'{{"a":{_js(actor)},"at":"{_iso(at)}","d":{dossier_id},"s":{seq},"st":{_js(step)},"t":{_js(etype)},'
            f'"u":{_js(unit)}}}')
    return hashlib.sha256(f"{prev}\n{head}\n{payload}".encode()).hexdigest()


EVENTS = ("SELECT dossier_id, seq, type, actor, unit, step, at, payload, prev_hash, hash FROM case_event "
          "WHERE dossier_id >= :lo AND dossier_id < :hi ORDER BY dossier_id, seq")
HEADS = "SELECT id, last_seq, head_hash FROM dossier WHERE id >= :lo AND id < :hi"


def check_range(db: Database, lo: int, hi: int) -> tuple[int, list[dict[str, Any]]]:
    """(events checked, findings) for the dossiers with lo <= id < hi."""
    findings: list[dict[str, Any]] = []
    events = 0
    with db.read_engine.connect() as conn:
        heads = {int(r[0]): (int(r[1]), r[2]) for r in conn.execute(text(HEADS), {"lo": lo, "hi": hi})}
        seen: set[int] = set()
        current, expected, prev, bad = -1, 1, GENESIS, False

        def close(dossier_id: int) -> None:
            if dossier_id < 0 or bad:
                return
            last_seq, head_hash = heads.get(dossier_id, (None, None))
            if last_seq is None:
                findings.append(_finding(dossier_id, None, "events of a dossier that does not exist"))
            elif last_seq != expected - 1:  # numbered as history.check_chain numbers it
                n = expected - 1
                findings.append(_finding(dossier_id, n + 1 if last_seq > n else last_seq + 1,
                                         f"the dossier says {last_seq} events, the log holds {n}"))
            elif expected > 1 and head_hash != prev:
                findings.append(_finding(dossier_id, expected - 1,
                                         "the dossier's head hash is not the last event's hash"))

        result: Iterable[Sequence[Any]] = conn.execution_options(stream_results=True, yield_per=5000).execute(
            text(EVENTS), {"lo": lo, "hi": hi})  # the stored values, untyped: hashed as they are
        for did, seq, etype, actor, unit, step, at, payload, prev_hash, stored in result:
            events += 1
            if did != current:
                close(current)
                current, expected, prev, bad = did, 1, GENESIS, False
                seen.add(did)
            if bad:
                continue
            if seq != expected:
                findings.append(_finding(did, min(seq, expected), f"seq {expected}: missing or out of order"))
                bad = True
            elif prev_hash != prev:
                findings.append(_finding(did, seq, f"seq {seq}: does not follow the event before it"))
                bad = True
            elif fast_hash(prev, did, seq, etype, actor, unit, step, at, payload) != stored:
                findings.append(_finding(did, seq, f"seq {seq}: content does not match its hash"))
                bad = True
            else:
                prev, expected = stored, expected + 1
        close(current)
        for did, (last_seq, _head) in heads.items():
            if did not in seen and last_seq:
                findings.append(_finding(did, 1, f"the dossier says {last_seq} events; the log holds none"))
    return events, findings


def _finding(dossier_id: int, seq: int | None, message: str) -> dict[str, Any]:
    return {"layer": "chain", "dossier": dossier_id, "seq": seq, "message": f"dossier {dossier_id}: {message}"}


_worker_db: Database | None = None


def _check_in_worker(url: str, bounds: tuple[int, int]) -> tuple[int, list[dict[str, Any]]]:
    global _worker_db
    if _worker_db is None or _worker_db.url != url:
        _worker_db = Database(url, pool_size=1)
    return check_range(_worker_db, *bounds)


def ranges(db: Database) -> list[tuple[int, int]]:
    with db.read_engine.connect() as conn:
        top = conn.execute(text("SELECT max(id) FROM dossier")).scalar()
        low = conn.execute(text("SELECT min(dossier_id) FROM case_event")).scalar()
        high = conn.execute(text("SELECT max(dossier_id) FROM case_event")).scalar()
    end = max(int(top or 0), int(high or 0)) + 1
    start = min(1, int(low or 1))
    return [(lo, min(lo + RANGE, end)) for lo in range(start, end, RANGE)]


def verify_chains(db: Database, workers: int | None = None,
                  progress: Callable[[int], None] | None = None) -> tuple[int, list[dict[str, Any]]]:
    """Every chain, on every core (spawned processes, one range of dossiers per task)."""
    bounds = ranges(db)
    workers = workers or os.cpu_count() or 1
    pool = None
    if workers > 1 and len(bounds) > 1:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
        results: Iterator[tuple[int, list[dict[str, Any]]]] = pool.map(partial(_check_in_worker, db.url), bounds)
    else:
        results = (check_range(db, lo, hi) for lo, hi in bounds)
    events = 0
    findings: list[dict[str, Any]] = []
    try:
        for (_lo, hi), (n, found) in zip(bounds, results, strict=True):
            events += n
            findings += found
            if progress is not None:
                progress(hi - 1)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return events, findings
