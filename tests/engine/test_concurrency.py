"""Officers acting at the same moment against a real database: one wins, the others are told."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from engine.bootstrap import Landflow
from engine.history import verify
from engine.runtime import CommandRefused
from engine.store import CaseEventRow, WorkItemRow
from tests.conftest import officer


def test_two_officers_complete_the_same_item_at_once(small: Landflow) -> None:
    rt = small.runtime
    for round_ in range(5):
        st = rt.open(officer(small, "desk.w1"), "small_test", "W1", {"name": f"R{round_}"}, {})
        with small.db.read() as s:
            item_id = s.scalars(select(WorkItemRow.id).where(WorkItemRow.dossier_id == st.id)).one()
        barrier = threading.Barrier(2)

        def attempt(username: str, barrier: threading.Barrier = barrier, item_id: int = item_id) -> str:
            barrier.wait()
            try:
                rt.complete(officer(small, username), item_id, {"complete": True})
                return "ok"
            except CommandRefused as err:
                return err.kind

        with ThreadPoolExecutor(2) as pool:
            results = sorted(pool.map(attempt, ["desk.w1", "desk2.w1"]))
        assert results == ["conflict", "ok"], results
        with small.db.read() as s:
            types = list(s.scalars(select(CaseEventRow.type).where(CaseEventRow.dossier_id == st.id)
                                   .order_by(CaseEventRow.seq)))
            assert types.count("completed") == 1
            assert types == ["opened", "completed", "action_refused"]
            assert verify(s, small.procedures, st.id).ok


def test_many_threads_claiming_one_item(small: Landflow) -> None:
    rt = small.runtime
    st = rt.open(officer(small, "desk.w1"), "small_test", "W1", {"name": "X"}, {})
    with small.db.read() as s:
        item_id = s.scalars(select(WorkItemRow.id).where(WorkItemRow.dossier_id == st.id)).one()
    barrier = threading.Barrier(8)
    users = ["desk.w1", "desk2.w1"] * 4

    def attempt(username: str) -> str:
        barrier.wait()
        try:
            rt.claim(officer(small, username), item_id)
            return "ok"
        except CommandRefused as err:
            return err.code

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(attempt, users))
    assert results.count("ok") == 1
    assert set(results) - {"ok"} <= {"claimed_by_other", "already_claimed"}
    with small.db.read() as s:
        claims = s.scalars(select(CaseEventRow).where(CaseEventRow.dossier_id == st.id,
                                                      CaseEventRow.type == "claimed")).all()
        assert len(claims) == 1
        seqs = list(s.scalars(select(CaseEventRow.seq).where(CaseEventRow.dossier_id == st.id)
                              .order_by(CaseEventRow.seq)))
        assert seqs == list(range(1, 10))
        assert verify(s, small.procedures, st.id).ok
