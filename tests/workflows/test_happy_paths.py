"""The ordinary path of every land procedure, step by step, with every deadline computed by hand.

Calendar: office hours 07:30-11:30 and 13:00-17:00 (8 working hours a day); the test calendar makes
Saturday 7 Feb 2026 a working day; Tết is Mon 16 - Fri 20 Feb 2026; Hùng Kings' day is observed on
Mon 27 Apr 2026, and Thu 30 Apr / Fri 1 May 2026 are holidays. `PT4H` from 09:00 ends at 14:30 (2.5 h
before the lunch break, 1.5 h after). Steps with `clock=paused` stop the dossier's clock while open: the
dossier deadline moves later by the working time they were open.

Each row of a script: (when the officer acts, officer, step, form data, the step's deadline). The
deadline is that of the work item the officer completes, computed from when it was opened.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from engine.runtime import CommandRefused
from tests.conftest import local
from tests.workflows.conftest import HAI_CHAU, Desk, event_payloads, signals

Row = tuple[tuple[int, ...], str, str, dict[str, Any], datetime]


def run(desk: Desk, script: list[Row]) -> None:
    for when, officer, step, data, due in script:
        item = desk.current
        assert (item.step, item.due_at) == (step, due), f"{step}: due {item.due_at}, expected {due}"
        desk.at(*when).step(officer, step, data)


def start(desk: Desk, deploy: Callable[..., None], procedure: str, *when: int) -> None:
    deploy(procedure)
    desk.at(*when).open("desk.haichau", procedure, HAI_CHAU)


def test_land_transfer(desk: Desk, deploy: Callable[..., None]) -> None:
    start(desk, deploy, "land_transfer", 2026, 2, 5, 9, 0)
    # P8D from Thu 5 Feb 09:00: Fri 6, Sat 7 (make-up), Mon 9 … Fri 13 (7), Tết, Mon 23 Feb (8).
    assert desk.dossier.due_at == local(2026, 2, 23, 9, 0)
    run(desk, [
        ((2026, 2, 5, 10, 0), "desk.haichau", "receive", {"decision": "accept", "kind": "inheritance"},
         local(2026, 2, 5, 14, 30)),  # PT4H from Thu 09:00
        ((2026, 2, 6, 15, 0), "branch.haichau", "check_rights", {"eligible": True},
         local(2026, 2, 7, 10, 0)),  # P2D from Thu 10:00: Fri 6, Sat 7
        ((2026, 2, 7, 10, 0), "branch.haichau", "send_form19", {},
         local(2026, 2, 7, 15, 0)),  # P1D from Fri 15:00: Sat 7 (make-up) 15:00
    ])
    d = desk.dossier
    assert (d.paused_at, d.due_at) == (local(2026, 2, 7, 10, 0), local(2026, 2, 23, 9, 0))  # tax: clock paused
    run(desk, [
        ((2026, 2, 12, 10, 0), "tax.haichau", "tax_assess", {"obligation_amount": 12_500_000},
         local(2026, 2, 13, 10, 0)),  # P5D from Sat 7 10:00: Mon 9, Tue 10, Wed 11, Thu 12, Fri 13
    ])
    assert desk.dossier.due_at == local(2026, 2, 23, 9, 0)  # still paused while the applicant pays
    run(desk, [
        ((2026, 2, 23, 10, 0), "tax.haichau", "tax_payment", {"payment_date": "2026-02-23"},
         local(2026, 2, 24, 10, 0)),  # P3D from Thu 12 10:00: Fri 13, (Tết) Mon 23, Tue 24
    ])
    d = desk.dossier
    # Paused Sat 7 Feb 10:00 → Mon 23 Feb 10:00: Sat 5.5 h + Mon 9 … Fri 13 40 h + Mon 23 2.5 h = 48 h = 6 days.
    # Mon 23 Feb 09:00 + 6 days: Tue 24, Wed 25, Thu 26, Fri 27, Mon 2, Tue 3 Mar 09:00.
    assert (d.paused_at, d.due_at, d.statutory_due_at) == (None, local(2026, 3, 3, 9, 0), local(2026, 3, 3, 9, 0))
    run(desk, [
        ((2026, 2, 25, 14, 0), "branch.haichau", "update_register", {},
         local(2026, 2, 26, 10, 0)),  # P3D from Mon 23 10:00: Tue 24, Wed 25, Thu 26
        ((2026, 2, 26, 8, 0), "desk.haichau", "return_result", {},
         local(2026, 2, 26, 8, 30)),  # PT4H from Wed 14:00: 3 h on Wed, 1 h from Thu 07:30
    ])
    d = desk.dossier
    assert (d.status, d.outcome, d.finished_at) == ("done", "issued", local(2026, 2, 26, 8, 0))
    assert desk.path == ["receive", "check_rights", "send_form19", "tax_assess", "tax_payment", "update_register",
                         "return_result"]
    desk.verify()


def test_first_registration(desk: Desk, deploy: Callable[..., None]) -> None:
    start(desk, deploy, "first_registration", 2026, 2, 5, 9, 0)
    # P20D (17 + 3) from Thu 5 Feb 09:00: day 20 = Wed 11 Mar 09:00 (list in test_exception_paths).
    assert desk.dossier.due_at == local(2026, 3, 11, 9, 0)
    run(desk, [
        ((2026, 2, 5, 10, 0), "desk.haichau", "receive", {"decision": "accept"}, local(2026, 2, 5, 14, 30)),
        ((2026, 2, 10, 9, 0), "land.haichau", "verify",
         {"current_use": "đất ở", "origin": "sử dụng ổn định từ 1995", "dispute": False, "planning_conform": True},
         local(2026, 2, 23, 10, 0)),  # P8D from Thu 5 10:00: Fri 6 … Fri 13 (7), Mon 23 (8)
    ])
    assert desk.dossier.paused_at == local(2026, 2, 10, 9, 0)  # public posting: 15 days outside the clock
    run(desk, [
        ((2026, 3, 10, 9, 0), "land.haichau", "public_posting", {"objections": False},
         local(2026, 3, 10, 9, 0)),  # P15D from Tue 10 Feb: Wed 11, Thu 12, Fri 13, Mon 23 … Fri 27 (8),
        # Mon 2 … Fri 6 Mar (13), Mon 9 (14), Tue 10 Mar (15)
    ])
    # Paused exactly 15 days: Wed 11 Mar 09:00 + 15 = Thu 12, Fri 13, Mon 16 … Fri 20 (7), Mon 23 … Fri 27 (12),
    # Mon 30, Tue 31, Wed 1 Apr (15).
    assert desk.dossier.due_at == local(2026, 4, 1, 9, 0)
    run(desk, [
        ((2026, 3, 11, 9, 0), "land.haichau", "assess", {"eligible": True},
         local(2026, 3, 13, 9, 0)),  # P3D from Tue 10 Mar 09:00
        ((2026, 3, 11, 14, 0), "land.haichau", "send_form19", {}, local(2026, 3, 12, 9, 0)),  # P1D
        ((2026, 3, 16, 9, 0), "tax.haichau", "tax_assess", {"obligation_amount": 45_000_000},
         local(2026, 3, 18, 14, 0)),  # P5D from Wed 11 14:00: Thu 12, Fri 13, Mon 16, Tue 17, Wed 18
        ((2026, 3, 18, 14, 0), "tax.haichau", "tax_payment", {"payment_date": "2026-03-18"},
         local(2026, 3, 19, 9, 0)),  # P3D from Mon 16 09:00
    ])
    # Paused Wed 11 Mar 14:00 → Wed 18 Mar 14:00 = 5 days: Wed 1 Apr + Thu 2, Fri 3, Mon 6, Tue 7, Wed 8 Apr.
    assert desk.dossier.due_at == local(2026, 4, 8, 9, 0)
    run(desk, [
        ((2026, 3, 19, 9, 0), "econ.haichau", "prepare_certificate", {}, local(2026, 3, 19, 14, 0)),  # P1D
        ((2026, 3, 19, 15, 0), "chair.haichau", "sign_certificate", {}, local(2026, 3, 20, 9, 0)),  # P1D
        ((2026, 3, 20, 9, 0), "branch.haichau", "update_database", {}, local(2026, 3, 20, 15, 0)),  # P1D
        ((2026, 3, 20, 10, 0), "desk.haichau", "return_result", {}, local(2026, 3, 20, 14, 30)),  # PT4H
    ])
    d = desk.dossier
    assert (d.status, d.outcome, d.due_at) == ("done", "issued", local(2026, 4, 8, 9, 0))
    assert desk.path == ["receive", "verify", "public_posting", "assess", "send_form19", "tax_assess", "tax_payment",
                         "prepare_certificate", "sign_certificate", "update_database", "return_result"]
    desk.verify()


def test_first_registration_not_eligible_ends_with_the_registration_result_notice(
        desk: Desk, deploy: Callable[..., None]) -> None:
    start(desk, deploy, "first_registration", 2026, 2, 5, 9, 0)
    run(desk, [
        ((2026, 2, 5, 10, 0), "desk.haichau", "receive", {"decision": "accept"}, local(2026, 2, 5, 14, 30)),
        ((2026, 2, 5, 15, 0), "land.haichau", "verify",
         {"current_use": "đất nông nghiệp", "origin": "lấn chiếm", "dispute": True, "planning_conform": False},
         local(2026, 2, 23, 10, 0)),
        ((2026, 2, 6, 15, 0), "land.haichau", "public_posting",
         {"objections": True, "objection_note": "hộ liền kề khiếu nại ranh giới"},
         local(2026, 3, 4, 15, 0)),  # P15D from Thu 5 15:00: day 15 = Wed 4 Mar
    ])
    # Posting open Thu 5 15:00 → Fri 6 15:00 = 1 day: Wed 11 Mar 09:00 + 1 = Thu 12 Mar 09:00.
    assert desk.dossier.due_at == local(2026, 3, 12, 9, 0)
    with pytest.raises(CommandRefused) as info:  # not eligible is a refusal: it needs its reason
        desk.at(2026, 2, 9, 8, 0).step("land.haichau", "assess", {"eligible": False, "reason": " "})
    assert (info.value.kind, info.value.code) == ("invalid", "missing_reason")
    run(desk, [
        ((2026, 2, 9, 9, 0), "land.haichau", "assess", {"eligible": False, "reason": "đất có tranh chấp"},
         local(2026, 2, 10, 15, 0)),  # P3D from Fri 6 15:00: Sat 7, Mon 9, Tue 10
        ((2026, 2, 9, 14, 0), "land.haichau", "result_notice", {"reason": "đất có tranh chấp, chưa đủ điều kiện"},
         local(2026, 2, 10, 9, 0)),  # P1D from Mon 9 09:00
        ((2026, 2, 10, 8, 0), "desk.haichau", "return_notice", {},
         local(2026, 2, 10, 8, 30)),  # PT4H from Mon 14:00: 3 h Mon, 1 h Tue from 07:30
    ])
    d = desk.dossier
    assert (d.status, d.outcome) == ("done", "not_eligible")
    assert desk.path == ["receive", "verify", "public_posting", "assess", "result_notice", "return_notice"]
    assert [x for x in signals(desk.lf, desk.id) if x[0] == "returned"] == [("returned", "land.haichau", HAI_CHAU)]
    desk.verify()


def test_parcel_split_merge(desk: Desk, deploy: Callable[..., None]) -> None:
    start(desk, deploy, "parcel_split_merge", 2026, 2, 5, 9, 0)
    assert desk.dossier.due_at == local(2026, 2, 27, 9, 0)  # P12D: day 12 = Fri 27 Feb
    run(desk, [
        ((2026, 2, 5, 10, 0), "desk.haichau", "receive", {"decision": "accept", "kind": "split"},
         local(2026, 2, 5, 14, 30)),
        ((2026, 2, 6, 9, 0), "branch.haichau", "check_conditions", {"eligible": True}, local(2026, 2, 7, 10, 0)),
        ((2026, 2, 11, 9, 0), "branch.haichau", "measure", {"parcel_count": 2, "total_area": 180.5},
         local(2026, 2, 11, 9, 0)),  # P4D from Fri 6 09:00: Sat 7, Mon 9, Tue 10, Wed 11
        ((2026, 2, 23, 15, 0), "branch.haichau", "update_register", {},
         local(2026, 2, 24, 9, 0)),  # P4D from Wed 11 09:00: Thu 12, Fri 13, (Tết) Mon 23, Tue 24
        ((2026, 2, 24, 8, 0), "desk.haichau", "return_result", {},
         local(2026, 2, 24, 9, 30)),  # PT4H from Mon 15:00: 2 h Mon, 2 h Tue from 07:30
    ])
    d = desk.dossier
    assert (d.status, d.outcome, d.due_at) == ("done", "issued", local(2026, 2, 27, 9, 0))
    assert desk.path == ["receive", "check_conditions", "measure", "update_register", "return_result"]
    desk.verify()


def test_certificate_exchange(desk: Desk, deploy: Callable[..., None]) -> None:
    start(desk, deploy, "certificate_exchange", 2026, 2, 5, 9, 0)
    assert desk.dossier.due_at == local(2026, 2, 11, 9, 0)  # P5D: Wed 11 Feb
    run(desk, [
        ((2026, 2, 5, 10, 0), "desk.haichau", "receive", {"decision": "accept", "remeasured": False},
         local(2026, 2, 5, 14, 30)),
        ((2026, 2, 6, 9, 0), "branch.haichau", "check_dossier", {"eligible": True},
         local(2026, 2, 6, 10, 0)),  # P1D from Thu 10:00
        ((2026, 2, 9, 9, 0), "branch.haichau", "issue_certificate", {},
         local(2026, 2, 9, 9, 0)),  # P2D from Fri 6 09:00: Sat 7, Mon 9
        ((2026, 2, 9, 14, 0), "desk.haichau", "return_result", {}, local(2026, 2, 9, 14, 30)),
    ])
    d = desk.dossier
    assert (d.status, d.outcome, d.due_at) == ("done", "issued", local(2026, 2, 11, 9, 0))
    assert desk.path == ["receive", "check_dossier", "issue_certificate", "return_result"]
    desk.verify()


def test_certificate_exchange_remeasured_has_ten_days(desk: Desk, deploy: Callable[..., None]) -> None:
    start(desk, deploy, "certificate_exchange", 2026, 2, 5, 9, 0)
    assert desk.dossier.due_at == local(2026, 2, 11, 9, 0)  # P5D until the desk records the re-measured case
    desk.at(2026, 2, 5, 10, 0).step("desk.haichau", "receive", {"decision": "accept", "remeasured": True})
    d = desk.dossier
    # sla_remeasured = P10D from the receipt (Thu 5 Feb 09:00): day 10 = Wed 25 Feb.
    assert d.due_at == d.statutory_due_at == local(2026, 2, 25, 9, 0)
    assert event_payloads(desk.lf, desk.id, "completed")[0]["limit"] == {"from": "P5D", "to": "P10D"}
    run(desk, [
        ((2026, 2, 6, 9, 0), "branch.haichau", "check_dossier", {"eligible": True}, local(2026, 2, 6, 10, 0)),
        ((2026, 2, 12, 9, 0), "branch.haichau", "remeasure", {"new_area": 152.3, "area_changed": True},
         local(2026, 2, 12, 9, 0)),  # P5D from Fri 6 09:00: Sat 7, Mon 9, Tue 10, Wed 11, Thu 12
        ((2026, 2, 23, 9, 0), "branch.haichau", "issue_certificate", {},
         local(2026, 2, 23, 9, 0)),  # P2D from Thu 12 09:00: Fri 13, (Tết) Mon 23
        ((2026, 2, 23, 10, 0), "desk.haichau", "return_result", {}, local(2026, 2, 23, 14, 30)),
    ])
    d = desk.dossier
    assert (d.status, d.outcome, d.due_at) == ("done", "issued", local(2026, 2, 25, 9, 0))
    assert desk.path == ["receive", "check_dossier", "remeasure", "issue_certificate", "return_result"]
    desk.verify()


def test_certificate_exchange_remeasured_in_a_remote_commune(desk: Desk, deploy: Callable[..., None]) -> None:
    deploy("certificate_exchange")
    desk.at(2026, 2, 5, 9, 0).open("desk.bengiang", "certificate_exchange", "20710")
    assert desk.dossier.due_at == local(2026, 3, 4, 9, 0)  # 5 + 10 = 15 days: Wed 4 Mar
    desk.at(2026, 2, 5, 10, 0).step("desk.bengiang", "receive", {"decision": "accept", "remeasured": True})
    # 10 + 10 = 20 days: Wed 11 Mar (5 more days after Wed 4 Mar: Thu 5, Fri 6, Mon 9, Tue 10, Wed 11).
    assert desk.dossier.due_at == local(2026, 3, 11, 9, 0)


def test_certificate_reissue_lost(desk: Desk, deploy: Callable[..., None]) -> None:
    start(desk, deploy, "certificate_reissue_lost", 2026, 2, 5, 9, 0)
    assert desk.dossier.due_at == local(2026, 2, 25, 9, 0)  # P10D: Wed 25 Feb
    run(desk, [
        ((2026, 2, 5, 10, 0), "desk.haichau", "receive", {"decision": "accept"}, local(2026, 2, 5, 14, 30)),
        ((2026, 2, 6, 9, 0), "branch.haichau", "check_dossier", {"eligible": True}, local(2026, 2, 7, 10, 0)),
    ])
    assert desk.dossier.paused_at == local(2026, 2, 6, 9, 0)  # the public notice is outside the clock
    run(desk, [
        ((2026, 3, 5, 9, 0), "land.haichau", "public_notice", {"objections": False},
         local(2026, 3, 5, 9, 0)),  # P15D from Fri 6 Feb 09:00: Sat 7, Mon 9 … Fri 13 (6), Mon 23 … Fri 27 (11),
        # Mon 2 … Thu 5 Mar (15)
    ])
    # 1 day used before the notice (Thu 5 → Fri 6 09:00); 9 remain from Thu 5 Mar 09:00: Fri 6, Mon 9 … Fri 13,
    # Mon 16, Tue 17, Wed 18 Mar.
    assert desk.dossier.due_at == local(2026, 3, 18, 9, 0)
    run(desk, [
        ((2026, 3, 11, 9, 0), "branch.haichau", "reissue", {},
         local(2026, 3, 12, 9, 0)),  # P5D from Thu 5 Mar 09:00: Fri 6, Mon 9, Tue 10, Wed 11, Thu 12
        ((2026, 3, 11, 10, 0), "desk.haichau", "return_result", {}, local(2026, 3, 11, 14, 30)),
    ])
    d = desk.dossier
    assert (d.status, d.outcome, d.due_at) == ("done", "issued", local(2026, 3, 18, 9, 0))
    assert desk.path == ["receive", "check_dossier", "public_notice", "reissue", "return_result"]
    desk.verify()


def test_certificate_correction(desk: Desk, deploy: Callable[..., None]) -> None:
    start(desk, deploy, "certificate_correction", 2026, 2, 5, 9, 0)
    assert desk.dossier.due_at == local(2026, 2, 23, 9, 0)  # P8D: Mon 23 Feb
    run(desk, [
        ((2026, 2, 5, 10, 0), "desk.haichau", "receive", {"decision": "accept"}, local(2026, 2, 5, 14, 30)),
        ((2026, 2, 6, 9, 0), "branch.haichau", "check_error", {"eligible": True, "error_description": "sai năm sinh"},
         local(2026, 2, 7, 10, 0)),
        ((2026, 2, 10, 14, 0), "branch.haichau", "correct_certificate", {},
         local(2026, 2, 11, 9, 0)),  # P4D from Fri 6 09:00: Sat 7, Mon 9, Tue 10, Wed 11
        ((2026, 2, 11, 8, 0), "desk.haichau", "return_result", {},
         local(2026, 2, 11, 8, 30)),  # PT4H from Tue 14:00: 3 h Tue, 1 h Wed
    ])
    d = desk.dossier
    assert (d.status, d.outcome) == ("done", "corrected")
    assert desk.path == ["receive", "check_error", "correct_certificate", "return_result"]
    desk.verify()


def test_purpose_change_registration_with_obligations_across_30_april(desk: Desk, deploy: Callable[..., None]) -> None:
    # Working days after Tue 28 Apr 2026: Wed 29 Apr (1), (Thu 30 Apr, Fri 1 May holidays, weekend),
    # Mon 4 May (2), Tue 5 (3), Wed 6 (4), Thu 7 (5), Fri 8 (6), Mon 11 (7), Tue 12 (8) …
    start(desk, deploy, "purpose_change_registration", 2026, 4, 28, 9, 0)
    assert desk.dossier.due_at == local(2026, 5, 11, 9, 0)  # P7D: Mon 11 May
    run(desk, [
        ((2026, 4, 28, 10, 0), "desk.haichau", "receive", {"decision": "accept"}, local(2026, 4, 28, 14, 30)),
        ((2026, 4, 29, 9, 0), "branch.haichau", "check_conditions", {"eligible": True, "obligations": True},
         local(2026, 5, 4, 10, 0)),  # P2D from Tue 28 10:00: Wed 29, Mon 4 May
        ((2026, 4, 29, 14, 0), "branch.haichau", "send_form19", {}, local(2026, 4, 29, 14, 30)),  # PT4H
        ((2026, 5, 6, 9, 0), "tax.haichau", "tax_assess", {"obligation_amount": 3_000_000},
         local(2026, 5, 8, 14, 0)),  # P5D from Wed 29 Apr 14:00: Mon 4, Tue 5, Wed 6, Thu 7, Fri 8 May
        ((2026, 5, 8, 10, 0), "tax.haichau", "tax_payment", {"payment_date": "2026-05-08"},
         local(2026, 5, 11, 9, 0)),  # P3D from Wed 6 May 09:00: Thu 7, Fri 8, Mon 11
    ])
    # Paused Wed 29 Apr 14:00 → Fri 8 May 10:00: Wed 3 h + Mon 4 … Thu 7 32 h + Fri 2.5 h = 37.5 h.
    # Mon 11 May 09:00 + 37.5 h: Mon 6.5 h, Tue 8, Wed 8, Thu 8 (30.5), Fri 15 May 4 h + 3 h → 16:00.
    assert desk.dossier.due_at == local(2026, 5, 15, 16, 0)
    run(desk, [
        ((2026, 5, 12, 9, 0), "branch.haichau", "update_register", {},
         local(2026, 5, 13, 10, 0)),  # P3D from Fri 8 May 10:00: Mon 11, Tue 12, Wed 13
        ((2026, 5, 12, 10, 0), "desk.haichau", "return_result", {}, local(2026, 5, 12, 14, 30)),
    ])
    d = desk.dossier
    assert (d.status, d.outcome, d.due_at) == ("done", "registered", local(2026, 5, 15, 16, 0))
    assert desk.path == ["receive", "check_conditions", "send_form19", "tax_assess", "tax_payment",
                         "update_register", "return_result"]
    desk.verify()


def test_mortgage_registration(desk: Desk, deploy: Callable[..., None]) -> None:
    start(desk, deploy, "mortgage_registration", 2026, 2, 5, 9, 0)
    assert desk.dossier.due_at == local(2026, 2, 6, 9, 0)  # P1D (one-stop practice): Fri 6 Feb 09:00
    run(desk, [
        ((2026, 2, 5, 9, 30), "desk.haichau", "receive", {"decision": "accept"}, local(2026, 2, 5, 11, 0)),  # PT2H
        ((2026, 2, 5, 11, 0), "branch.haichau", "check_dossier", {"eligible": True},
         local(2026, 2, 5, 11, 30)),  # PT2H from 09:30
        ((2026, 2, 5, 14, 0), "branch.haichau", "register_mortgage", {},
         local(2026, 2, 5, 15, 30)),  # PT3H from 11:00: 0.5 h before lunch, 2.5 h after
        ((2026, 2, 5, 14, 30), "desk.haichau", "return_result", {}, local(2026, 2, 5, 15, 0)),  # PT1H
    ])
    d = desk.dossier
    assert (d.status, d.outcome, d.finished_at) == ("done", "registered", local(2026, 2, 5, 14, 30))
    assert desk.path == ["receive", "check_dossier", "register_mortgage", "return_result"]
    desk.verify()


def test_certificate_exchange_back_to_the_ordinary_limit_when_the_receipt_is_redone(
        desk: Desk, deploy: Callable[..., None]) -> None:
    start(desk, deploy, "certificate_exchange", 2026, 2, 5, 9, 0)
    desk.at(2026, 2, 5, 10, 0).step("desk.haichau", "receive", {"decision": "accept", "remeasured": True})
    assert desk.dossier.due_at == local(2026, 2, 25, 9, 0)  # P10D
    desk.at(2026, 2, 6, 9, 0)
    desk.lf.runtime.return_(desk.officer("branch.haichau"), desk.current.id, "receive",
                            "bản đồ địa chính đã cập nhật, không phải đo đạc lại")
    desk.at(2026, 2, 6, 10, 0).step("desk.haichau", "receive", {"decision": "accept", "remeasured": False})
    d = desk.dossier
    assert d.due_at == d.statutory_due_at == local(2026, 2, 11, 9, 0)  # back to P5D: Wed 11 Feb
    assert [p.get("limit") for p in event_payloads(desk.lf, desk.id, "completed")] == [
        {"from": "P5D", "to": "P10D"}, {"from": "P10D", "to": "P5D"}]
    desk.verify()
