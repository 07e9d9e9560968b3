"""Three BPMN elements land procedures need, each run end to end by the demo officers of Hải Châu
(decisions 0157-0159): an embedded sub-process "public posting" with a timer on the whole box, a
non-interrupting reminder timer, and an inclusive gateway that consults only the agencies a dossier
needs. Each dossier is verified (replay of its log gives its projections back), and the steps inside the
box and the reminder's extra item reach the KPI and the process-mining exports.

The test procedures are built by bench/bpmn_builder.py (posting_procedure, reminder_procedure,
consultation_procedure). Calendar: office hours 07:30-11:30 and 13:00-17:00, no holiday in March 2026.
Working days from Monday 02/03/2026: 1 Tue 03 · 2 Wed 04 · 3 Thu 05 · 4 Fri 06 · 5 Mon 09 · 6 Tue 10.
Every dossier is received on Mon 02/03/2026 at 08:00 and the desk finishes receipt at 09:00, so a
P<n>D limit of a step opened then ends on day n at 09:00.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pm4py
import pytest
from sqlalchemy import select

from api.web.trace import highlight
from config.settings import ROOT
from engine.export import ExportFilter, ocel, write_xes
from engine.history import replay
from engine.kpi import RatingRules, kpi_report
from engine.kpi_facts import refresh_item_facts
from engine.runtime import workflow as wfm
from engine.scheduler import Sweeper
from engine.store import TimerRow
from tests.conftest import local
from tests.support.bpmn_builder import (
    Flow,
    Node,
    Procedure,
    consultation_procedure,
    posting_procedure,
    reminder_procedure,
    timer_xml,
)
from tests.workflows.conftest import HAI_CHAU, Desk, event_payloads, event_types, items

TAX_HAI_CHAU = "THUE-CS01"  # the tax office serving Hải Châu (config/organisation/jurisdiction.csv)


def received(desk: Desk, proc: Procedure, data: dict[str, Any] | None = None) -> Desk:
    """Deployed, received Mon 02/03 08:00, receipt finished 09:00."""
    desk.lf.runtime.deploy(desk.officer("supervisor"), proc.to_xml())
    desk.at(2026, 3, 2, 8, 0).open("desk.haichau", proc.key, HAI_CHAU)
    desk.at(2026, 3, 2, 9, 0).step("desk.haichau", "receive", data or {})
    return desk


def open_steps(desk: Desk) -> dict[str, tuple[str | None, Any]]:
    """step -> (unit, due) of the items open now."""
    return {i.step: (i.unit, i.due_at) for i in items(desk.lf, desk.id) if i.state in ("ready", "claimed")}


def complete(desk: Desk, username: str, step: str, data: dict[str, Any] | None = None) -> None:
    """`username` completes the open item of `step` (several items may be open)."""
    (item,) = [i for i in items(desk.lf, desk.id) if i.step == step and i.state in ("ready", "claimed")]
    desk.lf.runtime.complete(desk.officer(username), item.id, data or {})


def timers(desk: Desk) -> list[tuple[str, str, Any]]:
    with desk.lf.db.read() as s:
        return [(t.node, t.state, t.due_at) for t in s.scalars(
            select(TimerRow).where(TimerRow.dossier_id == desk.id).order_by(TimerRow.ordinal))]


def sweep(desk: Desk, *when: int) -> int:
    desk.at(*when)
    return Sweeper(desk.lf).sweep().timers_fired


# -- embedded sub-process ----------------------------------------------------------------------------

def test_public_posting_inside_its_box_then_signature(desk: Desk) -> None:
    received(desk, posting_procedure())
    # the dossier: P6D from Mon 02/03 08:00 → Tue 10/03 08:00
    assert desk.dossier.due_at == local(2026, 3, 10, 8, 0)
    # entering the box opens its first step, in the box's lane (land officer), P2D → Wed 04/03 09:00; the
    # timer on the whole box, P4D from 09:00 → Fri 06/03 09:00
    assert open_steps(desk) == {"post": (HAI_CHAU, local(2026, 3, 4, 9, 0))}
    assert timers(desk) == [("too_long", "waiting", local(2026, 3, 6, 9, 0))]
    desk.at(2026, 3, 3, 10, 0).step("land.haichau", "post")
    # close_posting: owner by candidateGroups (economic division), P1D from Tue 03/03 10:00 → Wed 04/03 10:00
    assert open_steps(desk) == {"close_posting": (HAI_CHAU, local(2026, 3, 4, 10, 0))}
    # on the dossier's diagram: the open step inside the box is current, the box is where the dossier is
    with desk.lf.db.read() as s:
        r = replay(s, desk.lf.procedures, desk.id)
        proc = desk.lf.procedures.get(s, desk.dossier.procedure_version_id)
    meta = proc.meta
    hl = highlight(r.state, r.workflow, meta)
    assert (hl.current, hl.done) == ({"close_posting"}, {"receive", "post"})
    assert {"posting", "p_start"} <= hl.passed and {"p1", "p2"} <= hl.flows
    # a snapshot taken inside the box restores to the same workflow (the box's own task tree included)
    back = wfm.restore(proc, wfm.snapshot(r.workflow))
    assert wfm.normalised_workflow(back) == wfm.normalised_workflow(r.workflow)
    assert [t.task_spec.name for t in wfm.ready_steps(back)] == ["close_posting"]
    desk.lf.workflows.clear()  # the next command loads the dossier from its snapshot and log, not the cache
    desk.at(2026, 3, 4, 8, 0).step("econ.haichau", "close_posting")
    # leaving the box cancels its timer; signature P1D from Wed 04/03 08:00 → Thu 05/03 08:00
    assert timers(desk) == [("too_long", "cancelled", local(2026, 3, 6, 9, 0))]
    assert open_steps(desk) == {"sign": (HAI_CHAU, local(2026, 3, 5, 8, 0))}
    assert sweep(desk, 2026, 3, 6, 9, 5) == 0  # the cancelled timer never fires
    desk.at(2026, 3, 6, 10, 0).step("chair.haichau", "sign")
    d = desk.dossier
    assert (d.status, d.outcome) == ("done", "issued")
    assert desk.path == ["receive", "post", "close_posting", "sign"]
    desk.verify()


def test_public_posting_that_takes_too_long_goes_to_the_chairman(desk: Desk) -> None:
    received(desk, posting_procedure())
    desk.at(2026, 3, 3, 10, 0).step("land.haichau", "post")
    # the box's timer is due Fri 06/03 09:00: one minute before, nothing; after, the box is left
    assert sweep(desk, 2026, 3, 6, 8, 59) == 0
    assert sweep(desk, 2026, 3, 6, 9, 1) == 1
    # close_posting (still open inside the box) is cancelled; escalate: P1D from Fri 06/03 09:01 → Mon 09/03 09:01
    assert open_steps(desk) == {"escalate": (HAI_CHAU, local(2026, 3, 9, 9, 1))}
    assert [(i.step, i.state) for i in items(desk.lf, desk.id)] == [
        ("receive", "done"), ("post", "done"), ("close_posting", "cancelled"), ("escalate", "ready")]
    desk.at(2026, 3, 6, 14, 0).step("chair.haichau", "escalate")
    d = desk.dossier
    assert (d.status, d.outcome) == ("done", "escalated")
    # the sweep that fired the timer first saw close_posting overdue (due Wed 04/03 10:00) and escalated it
    # (the engine's own escalation of a late step, beside the procedure's timer)
    assert event_types(desk.lf, desk.id) == ["opened", "completed", "completed", "step_overdue", "escalated",
                                             "timer_fired", "completed"]
    desk.verify()


def test_a_reminder_inside_the_box_runs_beside_the_box_s_own_timer(desk: Desk) -> None:
    proc = posting_procedure()
    proc.nodes += [
        Node("post_slow", "boundary", "Sau 1 ngày", parent="posting", col=3,
             attrs={"attachedToRef": "post", "cancelActivity": "false"}, extra_xml=timer_xml("P1D")),
        Node("remind_post", "user", "Đôn đốc niêm yết", parent="posting", col=4,
             attrs={"camunda:candidateGroups": "commune_chairman"},
             props={"sla": "PT4H", "result": "Ý kiến chỉ đạo", "legal_basis": "Nghị định 151/2025/NĐ-CP"}),
        Node("p_reminded", "end", "", parent="posting", col=5)]
    proc.flows += [Flow("p7", "post_slow", "remind_post"), Flow("p8", "remind_post", "p_reminded")]
    received(desk, proc)
    # from Mon 02/03 09:00: the reminder on `post` P1D → Tue 03/03 09:00, the box's timer P4D → Fri 06/03 09:00
    assert timers(desk) == [("post_slow", "waiting", local(2026, 3, 3, 9, 0)),
                            ("too_long", "waiting", local(2026, 3, 6, 9, 0))]
    assert sweep(desk, 2026, 3, 3, 9, 5) == 1
    # remind_post PT4H from Tue 03/03 09:05: 2 h 25 to 11:30, 1 h 35 from 13:00 → 14:35; post stays open
    assert open_steps(desk) == {"post": (HAI_CHAU, local(2026, 3, 4, 9, 0)),
                                "remind_post": (HAI_CHAU, local(2026, 3, 3, 14, 35))}
    desk.at(2026, 3, 3, 10, 0)
    complete(desk, "land.haichau", "post")
    # the box goes on beside its reminder's branch: close_posting P1D from Tue 03/03 10:00 → Wed 04/03 10:00
    assert open_steps(desk) == {"remind_post": (HAI_CHAU, local(2026, 3, 3, 14, 35)),
                                "close_posting": (HAI_CHAU, local(2026, 3, 4, 10, 0))}
    complete(desk, "chair.haichau", "remind_post")
    assert open_steps(desk) == {"close_posting": (HAI_CHAU, local(2026, 3, 4, 10, 0))}
    desk.at(2026, 3, 4, 8, 0).step("econ.haichau", "close_posting")
    assert timers(desk)[1] == ("too_long", "cancelled", local(2026, 3, 6, 9, 0))
    desk.at(2026, 3, 4, 9, 0).step("chair.haichau", "sign")
    assert (desk.dossier.status, desk.dossier.outcome) == ("done", "issued")
    desk.verify()


# -- non-interrupting boundary timer ------------------------------------------------------------------

def test_a_reminder_opens_beside_the_officers_step_which_stays_open(desk: Desk) -> None:
    received(desk, reminder_procedure())
    # verify: P3D from Mon 02/03 09:00 → Thu 05/03 09:00; reminder timer P2D → Wed 04/03 09:00
    assert open_steps(desk) == {"verify": (HAI_CHAU, local(2026, 3, 5, 9, 0))}
    assert timers(desk) == [("slow", "waiting", local(2026, 3, 4, 9, 0))]
    assert sweep(desk, 2026, 3, 4, 8, 59) == 0
    assert sweep(desk, 2026, 3, 4, 9, 5) == 1
    assert sweep(desk, 2026, 3, 4, 9, 6) == 0  # fired once only
    # the reminder for the chairman: P1D from Wed 04/03 09:05 → Thu 05/03 09:05; verify stays open, its
    # deadline unchanged
    assert open_steps(desk) == {"verify": (HAI_CHAU, local(2026, 3, 5, 9, 0)),
                                "remind": (HAI_CHAU, local(2026, 3, 5, 9, 5))}
    (fired,) = event_payloads(desk.lf, desk.id, "timer_fired")
    assert fired["node"] == "slow" and [n["step"] for n in fired["fx"]["new"]] == ["remind"]
    assert "items" not in fired["fx"]  # nothing closed: the officer's item stays open
    assert timers(desk) == [("slow", "fired", local(2026, 3, 4, 9, 0))]
    # the officer finishes first: the dossier waits for the reminder's branch to end too (the command loads
    # the dossier from its snapshot and log, not from the cache)
    desk.lf.workflows.clear()
    desk.at(2026, 3, 4, 10, 0)
    complete(desk, "land.haichau", "verify")
    assert desk.dossier.status == "in_progress" and list(open_steps(desk)) == ["remind"]
    desk.at(2026, 3, 4, 11, 0)
    complete(desk, "chair.haichau", "remind")
    d = desk.dossier
    # the outcome is where the officer's path ended, not the reminder's end (reached last)
    assert (d.status, d.outcome, d.finished_at) == ("done", "verified", local(2026, 3, 4, 11, 0))
    desk.verify()
    # as of the firing, an auditor's replay shows both items open and the timer fired
    seq = event_types(desk.lf, desk.id).index("timer_fired") + 1
    with desk.lf.db.read() as s:
        state = replay(s, desk.lf.procedures, desk.id, seq).state
    assert sorted(i.step for i in state.open_items()) == ["remind", "verify"]
    assert [(t.node, t.state) for t in state.timers.values()] == [("slow", "fired")]


def test_a_step_done_before_its_reminder_cancels_it(desk: Desk) -> None:
    received(desk, reminder_procedure())
    desk.at(2026, 3, 3, 15, 0).step("land.haichau", "verify")
    # done Tue 03/03 15:00, before the reminder's Wed 04/03 09:00: the timer is recorded cancelled then
    assert timers(desk) == [("slow", "cancelled", local(2026, 3, 4, 9, 0))]
    with desk.lf.db.read() as s:
        row = s.scalar(select(TimerRow).where(TimerRow.dossier_id == desk.id))
        assert row is not None and row.done_at == local(2026, 3, 3, 15, 0)
    assert sweep(desk, 2026, 3, 5, 9, 0) == 0
    d = desk.dossier
    assert (d.status, d.outcome) == ("done", "verified") and desk.path == ["receive", "verify"]
    desk.verify()


# -- inclusive gateway --------------------------------------------------------------------------------

@pytest.mark.parametrize("fee,building,consulted", [
    (True, True, {"tax": (TAX_HAI_CHAU, local(2026, 3, 5, 9, 0)),           # P3D → Thu 05/03 09:00
                  "construction": (HAI_CHAU, local(2026, 3, 4, 9, 0))}),     # P2D → Wed 04/03 09:00
    (True, False, {"tax": (TAX_HAI_CHAU, local(2026, 3, 5, 9, 0))}),
    (False, True, {"construction": (HAI_CHAU, local(2026, 3, 4, 9, 0))}),
    (False, False, {}),
])
def test_only_the_agencies_a_dossier_needs_are_consulted(desk: Desk, fee: bool, building: bool,
                                                         consulted: dict[str, Any]) -> None:
    received(desk, consultation_procedure(), {"fee": fee, "building": building})
    # the dossier: P6D from Mon 02/03 08:00 → Tue 10/03 08:00
    assert desk.dossier.due_at == local(2026, 3, 10, 8, 0)
    if not consulted:  # the default flow: straight to the signature, P1D from 09:00 → Tue 03/03 09:00
        assert open_steps(desk) == {"sign": (HAI_CHAU, local(2026, 3, 3, 9, 0))}
    else:
        assert open_steps(desk) == consulted
        # the join waits for each consultation that was asked, and only for those
        for step, who, day in (("construction", "econ.haichau", 3), ("tax", "tax.haichau", 4)):
            if step in consulted:
                assert "sign" not in open_steps(desk)
                desk.at(2026, 3, day, 10, 0)
                complete(desk, who, step)
        # the last answer came at 10:00: signature P1D → the next working day 10:00
        last = 4 if fee else 3
        assert open_steps(desk) == {"sign": (HAI_CHAU, local(2026, 3, last + 1, 10, 0))}
    desk.at(2026, 3, 5, 11, 0).step("chair.haichau", "sign")
    d = desk.dossier
    assert (d.status, d.outcome) == ("done", "issued")
    assert desk.path == ["receive", *consulted, "sign"]
    desk.verify()


# -- KPI and process-mining exports -------------------------------------------------------------------

def test_steps_inside_the_box_and_the_reminder_reach_kpi_and_exports(desk: Desk, tmp_path: Path) -> None:
    received(desk, posting_procedure())
    desk.at(2026, 3, 3, 10, 0).step("land.haichau", "post")
    desk.at(2026, 3, 4, 8, 0).step("econ.haichau", "close_posting")
    desk.at(2026, 3, 4, 14, 0).step("chair.haichau", "sign")
    received(desk, reminder_procedure())
    sweep(desk, 2026, 3, 4, 9, 5)
    desk.at(2026, 3, 4, 10, 0)
    complete(desk, "chair.haichau", "remind")
    desk.at(2026, 3, 5, 10, 0)  # one hour after verify's due Thu 05/03 09:00: late
    complete(desk, "land.haichau", "verify")
    lf = desk.lf
    now = local(2026, 3, 6, 8, 0)
    refresh_item_facts(lf.db, lf.calendar, now)
    rules = RatingRules.load(ROOT / "config" / "kpi.toml")
    with lf.db.read() as s:
        report = kpi_report(s, "officer", local(2026, 3, 1, 0, 0), now, now, rules)
    handled = {r.key: (r.handled, r.on_time) for r in report.rows if r.handled}
    # econ.haichau's only step is inside the box; chair.haichau signed and answered the reminder;
    # land.haichau posted in time and verified late
    assert handled == {"desk.haichau": (2, 2), "land.haichau": (2, 1), "econ.haichau": (1, 1),
                       "chair.haichau": (2, 2)}

    path = tmp_path / "log.xes"
    write_xes(lf.db, ExportFilter(), path)
    log = pm4py.read_xes(str(path))
    steps = log[log["landflow:kind"] == "step"]
    by_case = {case: list(zip(g["concept:name"], g["lifecycle:transition"], strict=True))
               for case, g in steps.groupby("case:concept:name", sort=False)}
    posting_trace, reminder_trace = list(by_case.values())  # in the order the dossiers were opened
    assert posting_trace == [
        ("Tiếp nhận", "schedule"), ("Tiếp nhận", "complete"),
        ("Niêm yết tại trụ sở UBND", "schedule"), ("Niêm yết tại trụ sở UBND", "complete"),
        ("Lập biên bản kết thúc niêm yết", "schedule"), ("Lập biên bản kết thúc niêm yết", "complete"),
        ("Ký giấy chứng nhận", "schedule"), ("Ký giấy chứng nhận", "complete")]
    # the reminder is scheduled beside the open verification, which is never withdrawn
    assert reminder_trace == [
        ("Tiếp nhận", "schedule"), ("Tiếp nhận", "complete"), ("Kiểm tra hiện trạng", "schedule"),
        ("Đôn đốc xử lý", "schedule"), ("Đôn đốc xử lý", "complete"), ("Kiểm tra hiện trạng", "complete")]
    doc = ocel(lf.db, ExportFilter())
    types = {e["type"] for e in doc["events"]}
    assert {"Lập biên bản kết thúc niêm yết (complete)", "Đôn đốc xử lý (schedule)", "timer_fired"} <= types
    assert json.dumps(doc)  # serialisable as written
