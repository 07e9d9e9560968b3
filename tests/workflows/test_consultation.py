"""A procedure that consults two agencies at once (a parallel multi-instance step, decision 0163), run end
to end by the demo officers of Hải Châu on both databases: each agency's officer sees and answers only its
own consultation, a wrong officer is refused and recorded, the decision opens when both have answered,
with both answers; replay, verify, KPI per unit and the XES/OCEL logs count each agency's part apart.

The procedure (bench/bpmn_builder.py `agencies_procedure`): receive (desk, P1D) -> check (land
officer, P2D) -> consult: the tax office and the commune's economic division, in parallel, each P3D ->
decide (land officer, P1D) -> hand over (desk, PT4H). Dossier limit P8D.

Calendar (test calendar, office hours 07:30-11:30 and 13:00-17:00; Saturday 7 Feb 2026 is a make-up
working day). Working days after Thursday 5 Feb 2026: 1 Fri 6 · 2 Sat 7 · 3 Mon 9 · 4 Tue 10 · 5 Wed 11 ·
6 Thu 12 · 7 Fri 13 · (Tết Mon 16 - Fri 20) · 8 Mon 23.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from lxml import etree
from sqlalchemy import select

from engine.bootstrap import Landflow
from engine.eventlog import load_events
from engine.export import ExportFilter, ocel, write_xes
from engine.history import replay_events, verify
from engine.kpi import RatingRules, kpi_report
from engine.kpi_facts import refresh_item_facts
from engine.runtime import CommandRefused
from engine.runtime.workflow import final_data
from engine.store import WorkItemRow
from tests.conftest import local
from tests.support.bpmn_builder import agencies_procedure
from tests.workflows.conftest import HAI_CHAU, ROOT, Desk, event_payloads, items, signals

TAX, ECON = "tax_office", "commune_economic_division"
CONSULT = "Lấy ý kiến cơ quan liên quan"
OPINIONS = {ECON: "Phù hợp quy hoạch sử dụng đất", TAX: "Không còn nợ nghĩa vụ tài chính"}


def open_consultations(desk: Desk) -> list[WorkItemRow]:
    return [i for i in items(desk.lf, desk.id) if i.step == "consult" and i.state in ("ready", "claimed")]


def consultation(desk: Desk, role: str) -> WorkItemRow:
    (item,) = [i for i in items(desk.lf, desk.id) if i.step == "consult" and i.role == role]
    return item


def answer(desk: Desk, username: str, item: WorkItemRow, opinion: str) -> None:
    desk.lf.runtime.complete(desk.officer(username), item.id, {"opinion": opinion})


@pytest.fixture
def consulting(desk: Desk, danang: Landflow) -> Desk:
    """A dossier received Thu 5 Feb 09:00 at Hải Châu, checked, now at the consultation."""
    danang.runtime.deploy(danang.directory.get().officers["supervisor"], agencies_procedure().to_xml(), [])
    desk.at(2026, 2, 5, 9, 0).open("desk.haichau", "consultation_test", HAI_CHAU)
    assert desk.dossier.due_at == local(2026, 2, 23, 9, 0)  # P8D: day 8 = Mon 23 Feb 09:00
    assert desk.current.due_at == local(2026, 2, 6, 9, 0)  # receive P1D: Fri 6 09:00
    desk.at(2026, 2, 5, 10, 0).step("desk.haichau", "receive")
    assert desk.current.due_at == local(2026, 2, 7, 10, 0)  # check P2D from Thu 10:00: Fri 6, Sat 7 (make-up)
    desk.at(2026, 2, 6, 9, 0).step("land.haichau", "check")
    return desk


def test_each_agency_gets_its_own_item_with_the_steps_limit(consulting: Desk) -> None:
    desk = consulting
    opened = open_consultations(desk)
    # one item per agency, in the order of the step's `instances`, each owned by the unit serving Hải Châu
    # for its role; P3D from Fri 6 09:00: Sat 7 (make-up), Mon 9, Tue 10 Feb 09:00
    assert [(i.role, i.unit, i.due_at) for i in opened] == [
        (TAX, "THUE-CS01", local(2026, 2, 10, 9, 0)), (ECON, HAI_CHAU, local(2026, 2, 10, 9, 0))]
    assert {i.name for i in opened} == {CONSULT}


def test_consultation_end_to_end(consulting: Desk) -> None:
    desk = consulting
    lf = desk.lf
    tax, econ = consultation(desk, TAX), consultation(desk, ECON)

    # the economic division's officer may not answer for the tax office, nor the land officer for anyone
    desk.at(2026, 2, 6, 10, 0)
    for username, item in (("econ.haichau", tax), ("land.haichau", econ)):
        with pytest.raises(CommandRefused) as err:
            answer(desk, username, item, "không liên quan")
        assert (err.value.kind, err.value.code) == ("forbidden", "wrong_role")
    refused = event_payloads(lf, desk.id, "action_refused")
    assert [(r["code"], r["category"]) for r in refused] == [("wrong_role", "out_of_scope")] * 2
    assert [s for s in signals(lf, desk.id) if s[0] == "unauthorised_attempt"] == [
        ("unauthorised_attempt", "econ.haichau", HAI_CHAU), ("unauthorised_attempt", "land.haichau", HAI_CHAU)]
    # an agency cannot return the dossier while the other is still answering (typed refusal, recorded)
    with pytest.raises(CommandRefused) as err:
        lf.runtime.return_(desk.officer("econ.haichau"), econ.id, "check", "thiếu bản đồ")
    assert (err.value.kind, err.value.code) == ("conflict", "parallel_instance")
    assert event_payloads(lf, desk.id, "action_refused")[-1]["code"] == "parallel_instance"

    # the economic division answers Mon 9 Feb: the tax office is still consulted, nothing else opens
    desk.at(2026, 2, 9, 9, 0)
    answer(desk, "econ.haichau", econ, OPINIONS[ECON])
    assert [(i.role, i.state) for i in open_consultations(desk)] == [(TAX, "ready")]
    assert [i.step for i in items(lf, desk.id) if i.state in ("ready", "claimed")] == ["consult"]
    # the tax office claims, then answers Tue 10 Feb 08:00: the decision opens, P1D → Wed 11 Feb 08:00
    # (another worker process: the workflow is rebuilt from the snapshot and the events after it)
    lf.workflows.clear()
    desk.at(2026, 2, 10, 8, 0)
    lf.runtime.claim(desk.officer("tax.haichau"), tax.id)
    answer(desk, "tax.haichau", tax, OPINIONS[TAX])
    assert (desk.current.step, desk.current.unit, desk.current.due_at) == ("decide", HAI_CHAU,
                                                                           local(2026, 2, 11, 8, 0))
    assert [(i.role, i.unit, i.done_by) for i in items(lf, desk.id) if i.step == "consult"] == [
        (TAX, "THUE-CS01", "tax.haichau"), (ECON, HAI_CHAU, "econ.haichau")]

    desk.at(2026, 2, 11, 9, 0).step("land.haichau", "decide")
    # hand over PT4H from Wed 11 09:00 → 13:00 ... 2.5 h to 11:30 + 1.5 h from 13:00 = 14:30
    assert desk.current.due_at == local(2026, 2, 11, 14, 30)
    desk.at(2026, 2, 11, 10, 0).step("desk.haichau", "handover")
    d = desk.dossier
    assert (d.status, d.outcome, d.finished_at) == ("done", "end", local(2026, 2, 11, 10, 0))
    assert desk.path == ["receive", "check", "consult", "consult", "decide", "handover"]

    # replay reproduces the projections and collects both answers, keyed by agency, for the decision
    desk.verify()
    with lf.db.read() as s:
        replayed = replay_events(s, lf.procedures, desk.id, load_events(s, desk.id))
        assert replayed.problems == []
        assert replayed.workflow is not None and final_data(replayed.workflow)["opinions"] == OPINIONS
        assert verify(s, lf.procedures, desk.id).ok

    # KPI: each agency's consultation is counted for its own unit, on time (answered before Tue 10 09:00)
    now = local(2026, 2, 11, 10, 0)
    refresh_item_facts(lf.db, lf.calendar, now, full=True)
    with lf.db.read() as s:
        report = kpi_report(s, "unit", now - timedelta(days=10), now + timedelta(days=1), now,
                            RatingRules.load(ROOT / "config" / "kpi.toml"))
    handled = {r.key: (r.handled, r.on_time) for r in report.rows if r.handled}
    assert handled["THUE-CS01"] == (1, 1)  # only its consultation
    # receive, check, consult (economic division), decide, hand over; decide, done Wed 11 09:00 against
    # Wed 11 08:00, is late
    assert handled[HAI_CHAU] == (5, 4)
    with lf.db.read() as s:
        officers = {r.key: r.refused_attempts for r in kpi_report(
            s, "officer", now - timedelta(days=10), now + timedelta(days=1), now,
            RatingRules.load(ROOT / "config" / "kpi.toml")).rows if r.refused_attempts}
    assert officers == {"econ.haichau": 1, "land.haichau": 1}

    # XES: each agency's answer is its own event with its own resource and group
    out = io.BytesIO()
    write_xes(lf.db, ExportFilter(procedure="consultation_test"), out)
    completes = []
    for ev in etree.fromstring(out.getvalue()).iter("{*}event"):
        attrs = {a.get("key"): a.get("value") for a in ev}
        if (attrs.get("lifecycle:transition"), attrs.get("concept:name")) == ("complete", CONSULT):
            completes.append((attrs["org:resource"], attrs["org:group"], attrs["org:role"]))
    assert sorted(completes) == [("econ.haichau", HAI_CHAU, ECON), ("tax.haichau", "THUE-CS01", TAX)]
    # OCEL: the same two events, each related to its own officer and unit
    log = ocel(lf.db, ExportFilter(procedure="consultation_test"))
    answered = [{r["qualifier"]: r["objectId"] for r in e["relationships"]} for e in log["events"]
                if e["type"] == f"{CONSULT} (complete)"]
    assert sorted((a["resource"], a["group"]) for a in answered) == [
        ("officer:econ.haichau", f"unit:{HAI_CHAU}"), ("officer:tax.haichau", "unit:THUE-CS01")]


def test_the_dossier_page_shows_each_agencys_consultation(consulting: Desk) -> None:
    desk = consulting
    answer(desk.at(2026, 2, 9, 9, 0), "econ.haichau", consultation(desk, ECON), OPINIONS[ECON])
    with desk.lf.db.read() as s:
        rows = list(s.scalars(select(WorkItemRow).where(WorkItemRow.dossier_id == desk.id)))
    assert {(r.role, r.state) for r in rows if r.step == "consult"} == {(TAX, "ready"), (ECON, "done")}


def test_a_decision_is_not_returned_to_the_consultation(consulting: Desk) -> None:
    desk = consulting.at(2026, 2, 9, 9, 0)
    answer(desk, "econ.haichau", consultation(desk, ECON), OPINIONS[ECON])
    answer(desk, "tax.haichau", consultation(desk, TAX), OPINIONS[TAX])
    decide = desk.current
    with pytest.raises(CommandRefused) as err:
        desk.lf.runtime.return_(desk.officer("land.haichau"), decide.id, "consult", "hỏi lại")
    assert (err.value.kind, err.value.code) == ("conflict", "parallel_instance")
    # a return past it, to the check, is an ordinary return
    desk.lf.runtime.return_(desk.officer("land.haichau"), decide.id, "check", "thiếu trích đo")
    assert (desk.current.step, desk.current.unit) == ("check", HAI_CHAU)
    desk.verify()


def test_stopping_the_dossier_cancels_every_agencys_consultation(consulting: Desk) -> None:
    desk = consulting.at(2026, 2, 9, 9, 0)
    answer(desk, "econ.haichau", consultation(desk, ECON), OPINIONS[ECON])
    desk.lf.runtime.stop(desk.officer("desk.haichau"), desk.id, "người nộp rút hồ sơ")
    assert [(i.role, i.outcome) for i in items(desk.lf, desk.id) if i.step == "consult"] == [
        (TAX, "cancelled"), (ECON, "completed")]
    assert desk.dossier.status == "stopped"
    desk.verify()


def test_a_dossier_at_a_consultation_is_not_migrated(consulting: Desk, danang: Landflow) -> None:
    """Half answered, one agency's item left: rebuilding it on a later version would consult both again."""
    from engine.migration import runs

    desk = consulting.at(2026, 2, 9, 9, 0)
    answer(desk, "econ.haichau", consultation(desk, ECON), OPINIONS[ECON])
    later = agencies_procedure()
    later.nodes[4].name = "Tổng hợp ý kiến, trình ký"  # version 2 renames the decision
    supervisor = danang.directory.get().officers["supervisor"]
    danang.runtime.deploy(supervisor, later.to_xml(), [])
    plan = runs.make(danang.runtime, supervisor, "consultation_test", 1, 2)
    (mine,) = [p for p in plan.dossiers if p.dossier_id == desk.id]
    assert (mine.status, mine.reason) == ("cannot", "parallel")
    assert [(i.role, i.state) for i in open_consultations(desk)] == [(TAX, "ready")]


