"""A procedure that waits for the tax office's notice of financial obligations (a BPMN message catch
event), run end to end by the demo officers of Hải Châu, with the deadlines computed by hand.

The procedure (bench/bpmn_builder.py `message_procedure`), statutory limit P5D:
  receive (desk, P1D) -> verify (land officer, P2D) -> send form 19 to the tax office (land officer, P1D)
  -> wait for the message `tax_notice` (from role tax_office, form amount:number!; notice_no:text!,
     clock=paused: "the tax authority determining obligations" is an excluded period)
  -> sign (chairman, P1D) -> end.

Calendar (test calendar, office hours 07:30-11:30 and 13:00-17:00): Saturday 7 Feb 2026 is a make-up
working day; Tết is Mon 16 - Fri 20 Feb. Working days after Thursday 5 Feb 2026:
  1 Fri 6 · 2 Sat 7 · 3 Mon 9 · 4 Tue 10 · 5 Wed 11 · 6 Thu 12 · 7 Fri 13 · (Tết) · 8 Mon 23.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from config.settings import ROOT
from engine.bootstrap import Landflow
from engine.errors import Conflict, Forbidden
from engine.kpi import RatingRules, kpi_report
from engine.kpi_facts import refresh_item_facts
from tests.conftest import local
from tests.support.bpmn_builder import message_procedure
from tests.workflows.conftest import HAI_CHAU, Desk, event_payloads, event_types, items


@pytest.fixture
def tax_procedure(danang: Landflow) -> Callable[[], None]:
    danang.runtime.deploy(danang.directory.get().officers["supervisor"], message_procedure().to_xml())
    return lambda: None


def test_the_dossier_waits_for_the_tax_notice_with_its_clock_paused(danang: Landflow, desk: Desk,
                                                                    tax_procedure: Callable[[], None]) -> None:
    lf = danang
    desk.at(2026, 2, 5, 9, 0).open("desk.haichau", "message_test", HAI_CHAU)
    # received Thu 5 Feb 09:00, P5D: day 5 = Wed 11 Feb 09:00
    assert desk.dossier.due_at == local(2026, 2, 11, 9, 0)
    desk.step("desk.haichau", "receive")
    desk.at(2026, 2, 6, 10, 0).step("land.haichau", "verify")
    desk.at(2026, 2, 6, 14, 0).step("land.haichau", "send_form19")
    # Fri 6 Feb 14:00: nothing open, the dossier waits for the tax office and its clock stops
    d = desk.dossier
    assert (d.status, d.awaiting, d.awaiting_paused, d.paused_at) == ("in_progress", "tax_wait", True,
                                                                       local(2026, 2, 6, 14, 0))
    assert [i.state for i in items(lf, desk.id)] == ["done", "done", "done"]

    notice = {"amount": "35.000.000", "notice_no": "TB-2026/117"}
    land, tax, other_tax = desk.officer("land.haichau"), desk.officer("tax.haichau"), desk.officer("tax.haivan")
    desk.at(2026, 2, 9, 9, 0)
    with pytest.raises(Forbidden) as wrong_role:  # a land officer cannot write the tax office's notice
        lf.runtime.deliver_message(land, d.code, "tax_notice", notice, "land-1")
    assert wrong_role.value.code == "wrong_role"
    with pytest.raises(Forbidden) as wrong_unit:  # Thuế cơ sở 2 does not serve Hải Châu (Thuế cơ sở 1 does)
        lf.runtime.deliver_message(other_tax, d.code, "tax_notice", notice, "cs02-1")
    assert wrong_unit.value.code == "wrong_unit"

    # Tue 10 Feb 14:00 Thuế cơ sở 1 sends its notice. Paused: Fri 14:00-17:00 (3 h) + Sat 7 (8 h) + Mon 9 (8 h)
    # + Tue 07:30-11:30 and 13:00-14:00 (5 h) = 24 h = 3 working days: due day 5 + 3 = day 8 = Mon 23 Feb 09:00
    desk.at(2026, 2, 10, 14, 0)
    first = lf.runtime.deliver_message(tax, d.code, "tax_notice", notice, "THUE-CS01/TB-2026/117")
    d = desk.dossier
    assert (d.awaiting, d.awaiting_paused, d.paused_at) == (None, False, None)
    assert d.due_at == local(2026, 2, 23, 9, 0)
    assert d.statutory_due_at == local(2026, 2, 23, 9, 0)
    sign = desk.current
    assert (sign.step, sign.due_at) == ("sign", local(2026, 2, 11, 14, 0))  # P1D from Tue 14:00
    # the tax office's system sends it again (a retry): the first answer, nothing recorded twice
    desk.at(2026, 2, 10, 14, 5)
    again = lf.runtime.deliver_message(tax, d.code, "tax_notice", notice, "THUE-CS01/TB-2026/117")
    assert (again.seq, again.element, again.repeated) == (first.seq, "tax_wait", True)
    with pytest.raises(Conflict) as late:  # a second notice under another key: the dossier waits for none
        lf.runtime.deliver_message(tax, d.code, "tax_notice", notice, "THUE-CS01/TB-2026/118")
    assert late.value.code == "not_awaiting"

    desk.at(2026, 2, 11, 10, 0).step("chair.haichau", "sign")
    d = desk.dossier
    assert (d.status, d.finished_at) == ("done", local(2026, 2, 11, 10, 0))
    assert d.finished_at <= d.due_at  # on time: the three days at the tax office do not count
    types = event_types(lf, desk.id)
    assert types.count("message_received") == 1
    assert [p["code"] for p in event_payloads(lf, desk.id, "action_refused")] == ["wrong_role", "wrong_unit",
                                                                                   "not_awaiting"]
    (received,) = event_payloads(lf, desk.id, "message_received")
    assert (received["message"], received["element"], received["data"]) == (
        "tax_notice", "tax_wait", {"amount": 35000000, "notice_no": "TB-2026/117"})
    desk.verify()
    # KPI: the three working days at the tax office are nobody's in landflow. Every step was on time, the
    # dossier too; only the two deliveries outside one's role or unit count, against those who tried.
    refresh_item_facts(lf.db, lf.calendar, lf.clock.now())  # what the sweep does
    with lf.db.read() as s:
        rules = RatingRules.load(ROOT / "config" / "kpi.toml")
        report = kpi_report(s, "officer", local(2026, 2, 1, 0, 0), local(2026, 3, 1, 0, 0), lf.clock.now(), rules)
    rows = {r.key: (r.handled, r.on_time, r.refused_attempts) for r in report.rows}
    assert rows == {"desk.haichau": (1, 1, 0), "land.haichau": (2, 2, 1), "chair.haichau": (1, 1, 0),
                    "tax.haivan": (0, 0, 1)}
    (overall,) = [k for k in report.dossiers if k.key == "all"]
    assert (overall.done, overall.done_on_time, overall.late_done) == (1, 1, 0)
