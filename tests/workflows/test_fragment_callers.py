"""Two procedures calling the same bundled fragment, end to end, with every deadline computed by hand.

The fragments are the bundled ones (workflows/fragments/): `public_posting` — the commune land officer
posts for 15 working days with the clock paused (public posting is an excluded period), then records the
end of posting (P1D, clock runs) — and `financial_obligations` — the tax office determines the
obligations (P5D) and confirms the payment (P3D), both paused. The callers are test procedures
(bench/fragment_builder.py): `reissue_posting` (P10D) receives (P1D), calls public_posting, hands over
(PT4H); `split_posting` (P5D) receives (PT4H), calls public_posting then financial_obligations, hands over.

Calendar: office hours 07:30-11:30 and 13:00-17:00 (8 working hours a day); Saturday 7 Feb 2026 is a
make-up working day; Tết is Mon 16 - Fri 20 Feb 2026. No holiday in March 2026.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlalchemy import select

from bench.fragment_builder import caller_procedure
from engine.bootstrap import Landflow
from engine.history import verify
from engine.store import ProcedureVersionRow
from tests.conftest import local
from tests.workflows.conftest import HAI_CHAU, Desk, event_payloads


@pytest.fixture
def callers(danang: Landflow, deploy: Callable[..., None]) -> Landflow:
    deploy("public_posting", "financial_obligations")
    supervisor = danang.directory.get().officers["supervisor"]
    danang.runtime.deploy(supervisor, caller_procedure(
        "reissue_posting", "Cấp lại Giấy chứng nhận do mất (thử)", sla="P10D", fragment="public_posting").to_xml())
    danang.runtime.deploy(supervisor, caller_procedure(
        "split_posting", "Tách thửa có niêm yết (thử)", sla="P5D", fragment="public_posting", receive_sla="PT4H",
        then="financial_obligations").to_xml())
    return danang


def due(desk: Desk, step: str) -> object:
    item = desk.current
    assert item.step == step, f"expected {step}, the dossier is at {item.step}"
    return item.due_at


def verified(lf: Landflow, did: int) -> None:
    with lf.db.read() as s:
        v = verify(s, lf.procedures, did)
    assert v.chain_ok and v.replay_ok, v.problems


def test_reissue_posting_runs_the_posting_fragment(callers: Landflow, desk: Desk) -> None:
    desk.at(2026, 2, 5, 9, 0).open("desk.haichau", "reissue_posting", HAI_CHAU)
    # P10D from Thu 5 Feb 09:00: Fri 6, Sat 7 (make-up), Mon 9 … Fri 13 (7), Tết, Mon 23, Tue 24, Wed 25 Feb.
    assert desk.dossier.due_at == local(2026, 2, 25, 9, 0)
    [opened] = event_payloads(callers, desk.id, "opened")
    assert [(f["element"], f["key"], f["version"]) for f in opened["fragments"]] == [
        ("posting", "public_posting", 1)]

    assert due(desk, "receive") == local(2026, 2, 6, 9, 0)  # P1D from Thu 09:00
    desk.at(2026, 2, 5, 10, 0).step("desk.haichau", "receive", {"complete": True})
    # inside the fragment: the commune land officer of Hải Châu owns the posting
    item = desk.current
    assert (item.step, item.role, item.unit) == ("pp_post", "commune_land_officer", HAI_CHAU)
    # P15D from Thu 5 Feb 10:00: Fri 6, Sat 7, Mon 9 … Fri 13 (7), Mon 23 … Fri 27 (12), Mon 2, Tue 3, Wed 4 Mar
    assert item.due_at == local(2026, 3, 4, 10, 0)
    assert desk.dossier.paused_at == local(2026, 2, 5, 10, 0)  # public posting: the clock is paused
    desk.at(2026, 3, 4, 10, 0).step("land.haichau", "pp_post")
    # paused 15 working days: Wed 25 Feb 09:00 + 15 days = Thu 26, Fri 27, Mon 2 … Fri 6 (7), Mon 9 … Fri 13 (12),
    # Mon 16, Tue 17, Wed 18 Mar 09:00
    d = desk.dossier
    assert (d.paused_at, d.due_at) == (None, local(2026, 3, 18, 9, 0))
    assert due(desk, "pp_conclude") == local(2026, 3, 5, 10, 0)  # P1D from Wed 4 Mar 10:00
    desk.at(2026, 3, 5, 9, 0).step("land.haichau", "pp_conclude", {"posting_objections": False})
    # back in the caller: PT4H from Thu 5 Mar 09:00: 2.5 h before the lunch break, 1.5 h after
    assert due(desk, "handover") == local(2026, 3, 5, 14, 30)
    desk.at(2026, 3, 5, 14, 0).step("desk.haichau", "handover")
    d = desk.dossier
    assert (d.status, d.finished_at) == ("done", local(2026, 3, 5, 14, 0))
    assert desk.path == ["receive", "pp_post", "pp_conclude", "handover"]
    verified(callers, desk.id)


def test_split_posting_calls_posting_then_financial_obligations(callers: Landflow, desk: Desk) -> None:
    desk.at(2026, 2, 5, 9, 0).open("desk.haichau", "split_posting", HAI_CHAU)
    # P5D from Thu 5 Feb 09:00: Fri 6, Sat 7, Mon 9, Tue 10, Wed 11 Feb
    assert desk.dossier.due_at == local(2026, 2, 11, 9, 0)
    assert due(desk, "receive") == local(2026, 2, 5, 14, 30)  # PT4H from Thu 09:00
    desk.at(2026, 2, 5, 10, 0).step("desk.haichau", "receive", {"complete": True})
    assert due(desk, "pp_post") == local(2026, 3, 4, 10, 0)  # the same fragment, the same 15 days
    desk.at(2026, 3, 4, 10, 0).step("land.haichau", "pp_post")
    # paused 15 days: Wed 11 Feb 09:00 → Thu 12, Fri 13, Mon 23 … Fri 27 (7), Mon 2 … Fri 6 (12), Mon 9, Tue 10,
    # Wed 11 Mar 09:00
    assert desk.dossier.due_at == local(2026, 3, 11, 9, 0)
    desk.at(2026, 3, 4, 15, 0).step("land.haichau", "pp_conclude", {"posting_objections": False})
    # the second fragment: the tax office of Hải Châu; P5D from Wed 4 Mar 15:00: Thu 5 … Wed 11 Mar 15:00
    item = desk.current
    assert (item.step, item.role, item.due_at) == ("fo_assess", "tax_office", local(2026, 3, 11, 15, 0))
    assert desk.dossier.paused_at == local(2026, 3, 4, 15, 0)
    desk.at(2026, 3, 9, 15, 0).step("tax.haichau", "fo_assess", {"fo_amount": 5_000_000})
    assert due(desk, "fo_payment") == local(2026, 3, 12, 15, 0)  # P3D from Mon 9 Mar 15:00
    desk.at(2026, 3, 11, 15, 0).step("tax.haichau", "fo_payment", {"fo_payment_date": "2026-03-11"})
    # paused Wed 4 Mar 15:00 → Wed 11 Mar 15:00 = 5 working days: Wed 11 Mar 09:00 + 5 days = Wed 18 Mar 09:00
    d = desk.dossier
    assert (d.paused_at, d.due_at) == (None, local(2026, 3, 18, 9, 0))
    # PT4H from Wed 11 Mar 15:00: 2 h on Wednesday, 2 h from Thu 07:30
    assert due(desk, "handover") == local(2026, 3, 12, 9, 30)
    desk.at(2026, 3, 12, 9, 0).step("desk.haichau", "handover")
    assert desk.dossier.status == "done"
    assert desk.path == ["receive", "pp_post", "pp_conclude", "fo_assess", "fo_payment", "handover"]
    [opened] = event_payloads(callers, desk.id, "opened")
    assert [(f["element"], f["key"]) for f in opened["fragments"]] == [  # by element id
        ("obligations", "financial_obligations"), ("posting", "public_posting")]
    verified(callers, desk.id)


def test_both_callers_are_bound_to_the_same_fragment_version(callers: Landflow) -> None:
    with callers.db.read() as s:
        rows = {r.key: json.loads(r.meta) for r in s.scalars(select(ProcedureVersionRow))}
        posting_hash = s.scalar(select(ProcedureVersionRow.content_hash).where(
            ProcedureVersionRow.key == "public_posting"))
    bound = {key: [(b["key"], b["version"], b["content_hash"]) for b in rows[key]["fragments"]
                   if b["key"] == "public_posting"] for key in ("reissue_posting", "split_posting")}
    assert bound == {"reissue_posting": [("public_posting", 1, posting_hash)],
                     "split_posting": [("public_posting", 1, posting_hash)]}