def test_a_supervisor_does_not_move_a_dossier_into_a_consultation(desk: Desk, danang: Landflow) -> None:
    """Resolving an incident puts the dossier at one step; a consultation is one item per agency, so the
    supervisor is refused with a clear reason (`illegal_target`) instead of meeting a second incident."""
    from engine.runtime.incidents import ProcedureIncident
    from tests.support.bpmn_builder import Flow, Node

    proc = agencies_procedure()
    decide = proc.nodes[4]
    decide.props["form"] = "note:text"
    proc.nodes.append(Node("gw", "xor", "Có ghi chú?", lane="commune_land_officer", col=5, attrs={"default": "f8"}))
    proc.flows = [f for f in proc.flows if f.id != "f5"] + [
        Flow("f7", "decide", "gw"), Flow("f8", "gw", "handover"),
        Flow("f9", "gw", "handover", condition="len(note) > 0", name="Có")]
    supervisor = danang.directory.get().officers["supervisor"]
    danang.runtime.deploy(supervisor, proc.to_xml(), [])
    desk.at(2026, 2, 5, 9, 0).open("desk.haichau", "consultation_test", HAI_CHAU)
    desk.step("desk.haichau", "receive")
    desk.step("land.haichau", "check")
    answer(desk, "econ.haichau", consultation(desk, ECON), OPINIONS[ECON])
    answer(desk, "tax.haichau", consultation(desk, TAX), OPINIONS[TAX])
    with pytest.raises(ProcedureIncident):
        desk.lf.runtime.complete(desk.officer("land.haichau"), desk.current.id, {})  # `note` left out
    with pytest.raises(CommandRefused) as err:
        desk.lf.runtime.move_to_step(supervisor, desk.id, "consult", "hỏi lại các cơ quan")
    assert (err.value.kind, err.value.code) == ("invalid", "illegal_target")
    desk.lf.runtime.move_to_step(supervisor, desk.id, "decide", "chỗ tắc của quy trình")
    assert desk.current.step == "decide"
    desk.verify()


def test_a_late_agency_is_signalled_to_its_own_unit(consulting: Desk) -> None:
    """Both consultations are due Tue 10 Feb 09:00; the economic division answered Mon 9, the tax office has
    not by Tue 10 10:00: the sweep signals the tax office's item, to the tax office, and nobody else."""
    from engine.scheduler.sweep import Sweeper

    desk = consulting.at(2026, 2, 9, 9, 0)
    answer(desk, "econ.haichau", consultation(desk, ECON), OPINIONS[ECON])
    desk.at(2026, 2, 10, 10, 0)
    Sweeper(desk.lf).sweep()
    assert [(kind, unit) for kind, _officer, unit in signals(desk.lf, desk.id) if kind == "step_overdue"] == [
        ("step_overdue", "THUE-CS01")]
    desk.verify()
