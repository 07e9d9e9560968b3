"""4 processes × 8 threads (32 in all) race claim/complete/transfer/release on the same work items,
through the engine, on SQLite and PostgreSQL; each process has its own engine, caches and connection
pool, as gunicorn workers do.

Every item is completed exactly once; every success is one event and every refusal one
`action_refused` event; every chain verifies; a loser gets a refusal of kind conflict (409) or stale
(412) — or forbidden (403) when the item has meanwhile been transferred out of the actor's unit —
and nothing else ever escapes (no OperationalError, no IntegrityError).
"""

from __future__ import annotations

import json
import multiprocessing
from collections import Counter

from sqlalchemy import select

from engine.bootstrap import Landflow
from engine.history import verify
from engine.store import CaseEventRow, WorkItemRow
from tests.conftest import local, officer
from tests.support.figures import Figures

from .conftest import scale
from .engine_hammer import DATA, RACED, UNIT_OF, Job, engine_for, run

EVENT_OF = {"claim": "claimed", "complete": "completed", "transfer": "transferred", "release": "released"}
LOSER_KINDS = {"conflict", "stale", "forbidden"}


def test_four_processes_of_eight_threads_race_on_the_same_items(small: Landflow, figures: Figures) -> None:
    rt = small.runtime
    desk = officer(small, "desk.w1")
    dossiers = []
    for n in range(scale(12, 40)):
        st = rt.open(desk, "small_test", "W1", {"name": f"Race {n}"}, {})
        (receive,) = st.open_items()
        rt.complete(desk, receive.id, {"complete": True})
        dossiers.append(st.id)
    settings = small.settings
    job = dict(database_url=settings.database_url, var_dir=str(settings.var_dir),
               calendar_file=str(settings.calendar_file), now=small.clock.now().isoformat(),
               dossiers=tuple(dossiers), threads=8, per_thread=scale(15, 150))
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        results = pool.map(run, [Job(**job, seed=p) for p in range(4)])  # type: ignore[arg-type]
    outcomes = [o for part in results for o in part]
    figures.add("operations", len(outcomes))

    kinds = Counter(o[4] for o in outcomes)
    assert set(kinds) <= {"ok"} | LOSER_KINDS, [o for o in outcomes if o[4] not in {"ok"} | LOSER_KINDS][:5]
    codes = Counter(o[5] for o in outcomes if o[4] != "ok")
    assert {"claimed_by_other", "stale_version"} <= set(codes), codes  # a real race happened

    # finish the raced steps of every dossier
    lf = engine_for(Job(**job, seed=99))  # type: ignore[arg-type]
    finals: Counter[tuple[int, int]] = Counter()
    try:
        for dossier in dossiers:
            while True:
                with lf.db.read() as s:
                    left = s.execute(select(WorkItemRow).where(
                        WorkItemRow.dossier_id == dossier, WorkItemRow.state.in_(("ready", "claimed")),
                        WorkItemRow.step.in_(RACED))).scalars().all()
                if not left:
                    break
                (it,) = left
                who = it.assignee or next(u for u, unit in UNIT_OF.items() if unit == it.unit)
                lf.runtime.complete(officer(lf, who), it.id, DATA[it.step])
                finals[(dossier, it.ordinal)] += 1
    finally:
        lf.close()

    lost = refusals = 0
    try:
        with small.db.read() as s:
            for dossier in dossiers:
                events = list(s.scalars(select(CaseEventRow).where(CaseEventRow.dossier_id == dossier)
                                        .order_by(CaseEventRow.seq)))
                assert [e.seq for e in events] == list(range(1, len(events) + 1))
                on = [(e.type, e.step, json.loads(e.payload).get("item")) for e in events]
                raced = sorted({item for _t, step, item in on if step in RACED and item is not None})
                assert len(raced) >= 2
                for ordinal in raced:
                    mine = [o for o in outcomes if o[0] == dossier and o[1] == ordinal]
                    on_item = Counter(t for t, _step, item in on if item == ordinal)
                    acked = Counter(EVENT_OF[o[2]] for o in mine if o[4] == "ok")
                    acked["completed"] += finals[(dossier, ordinal)]
                    lost += sum(max(0, acked[t] - on_item[t]) for t in EVENT_OF.values())
                    assert acked["completed"] == 1 == on_item["completed"], (dossier, ordinal, acked, on_item)
                    for etype in EVENT_OF.values():
                        assert on_item[etype] == acked[etype], (dossier, ordinal, etype, on_item, acked)
                    refused = sum(1 for o in mine if o[4] != "ok")
                    assert on_item["action_refused"] == refused, (dossier, ordinal, on_item, refused)
                    refusals += refused
                result = verify(s, small.procedures, dossier)
                assert result.ok, (dossier, result.problems)
    finally:
        figures.add("losses", lost)
        figures.add("refusals_checked", refusals)
    assert local(2026, 2, 5, 9, 0) == small.clock.now()  # nobody moved the test's clock


def test_refusals_outside_any_dossier_race_into_one_audit_chain(small: Landflow, figures: Figures) -> None:
    """Refused opens (and refused deploys) have no dossier to lock: they go to the one audit-log chain.
    32 threads refused at once must all be recorded, each once, in a chain that still verifies."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from engine import audit
    from engine.runtime import CommandRefused
    from engine.store import AuditEntryRow

    threads, per_thread = 32, scale(4, 40)
    land = officer(small, "land.w1")  # not a desk: every open is refused
    start = Barrier(threads)

    def attempt(n: int) -> list[str]:
        start.wait()
        out = []
        for k in range(per_thread):
            try:
                small.runtime.open(land, "small_test", "W1", {"name": f"Refused {n}.{k}"}, {})
                out.append("opened")
            except CommandRefused as err:
                out.append(err.code)
            except Exception as err:
                out.append(f"{type(err).__name__}: {err}"[:200])
        return out

    with ThreadPoolExecutor(threads) as pool:
        results = [r for part in pool.map(attempt, range(threads)) for r in part]
    figures.add("operations", len(results))
    assert Counter(results) == {"wrong_role": threads * per_thread}, Counter(results).most_common(3)
    with small.db.read() as s:
        refused = s.scalars(select(AuditEntryRow).where(AuditEntryRow.type == "action_refused")).all()
        recorded = len(refused)
        assert audit.verify_log(s) == (True, None)
    figures.add("refusals_checked", recorded)
    figures.add("losses", threads * per_thread - recorded)
    assert recorded == threads * per_thread
