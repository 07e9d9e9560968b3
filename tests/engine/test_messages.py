"""Message catch events: the dossier waits for another agency's answer (the tax notice), an officer of
that agency delivers it, the engine records `message_received`, and replay catches it again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.bootstrap import Landflow
from engine.clock import FixedClock
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.history import replay, verify
from engine.store import CaseEventRow, DossierRow, WorkItemRow
from tests.conftest import local, officer
from tests.support.bpmn_builder import message_procedure, message_xml


@pytest.fixture
def messaged(lf: Landflow) -> Landflow:
    lf.runtime.deploy(officer(lf, "supervisor"), message_procedure().to_xml())
    return lf


def events(lf: Landflow, did: int) -> list[tuple[str, dict[str, object]]]:
    with lf.db.read() as s:
        return [(t, json.loads(p)) for t, p in s.execute(select(CaseEventRow.type, CaseEventRow.payload).where(
            CaseEventRow.dossier_id == did).order_by(CaseEventRow.seq))]


def dossier(lf: Landflow, did: int) -> DossierRow:
    with lf.db.read() as s:
        row = s.get(DossierRow, did)
        assert row is not None
        s.expunge(row)
        return row


def open_steps(lf: Landflow, did: int) -> list[str]:
    with lf.db.read() as s:
        return list(s.scalars(select(WorkItemRow.step).where(
            WorkItemRow.dossier_id == did, WorkItemRow.state.in_(("ready", "claimed"))).order_by(WorkItemRow.ordinal)))


def to_the_wait(lf: Landflow) -> tuple[int, str]:
    desk, land = officer(lf, "desk.w1"), officer(lf, "land.w1")
    st = lf.runtime.open(desk, "message_test", "W1", {"name": "A"})
    lf.runtime.complete(desk, st.items[1].id, {})
    for step in ("verify", "send_form19"):
        with lf.db.read() as s:
            item = s.scalar(select(WorkItemRow).where(WorkItemRow.dossier_id == st.id, WorkItemRow.step == step))
            assert item is not None
            item_id = item.id
        lf.runtime.complete(land, item_id, {})
    return st.id, st.code


def test_the_tax_notice_is_awaited_then_delivered_once(messaged: Landflow, clock: FixedClock) -> None:
    lf = messaged
    clock.set(local(2026, 3, 2, 8, 0))  # Monday
    did, code = to_the_wait(lf)
    # waiting: nothing open, not stuck, the clock paused (clock=paused on the catch event)
    row = dossier(lf, did)
    assert (row.status, row.awaiting, row.awaiting_paused) == ("in_progress", "tax_wait", True)
    assert row.paused_at == local(2026, 3, 2, 8, 0)
    assert row.due_at == local(2026, 3, 9, 8, 0)  # P5D from Monday 08:00
    assert open_steps(lf, did) == []
    tax, land = officer(lf, "tax.1"), officer(lf, "land.w1")
    with pytest.raises(Forbidden) as wrong:
        lf.runtime.deliver_message(land, code, "tax_notice", {"amount": 1, "notice_no": "TB-1"}, "k-0")
    assert wrong.value.code == "wrong_role"
    with pytest.raises(Invalid) as bad:
        lf.runtime.deliver_message(tax, code, "tax_notice", {"amount": "nhiều"}, "k-1")
    assert bad.value.code == "invalid_data"
    with pytest.raises(Invalid) as unknown:
        lf.runtime.deliver_message(tax, code, "payment_done", {}, "k-2")
    assert unknown.value.code == "unknown_message"
    with pytest.raises(NotFound):
        lf.runtime.deliver_message(tax, "NO-SUCH-CODE", "tax_notice", {}, "k-3")
    # two working days later (Wednesday 08:00) the notice comes
    clock.set(local(2026, 3, 4, 8, 0))
    first = lf.runtime.deliver_message(tax, code, "tax_notice", {"amount": "35.000.000", "notice_no": "TB-7"}, "k-4")
    assert (first.element, first.repeated) == ("tax_wait", False)
    row = dossier(lf, did)
    assert (row.awaiting, row.awaiting_paused, row.paused_at) == (None, False, None)
    assert row.due_at == local(2026, 3, 11, 8, 0)  # moved later by the two paused working days
    assert open_steps(lf, did) == ["sign"]
    received = [p for t, p in events(lf, did) if t == "message_received"]
    assert received == [{"message": "tax_notice", "element": "tax_wait", "data": {"amount": 35000000,
                         "notice_no": "TB-7"}, "key": "k-4", "fx": received[0]["fx"]}]
    # the same key again: the first answer, nothing recorded
    count = len(events(lf, did))
    again = lf.runtime.deliver_message(tax, code, "tax_notice", {"amount": "35.000.000", "notice_no": "TB-7"}, "k-4")
    assert again == first.__class__(**{**first.__dict__, "repeated": True})
    assert len(events(lf, did)) == count
    # the same key for another message is refused; a new key while not waiting is refused too
    with pytest.raises(Conflict) as not_waiting:
        lf.runtime.deliver_message(tax, code, "tax_notice", {"amount": 1, "notice_no": "TB-8"}, "k-5")
    assert not_waiting.value.code == "not_awaiting"
    refused = [p["code"] for t, p in events(lf, did) if t == "action_refused"]
    assert refused == ["wrong_role", "invalid_data", "unknown_message", "not_awaiting"]
    with lf.db.read() as s:
        result = verify(s, lf.procedures, did)
        assert result.ok, result.problems
        seq = [t for t, _ in events(lf, did)].index("message_received")
        before = replay(s, lf.procedures, did, seq)
        assert before.state.awaiting == "tax_wait" and before.state.open_items() == []


def test_the_message_data_reaches_the_workflow(messaged: Landflow, clock: FixedClock) -> None:
    lf = messaged
    clock.set(local(2026, 3, 2, 8, 0))
    did, code = to_the_wait(lf)
    lf.runtime.deliver_message(officer(lf, "tax.1"), code, "tax_notice", {"amount": 12, "notice_no": "TB-1"}, "a")
    lf.workflows.clear()  # from the snapshot and the recorded events, as another process would
    with lf.db.read() as s:
        item = s.scalar(select(WorkItemRow).where(WorkItemRow.dossier_id == did, WorkItemRow.step == "sign"))
        assert item is not None
    st = lf.runtime.complete(officer(lf, "chair.w1"), item.id, {})
    assert st.status == "done"
    with lf.db.read() as s:
        assert verify(s, lf.procedures, did).ok


def test_verify_finds_a_chain_rewritten_to_hide_the_wait(messaged: Landflow, clock: FixedClock) -> None:
    """An insider rewrites the chain (hashes recomputed) so that the dossier never waited for the tax office:
    replay catches the message event the procedure does wait on, and verify says so."""
    from tests.support.tamper import rewrite_chain

    lf = messaged
    clock.set(local(2026, 3, 2, 8, 0))
    did, _code = to_the_wait(lf)

    def hide(_seq: int, etype: str, payload: dict[str, object]) -> dict[str, object]:
        fx = payload.get("fx")
        if etype == "completed" and isinstance(fx, dict) and "awaiting" in fx.get("dossier", {}):
            return {**payload, "fx": {"dossier": {"paused_at": None}}}
        return payload

    rewrite_chain(lf.db, did, hide)
    with lf.db.read() as s:
        result = verify(s, lf.procedures, did)
    assert not result.ok
    assert any("message events ['tax_wait']" in p for p in result.problems), result.problems


def test_the_wait_and_the_answer_are_an_activity_in_the_process_mining_export(messaged: Landflow, clock: FixedClock,
                                                                                  tmp_path: Path) -> None:
    import pm4py

    from engine.export import ExportFilter, write_ocel, write_xes

    lf = messaged
    clock.set(local(2026, 3, 2, 8, 0))
    _did, code = to_the_wait(lf)
    clock.set(local(2026, 3, 4, 8, 0))
    lf.runtime.deliver_message(officer(lf, "tax.1"), code, "tax_notice", {"amount": 5, "notice_no": "TB-1"}, "k")
    write_xes(lf.db, ExportFilter(procedure="message_test"), tmp_path / "log.xes")
    log = pm4py.read_xes(str(tmp_path / "log.xes"))
    rows = log[log["landflow:kind"] == "message"]
    assert [(r["concept:name"], r["lifecycle:transition"], r["org:resource"], r["org:role"])
            for _, r in rows.iterrows()] == [
        ("Thông báo nghĩa vụ tài chính", "schedule", "land.w1", "tax_office"),
        ("Thông báo nghĩa vụ tài chính", "complete", "tax.1", "tax_office")]
    waited = rows["time:timestamp"].iloc[1] - rows["time:timestamp"].iloc[0]
    assert waited.days == 2  # Monday 08:00 to Wednesday 08:00
    n_objects, n_events = write_ocel(lf.db, ExportFilter(procedure="message_test"), tmp_path / "log.ocel.json")
    assert n_events == len(log)


def test_a_boundary_message_interrupts_the_step_it_hangs_on(lf: Landflow, clock: FixedClock) -> None:
    """A message on a step's boundary (here: the tax office's notice arriving while the land officer still
    verifies) closes the step's item as cancelled and takes the boundary's path."""
    from tests.support.bpmn_builder import Flow, Node

    proc = message_procedure()
    proc.nodes.append(Node("early", "boundary", "Thông báo thuế đến sớm", lane="commune_land_officer", col=2,
                           attrs={"attachedToRef": "verify", "cancelActivity": "true"},
                           props={"from_role": "tax_office", "form": "notice_no:text!"},
                           extra_xml=message_xml("Message_early")))
    proc.flows.append(Flow("f_early", "early", "sign"))
    proc.definitions_xml += '<bpmn:message id="Message_early" name="tax_notice_early" />'
    lf.runtime.deploy(officer(lf, "supervisor"), proc.to_xml())
    clock.set(local(2026, 3, 2, 8, 0))
    desk = officer(lf, "desk.w1")
    st = lf.runtime.open(desk, "message_test", "W1", {"name": "A"})
    lf.runtime.complete(desk, st.items[1].id, {})
    row = dossier(lf, st.id)
    assert (row.awaiting, row.awaiting_paused, row.paused_at) == ("early", False, None)  # the clock runs
    assert open_steps(lf, st.id) == ["verify"]
    lf.runtime.deliver_message(officer(lf, "tax.1"), st.code, "tax_notice_early", {"notice_no": "TB-0"}, "early-1")
    assert open_steps(lf, st.id) == ["sign"]
    with lf.db.read() as s:
        verify_item = s.scalar(select(WorkItemRow).where(WorkItemRow.dossier_id == st.id, WorkItemRow.step == "verify"))
        assert verify_item is not None and verify_item.outcome == "cancelled"
        assert dossier(lf, st.id).awaiting is None
        assert verify(s, lf.procedures, st.id).ok
