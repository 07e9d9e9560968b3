"""The work one process does in the engine-level race (tests/reliability/test_races_engine.py).

Importable by `multiprocessing` (spawn): each process builds its own engine on the same database, as
gunicorn workers do, and runs its threads against the same work items.
"""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from config.settings import Settings
from engine.bootstrap import Landflow, build
from engine.clock import FixedClock
from engine.runtime import CommandRefused
from engine.store import DossierRow, WorkItemRow

# small_test's land-officer steps; the officers of W1 and C2 who may (or may not) act on them
RACED = ("verify", "post")
UNIT_OF = {"land.w1": "W1", "land2.w1": "W1", "land.c2": "C2"}
OTHER = {"W1": "C2", "C2": "W1"}
DATA: dict[str, dict[str, Any]] = {"verify": {"eligible": True, "area": 120}, "post": {}}
ACTIONS = ("claim", "complete", "complete", "transfer", "release")


@dataclass(frozen=True)
class Job:
    database_url: str
    var_dir: str
    calendar_file: str
    now: str  # ISO instant of the FixedClock (the test's clock)
    dossiers: tuple[int, ...]
    threads: int
    per_thread: int
    seed: int


def engine_for(job: Job) -> Landflow:
    from datetime import datetime

    settings = Settings.from_env({}, database_url=job.database_url, var_dir=Path(job.var_dir),
                                 calendar_file=Path(job.calendar_file), sla_overrides={})
    return build(settings, clock=FixedClock(datetime.fromisoformat(job.now)))


def one_op(lf: Landflow, rng: random.Random, dossiers: tuple[int, ...]) -> tuple[Any, ...] | None:
    dossier = rng.choice(dossiers)
    with lf.db.read() as s:
        version = s.scalar(select(DossierRow.version).where(DossierRow.id == dossier))
        open_rows = s.execute(select(WorkItemRow.id, WorkItemRow.ordinal, WorkItemRow.step).where(
            WorkItemRow.dossier_id == dossier, WorkItemRow.state.in_(("ready", "claimed")),
            WorkItemRow.step.in_(RACED))).all()
    if not open_rows:
        return None
    item_id, ordinal, step = open_rows[0]
    actor = rng.choice(list(UNIT_OF))
    action = rng.choice(ACTIONS)
    dice = rng.random()
    expected = version if dice < 0.4 else (1 if dice < 0.5 else None)
    officer = lf.directory.get().officers[actor]
    rt = lf.runtime
    try:
        if action == "claim":
            rt.claim(officer, item_id, expected_version=expected)
        elif action == "release":
            rt.release(officer, item_id, expected_version=expected)
        elif action == "complete":
            rt.complete(officer, item_id, DATA[step], expected_version=expected)
        else:
            rt.transfer(officer, item_id, "chuyển đúng thẩm quyền", to_unit=OTHER[UNIT_OF[actor]],
                        expected_version=expected)
        return (dossier, ordinal, action, actor, "ok", None)
    except CommandRefused as err:
        return (dossier, ordinal, action, actor, err.kind, err.code)
    except Exception as err:  # anything else is a defect the test reports
        return (dossier, ordinal, action, actor, "error", f"{type(err).__name__}: {err}"[:300])


def run(job: Job) -> list[tuple[Any, ...]]:
    lf = engine_for(job)
    out: list[tuple[Any, ...]] = []
    lock = threading.Lock()
    start = threading.Barrier(job.threads)

    def thread(n: int) -> None:
        rng = random.Random(job.seed * 1000 + n)
        start.wait()
        for _ in range(job.per_thread):
            result = one_op(lf, rng, job.dossiers)
            if result is not None:
                with lock:
                    out.append(result)

    try:
        with ThreadPoolExecutor(job.threads) as pool:
            list(pool.map(thread, range(job.threads)))
    finally:
        lf.close()
    return out
