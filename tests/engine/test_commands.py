"""Engine commands: who may act, what a refusal leaves behind, and the accountability signals."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from api.problems import status_of
from engine.bootstrap import Landflow
from engine.clock import FixedClock
from engine.runtime import CommandRefused
from engine.store import CaseEventRow, DossierRow, SignalRow, WorkItemRow
from tests.conftest import local, officer


def items(lf: Landflow, dossier_id: int) -> list[WorkItemRow]:
    with lf.db.read() as s:
        return list(s.scalars(select(WorkItemRow).where(WorkItemRow.dossier_id == dossier_id)
                              .order_by(WorkItemRow.ordinal)))


def current(lf: Landflow, dossier_id: int) -> WorkItemRow:
    (item,) = [i for i in items(lf, dossier_id) if i.state in ("ready", "claimed")]
    return item


def snapshot_of(lf: Landflow, dossier_id: int) -> dict[str, Any]:
    with lf.db.read() as s:
        d = s.get(DossierRow, dossier_id)
        assert d is not None
        row = {c: getattr(d, c) for c in ("status", "version", "due_at", "commune", "supplement_count")}
    row["items"] = [(i.ordinal, i.state, i.assignee, i.unit, i.due_at) for i in items(lf, dossier_id)]
    return row


def events(lf: Landflow, dossier_id: int) -> list[CaseEventRow]:
    with lf.db.read() as s:
        return list(s.scalars(select(CaseEventRow).where(CaseEventRow.dossier_id == dossier_id)
                              .order_by(CaseEventRow.seq)))


def signals(lf: Landflow, dossier_id: int | None = None) -> list[tuple[str, str | None, str | None]]:
    with lf.db.read() as s:
        q = select(SignalRow).order_by(SignalRow.id)
        if dossier_id is not None:
            q = q.where(SignalRow.dossier_id == dossier_id)
        return [(x.kind, x.officer, x.reason) for x in s.scalars(q)]


@pytest.fixture
def at_verify(small: Landflow) -> tuple[Landflow, int]:
    """A dossier whose receipt is done: the land officer of W1 holds the verify step."""
    st = small.runtime.open(officer(small, "desk.w1"), "small_test", "W1", {"name": "A"}, {})
    small.runtime.complete(officer(small, "desk.w1"), current(small, st.id).id, {"complete": True})
    return small, st.id


@pytest.mark.parametrize("who,code", [("chair.w1", "wrong_role"), ("land.c2", "wrong_unit"),
                                      ("auditor", "read_only")])
def test_completion_by_the_wrong_officer_is_refused_and_recorded(at_verify: tuple[Landflow, int], who: str,
                                                                 code: str) -> None:
    lf, did = at_verify
    before = snapshot_of(lf, did)
    n_events = len(events(lf, did))
    with pytest.raises(CommandRefused) as info:
        lf.runtime.complete(officer(lf, who), current(lf, did).id, {"eligible": True, "area": 10})
    assert (info.value.kind, info.value.code, status_of(info.value)) == ("forbidden", code, 403)
    assert snapshot_of(lf, did) == before
    evs = events(lf, did)
    assert len(evs) == n_events + 1
    assert (evs[-1].type, evs[-1].actor, evs[-1].step) == ("action_refused", who, "verify")
    assert code in evs[-1].payload
    assert [s[:2] for s in signals(lf, did)] == [("unauthorised_attempt", who)]


def test_claims_belong_to_one_officer(at_verify: tuple[Landflow, int]) -> None:
    lf, did = at_verify
    item = current(lf, did)
    lf.runtime.claim(officer(lf, "land.w1"), item.id)
    with pytest.raises(CommandRefused) as info:
        lf.runtime.complete(officer(lf, "land2.w1"), item.id, {"eligible": True, "area": 10})
    assert (info.value.code, status_of(info.value)) == ("claimed_by_other", 409)
    with pytest.raises(CommandRefused):
        lf.runtime.release(officer(lf, "land2.w1"), item.id)
    lf.runtime.release(officer(lf, "land.w1"), item.id)
    lf.runtime.complete(officer(lf, "land2.w1"), item.id, {"eligible": True, "area": 10})
    assert current(lf, did).step == "post"


def test_stale_version_and_bad_form_data_are_refused(at_verify: tuple[Landflow, int]) -> None:
    lf, did = at_verify
    item = current(lf, did)
    version = snapshot_of(lf, did)["version"]
    with pytest.raises(CommandRefused) as info:
        lf.runtime.claim(officer(lf, "land.w1"), item.id, expected_version=version - 1)
    assert (info.value.code, status_of(info.value)) == ("stale_version", 412)
    for data, fragment in (({"eligible": True}, "area: required"), ({"eligible": "perhaps", "area": 1}, "eligible"),
                           ({"eligible": True, "area": 1, "fee": 0}, "fee: not a field")):
        with pytest.raises(CommandRefused) as info:
            lf.runtime.complete(officer(lf, "land.w1"), item.id, data, expected_version=version)
        assert info.value.code == "invalid_data" and fragment in info.value.message
    assert snapshot_of(lf, did)["version"] == version
    assert [e.type for e in events(lf, did)][-4:] == ["action_refused"] * 4


def test_return_needs_a_reason_and_an_earlier_step(at_verify: tuple[Landflow, int]) -> None:
    lf, did = at_verify
    land = officer(lf, "land.w1")
    item = current(lf, did)
    for reason, to_step, code in (("", "receive", "missing_reason"), ("  ", "receive", "missing_reason"),
                                  ("thiếu", "sign", "illegal_target"), ("thiếu", "nowhere", "illegal_target")):
        with pytest.raises(CommandRefused) as info:
            lf.runtime.return_(land, item.id, to_step, reason)
        assert info.value.code == code
    assert current(lf, did).step == "verify"
    lf.runtime.return_(land, item.id, "receive", "Hồ sơ thiếu trích lục bản đồ")
    back = current(lf, did)
    assert (back.step, back.unit, back.role) == ("receive", "W1", "one_stop_desk")
    returned = [i for i in items(lf, did) if i.ordinal == item.ordinal][0]
    assert (returned.state, returned.outcome, returned.done_by) == ("done", "returned", "land.w1")
    assert signals(lf, did)[-1] == ("returned", "land.w1", "Hồ sơ thiếu trích lục bản đồ")
    # the procedure continues normally from the step it went back to
    lf.runtime.complete(officer(lf, "desk.w1"), back.id, {"complete": True})
    assert current(lf, did).step == "verify"


def test_transfer_and_ping_pong(at_verify: tuple[Landflow, int]) -> None:
    lf, did = at_verify
    item = current(lf, did)
    with pytest.raises(CommandRefused) as info:
        lf.runtime.transfer(officer(lf, "land.w1"), item.id, "", to_unit="C2")
    assert info.value.code == "missing_reason"
    with pytest.raises(CommandRefused) as info:
        lf.runtime.transfer(officer(lf, "land.w1"), item.id, "không thuộc địa bàn", to_unit="BR1")
    assert info.value.code == "illegal_target"  # BR1 has no commune land officer
    lf.runtime.transfer(officer(lf, "land.w1"), item.id, "thửa đất thuộc xã Hai", to_unit="C2")
    moved = current(lf, did)
    assert (moved.unit, moved.state, moved.assignee) == ("C2", "ready", None)
    with pytest.raises(CommandRefused):  # W1 no longer holds it
        lf.runtime.claim(officer(lf, "land.w1"), item.id)
    lf.runtime.transfer(officer(lf, "land.c2"), item.id, "thửa đất thuộc phường Một", to_unit="W1")
    kinds = [s[0] for s in signals(lf, did)]
    # the missing reason and the unit without such an officer are refusals, not signals (decision 0050)
    assert kinds == ["rerouted", "unauthorised_attempt", "rerouted", "ping_pong"]
    # a transfer to a named officer reserves the item for them
    lf.runtime.transfer(officer(lf, "land.w1"), item.id, "giao chuyên viên", to_officer="land2.w1")
    with pytest.raises(CommandRefused) as info:
        lf.runtime.claim(officer(lf, "land.w1"), item.id)
    assert info.value.code == "reserved_for_other"
    lf.runtime.claim(officer(lf, "land2.w1"), item.id)


def test_second_supplement_request_is_a_signal(small: Landflow, clock: FixedClock) -> None:
    rt = small.runtime
    st = rt.open(officer(small, "desk.w1"), "small_test", "W1", {"name": "A"}, {})
    item = current(small, st.id)
    with pytest.raises(CommandRefused):
        rt.request_supplement(officer(small, "desk.w1"), item.id, "")
    rt.request_supplement(officer(small, "desk.w1"), item.id, "thiếu giấy tờ")
    with pytest.raises(CommandRefused) as info:
        rt.complete(officer(small, "desk.w1"), item.id, {"complete": True})
    assert info.value.code == "awaiting_supplement"
    clock.advance(hours=2)
    rt.receive_supplement(officer(small, "desk.w1"), st.id, "đã bổ sung")
    rt.request_supplement(officer(small, "desk.w1"), item.id, "thiếu chữ ký")
    assert [s[0] for s in signals(small, st.id)] == ["repeat_supplement"]  # the refusals are no misconduct
    assert snapshot_of(small, st.id)["supplement_count"] == 2


def test_apology_once_with_a_later_date(small: Landflow, clock: FixedClock) -> None:
    rt = small.runtime
    st = rt.open(officer(small, "desk.w1"), "small_test", "W1", {"name": "A"}, {})
    with pytest.raises(CommandRefused) as info:
        rt.apologise(officer(small, "land.c2"), st.id, "quá tải", local(2026, 2, 20, 9, 0))
    assert info.value.code == "wrong_unit"  # C2 does not hold the dossier
    with pytest.raises(CommandRefused) as info:
        rt.apologise(officer(small, "desk.w1"), st.id, "", local(2026, 2, 20, 9, 0))
    assert info.value.code == "missing_reason"
    with pytest.raises(CommandRefused) as info:  # due Wed 11/02 09:00: four working days left
        rt.apologise(officer(small, "desk.w1"), st.id, "quá tải", local(2026, 2, 24, 9, 0))
    assert info.value.code == "not_late"
    clock.set(local(2026, 2, 10, 9, 0))  # one working day left
    with pytest.raises(CommandRefused) as info:
        rt.apologise(officer(small, "desk.w1"), st.id, "quá tải", local(2026, 2, 10, 9, 0))
    assert info.value.code == "invalid_data"  # not later than the deadline
    rt.apologise(officer(small, "desk.w1"), st.id, "quá tải hồ sơ", local(2026, 2, 24, 9, 0))
    with small.db.read() as s:
        d = s.get(DossierRow, st.id)
        assert d is not None and d.apologised and d.due_at == local(2026, 2, 24, 9, 0)
        assert d.statutory_due_at == local(2026, 2, 11, 9, 0)
    with pytest.raises(CommandRefused) as info:
        rt.apologise(officer(small, "desk.w1"), st.id, "lần nữa", local(2026, 2, 25, 9, 0))
    assert info.value.code == "already_apologised"


def test_stop_and_cancel_close_every_open_item(small: Landflow) -> None:
    rt = small.runtime
    a = rt.open(officer(small, "desk.w1"), "small_test", "W1", {"name": "A"}, {})
    b = rt.open(officer(small, "desk.w1"), "small_test", "W1", {"name": "B"}, {})
    with pytest.raises(CommandRefused):
        rt.stop(officer(small, "land.w1"), a.id, "người dân xin dừng")
    rt.stop(officer(small, "desk.w1"), a.id, "người dân xin dừng")
    rt.cancel(officer(small, "supervisor"), b.id, "trùng hồ sơ")
    for did, status in ((a.id, "stopped"), (b.id, "cancelled")):
        snap = snapshot_of(small, did)
        assert snap["status"] == status
        assert [i[1] for i in snap["items"]] == ["cancelled"]
    with pytest.raises(CommandRefused) as info:
        rt.claim(officer(small, "desk.w1"), items(small, a.id)[0].id)
    assert info.value.code in ("finished", "not_ready")


def test_refused_open_is_recorded_without_a_dossier(small: Landflow) -> None:
    with pytest.raises(CommandRefused):
        small.runtime.open(officer(small, "land.w1"), "small_test", "W1", {"name": "A"}, {})
    with pytest.raises(CommandRefused) as info:
        small.runtime.open(officer(small, "desk.w1"), "small_test", "NOWHERE", {"name": "A"}, {})
    assert info.value.code == "invalid_data"
    with pytest.raises(CommandRefused) as info:
        small.runtime.open(officer(small, "desk.w1"), "no_such", "W1", {"name": "A"}, {})
    assert info.value.code == "unknown_procedure"
    with small.db.read() as s:
        assert s.scalar(select(func.count()).select_from(DossierRow)) == 0
    # only the officer without the desk role acted outside their role; the two typos are no signal
    assert [k for k, *_ in signals(small)] == ["unauthorised_attempt"]
