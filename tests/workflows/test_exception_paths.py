"""The exception paths every land procedure has, run end to end through engine commands by the demo
officers: refused at reception, returned as not eligible, a supplement requested then received, and a
remote commune's +10 working days. Deadlines are hand-computed below.

Calendar (test calendar, office hours 07:30-11:30 and 13:00-17:00): Saturday 7 Feb 2026 is a make-up
working day; Tết is Mon 16 - Fri 20 Feb 2026. Working days after Thursday 5 Feb 2026:
  1 Fri 6 · 2 Sat 7 · 3 Mon 9 · 4 Tue 10 · 5 Wed 11 · 6 Thu 12 · 7 Fri 13 · (Tết) · 8 Mon 23 · 9 Tue 24 ·
  10 Wed 25 · 11 Thu 26 · 12 Fri 27 · 13 Mon 2 Mar · 14 Tue 3 · 15 Wed 4 · 16 Thu 5 · 17 Fri 6 · 18 Mon 9 ·
  19 Tue 10 · 20 Wed 11 · 21 Thu 12 · 22 Fri 13 · 23 Mon 16 · 24 Tue 17 · 25 Wed 18 · 26 Thu 19 · 27 Fri 20 ·
  28 Mon 23 · 29 Tue 24 · 30 Wed 25 Mar.
Every dossier here is received on Thursday 5 Feb 2026 at 09:00, so a limit of N working days ends on
day N of that list at 09:00.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from engine.runtime import CommandRefused
from tests.conftest import local
from tests.workflows.conftest import BEN_GIANG, HAI_CHAU, Desk, event_payloads, event_types, items, signals
from tests.workflows.scenarios import DONE, HAPPY, receive_data, who

LAND = sorted(HAPPY)

# Statutory limit from Thu 5 Feb 09:00, ordinary commune (Hải Châu) and remote (Bến Giằng, +10 days).
DUE = {
    "land_transfer": local(2026, 2, 23, 9, 0),  # 8 days: day 8 = Mon 23 Feb
    "first_registration": local(2026, 3, 11, 9, 0),  # 17 + 3 = 20 days: Wed 11 Mar
    "parcel_split_merge": local(2026, 2, 27, 9, 0),  # 12 days: Fri 27 Feb
    "certificate_exchange": local(2026, 2, 11, 9, 0),  # 5 days: Wed 11 Feb
    "certificate_reissue_lost": local(2026, 2, 25, 9, 0),  # 10 days: Wed 25 Feb
    "certificate_correction": local(2026, 2, 23, 9, 0),  # 8 days: Mon 23 Feb
    "purpose_change_registration": local(2026, 2, 13, 9, 0),  # 7 days: Fri 13 Feb
    "mortgage_registration": local(2026, 2, 6, 9, 0),  # 1 day (configurable): Fri 6 Feb
}
REMOTE_DUE = {
    "land_transfer": local(2026, 3, 9, 9, 0),  # 8 + 10 = 18: Mon 9 Mar
    "first_registration": local(2026, 3, 25, 9, 0),  # 20 + 10 = 30: Wed 25 Mar
    "parcel_split_merge": local(2026, 3, 13, 9, 0),  # 12 + 10 = 22: Fri 13 Mar
    "certificate_exchange": local(2026, 3, 4, 9, 0),  # 5 + 10 = 15: Wed 4 Mar
    "certificate_reissue_lost": local(2026, 3, 11, 9, 0),  # 10 + 10 = 20: Wed 11 Mar
    "certificate_correction": local(2026, 3, 9, 9, 0),  # 8 + 10 = 18: Mon 9 Mar
    "purpose_change_registration": local(2026, 3, 6, 9, 0),  # 7 + 10 = 17: Fri 6 Mar
    "mortgage_registration": local(2026, 2, 26, 9, 0),  # 1 + 10 = 11: Thu 26 Feb
}
# The receipt step's deadline from Thu 5 Feb 09:00: PT4H = 2.5 h until 11:30 + 1.5 h from 13:00 → 14:30;
# mortgage PT2H → 11:00.
RECEIVE_DUE = {k: local(2026, 2, 5, 14, 30) for k in LAND} | {"mortgage_registration": local(2026, 2, 5, 11, 0)}
# The checking step (the step after receipt), opened Thu 5 Feb 10:00, and its deadline.
CHECK = {
    "land_transfer": ("check_rights", local(2026, 2, 7, 10, 0)),  # P2D: Fri 6, Sat 7 (make-up) 10:00
    "first_registration": ("verify", local(2026, 2, 23, 10, 0)),  # P8D: day 8 = Mon 23 Feb 10:00
    "parcel_split_merge": ("check_conditions", local(2026, 2, 7, 10, 0)),  # P2D
    "certificate_exchange": ("check_dossier", local(2026, 2, 6, 10, 0)),  # P1D: Fri 6 10:00
    "certificate_reissue_lost": ("check_dossier", local(2026, 2, 7, 10, 0)),  # P2D
    "certificate_correction": ("check_error", local(2026, 2, 7, 10, 0)),  # P2D
    "purpose_change_registration": ("check_conditions", local(2026, 2, 7, 10, 0)),  # P2D
    "mortgage_registration": ("check_dossier", local(2026, 2, 5, 13, 30)),  # PT2H: 1.5 h to 11:30, 0.5 h → 13:30
}
OWNER_UNITS_BEN_GIANG = {"one_stop_desk": BEN_GIANG, "commune_land_officer": BEN_GIANG,
                         "commune_economic_division": BEN_GIANG, "commune_chairman": BEN_GIANG,
                         "registration_branch": "CN-KV12", "tax_office": "THUE-CS08"}


def opened(desk: Desk, deploy: Callable[..., None], procedure: str, commune: str = HAI_CHAU) -> Desk:
    deploy(procedure)
    desk.at(2026, 2, 5, 9, 0).open(who("one_stop_desk", commune), procedure, commune)
    return desk


def finish(desk: Desk, procedure: str, commune: str, from_step: int, when: tuple[int, ...]) -> None:
    """The rest of the ordinary path, every step done at `when`."""
    desk.at(*when)
    for role, step, data in HAPPY[procedure][from_step:]:
        desk.step(who(role, commune), step, data)


@pytest.mark.parametrize("procedure", LAND)
def test_refused_at_reception(desk: Desk, deploy: Callable[..., None], procedure: str) -> None:
    opened(desk, deploy, procedure)
    assert desk.dossier.due_at == DUE[procedure]
    assert desk.current.due_at == RECEIVE_DUE[procedure]
    desk.at(2026, 2, 5, 9, 30)
    refusal = receive_data(procedure, "refuse")
    without_reason(desk, "desk.haichau", "receive", refusal, "refusal_reason")
    desk.step("desk.haichau", "receive", refusal)
    d = desk.dossier
    assert (d.status, d.outcome, d.finished_at) == ("done", "refused", local(2026, 2, 5, 9, 30))
    assert desk.path == ["receive"]
    assert returned(desk) == [("returned", "desk.haichau", HAI_CHAU)]
    (completed,) = event_payloads(desk.lf, desk.id, "completed")
    assert (completed["refused"], completed["reason"]) == (True, refusal["refusal_reason"])
    desk.verify()


def without_reason(desk: Desk, username: str, step: str, data: dict[str, Any], field: str) -> None:
    """A refusing completion with no reason, an empty one or only spaces: refused as invalid input, nothing
    changes (the item stays open, no `completed`, no `returned` signal)."""
    before = len(event_types(desk.lf, desk.id))
    for blank in (None, "", "  \t "):
        sent = {k: v for k, v in data.items() if k != field} | ({} if blank is None else {field: blank})
        with pytest.raises(CommandRefused) as err:
            desk.step(username, step, sent)
        assert (err.value.kind, err.value.code) == ("invalid", "missing_reason")
    assert desk.current.step == step
    assert event_types(desk.lf, desk.id)[before:] == ["action_refused"] * 3
    assert returned(desk) == []


def returned(desk: Desk) -> list[tuple[str, str | None, str | None]]:
    """The `returned` signals (what the refused attempts leave is not this test's subject)."""
    return [s for s in signals(desk.lf, desk.id) if s[0] == "returned"]


RETURN_DATA = {"certificate_correction": {"eligible": False, "return_reason": "không có sai sót"},
               "purpose_change_registration": {"eligible": False, "obligations": False,
                                               "return_reason": "không thuộc trường hợp chỉ đăng ký"}}
RETURN_DUE = {k: local(2026, 2, 6, 14, 30) for k in LAND} | {  # PT4H from Fri 6 09:00 → 14:30
    "mortgage_registration": local(2026, 2, 6, 10, 0)}  # PT1H from Fri 6 09:00


@pytest.mark.parametrize("procedure", [k for k in LAND if k != "first_registration"])
def test_returned_as_not_eligible(desk: Desk, deploy: Callable[..., None], procedure: str) -> None:
    opened(desk, deploy, procedure)
    desk.at(2026, 2, 5, 10, 0).step("desk.haichau", "receive", receive_data(procedure, "accept"))
    step, check_due = CHECK[procedure]
    assert (desk.current.step, desk.current.unit, desk.current.due_at) == (step, "CN-KV01", check_due)
    data = RETURN_DATA.get(procedure, {"eligible": False, "return_reason": "đất đang có tranh chấp"})
    desk.at(2026, 2, 6, 9, 0)
    without_reason(desk, "branch.haichau", step, data, "return_reason")
    desk.step("branch.haichau", step, data)
    assert returned(desk) == [("returned", "branch.haichau", "CN-KV01")]
    item = desk.current
    assert (item.step, item.unit, item.due_at) == ("return_dossier", HAI_CHAU, RETURN_DUE[procedure])
    desk.at(2026, 2, 6, 9, 30).step("desk.haichau", "return_dossier")
    d = desk.dossier
    assert (d.status, d.outcome) == ("done", "returned")
    assert desk.path == ["receive", step, "return_dossier"]
    assert d.due_at == DUE[procedure]
    desk.verify()


# The dossier's limit + 3 working days (supplement awaited Thu 5 Feb 15:00 → Mon 9 Feb 15:00:
# Thu 2 h + Fri 8 h + Sat 7 (make-up) 8 h + Mon 6 h = 24 h = 3 days).
SUPPLEMENT_DUE = {
    "land_transfer": local(2026, 2, 26, 9, 0),  # 8 + 3 = 11: Thu 26 Feb
    "first_registration": local(2026, 3, 16, 9, 0),  # 20 + 3 = 23: Mon 16 Mar
    "parcel_split_merge": local(2026, 3, 4, 9, 0),  # 12 + 3 = 15: Wed 4 Mar
    "certificate_exchange": local(2026, 2, 23, 9, 0),  # 5 + 3 = 8: Mon 23 Feb
    "certificate_reissue_lost": local(2026, 3, 2, 9, 0),  # 10 + 3 = 13: Mon 2 Mar
    "certificate_correction": local(2026, 2, 26, 9, 0),  # 8 + 3 = 11: Thu 26 Feb
    "purpose_change_registration": local(2026, 2, 25, 9, 0),  # 7 + 3 = 10: Wed 25 Feb
    "mortgage_registration": local(2026, 2, 10, 9, 0),  # 1 + 3 = 4: Tue 10 Feb
}
# The checking step's deadline + the same 3 working days.
SUPPLEMENT_CHECK_DUE = {
    "land_transfer": local(2026, 2, 11, 10, 0),  # Sat 7 10:00 + Mon 9, Tue 10, Wed 11
    "first_registration": local(2026, 2, 26, 10, 0),  # Mon 23 Feb 10:00 + Tue 24, Wed 25, Thu 26
    "parcel_split_merge": local(2026, 2, 11, 10, 0),
    "certificate_exchange": local(2026, 2, 10, 10, 0),  # Fri 6 10:00 + Sat 7, Mon 9, Tue 10
    "certificate_reissue_lost": local(2026, 2, 11, 10, 0),
    "certificate_correction": local(2026, 2, 11, 10, 0),
    "purpose_change_registration": local(2026, 2, 11, 10, 0),
    "mortgage_registration": local(2026, 2, 9, 13, 30),  # Thu 5 13:30 + Fri 6, Sat 7, Mon 9
}


@pytest.mark.parametrize("procedure", LAND)
def test_supplement_requested_then_received(desk: Desk, deploy: Callable[..., None], procedure: str) -> None:
    opened(desk, deploy, procedure)
    desk.at(2026, 2, 5, 10, 0).step("desk.haichau", "receive", receive_data(procedure, "accept"))
    step, _ = CHECK[procedure]
    role = HAPPY[procedure][1][0]
    rt = desk.lf.runtime
    desk.at(2026, 2, 5, 15, 0)
    rt.request_supplement(desk.officer(who(role, HAI_CHAU)), desk.current.id, "thiếu bản sao trích lục bản đồ")
    d = desk.dossier
    assert (d.status, d.paused_at, d.due_at) == ("awaiting_supplement", local(2026, 2, 5, 15, 0), DUE[procedure])
    desk.at(2026, 2, 9, 15, 0)
    rt.receive_supplement(desk.officer("desk.haichau"), desk.id, "đã nộp trích lục")
    d = desk.dossier
    assert (d.status, d.paused_at) == ("in_progress", None)
    assert d.due_at == d.statutory_due_at == SUPPLEMENT_DUE[procedure]
    assert (desk.current.step, desk.current.due_at) == (step, SUPPLEMENT_CHECK_DUE[procedure])
    finish(desk, procedure, HAI_CHAU, 1, (2026, 2, 9, 15, 0))
    d = desk.dossier
    assert (d.status, d.outcome, d.supplement_count) == ("done", DONE[procedure], 1)
    assert desk.path == [s for _, s, _ in HAPPY[procedure]]
    assert d.due_at == SUPPLEMENT_DUE[procedure]  # paused steps opened and closed at one instant lose nothing
    assert signals(desk.lf, desk.id) == []  # one request is no warning sign
    desk.verify()


@pytest.mark.parametrize("procedure", LAND)
def test_remote_commune_gets_ten_more_working_days(desk: Desk, deploy: Callable[..., None], procedure: str) -> None:
    opened(desk, deploy, procedure, BEN_GIANG)
    d = desk.dossier
    assert (d.remote, d.due_at, d.statutory_due_at) == (True, REMOTE_DUE[procedure], REMOTE_DUE[procedure])
    finish(desk, procedure, BEN_GIANG, 0, (2026, 2, 5, 10, 0))
    d = desk.dossier
    assert (d.status, d.outcome, d.due_at) == ("done", DONE[procedure], REMOTE_DUE[procedure])
    done = items(desk.lf, desk.id)
    assert [(i.step, i.unit, i.done_by) for i in done] == [
        (step, OWNER_UNITS_BEN_GIANG[role], who(role, BEN_GIANG)) for role, step, _ in HAPPY[procedure]]
    desk.verify()


def test_an_ordinary_commune_has_no_extension(desk: Desk, deploy: Callable[..., None]) -> None:
    # Same procedure, same instant: Hải Châu (not remote) gets the bare 8 days, Bến Giằng 18.
    opened(desk, deploy, "land_transfer", HAI_CHAU)
    assert (desk.dossier.remote, desk.dossier.due_at) == (False, local(2026, 2, 23, 9, 0))
    assert DUE["land_transfer"] != REMOTE_DUE["land_transfer"]
