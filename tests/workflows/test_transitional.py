"""Transitional dossiers: the hand-over of dossiers received before 1 July 2025 by an abolished district
body, routed to the successor unit by the parcel's old commune, continued in the land procedure from
the step they had reached, with the days already spent.

Expected units come from the Resolution 1659 mapping (config/organisation/README.md): xã Hòa Phong and
Hòa Phú (former Hòa Vang district) → commune Hòa Vang 20320, served by branch CN-KV04; xã Tà Bhing
(former Nam Giang district, Quảng Nam; also spelt Tà Bhinh) → commune Bến Giằng 20710 (remote), branch
CN-KV12; phường Hải Châu I (merged into Hải Châu on 1 Jan 2025) → ward Hải Châu 20242, branch CN-KV01;
xã Hòa Liên was split between wards Hải Vân 20194 and Liên Chiểu 20197 (branch CN-KV03).

Calendar: see test_happy_paths. Working days after Mon 9 Feb 2026: Tue 10 (1), Wed 11 (2), Thu 12 (3),
Fri 13 (4), (Tết) Mon 23 (5), Tue 24 (6), Wed 25 (7), Thu 26 (8), Fri 27 (9), Mon 2 Mar (10) …
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from api.problems import status_of
from engine.runtime import CommandRefused
from tests.conftest import local
from tests.workflows.conftest import (
    BEN_GIANG,
    HAI_CHAU,
    HAI_VAN,
    HOA_VANG,
    LIEN_CHIEU,
    Desk,
    dossier_row,
    event_payloads,
    event_types,
    items,
    signals,
)
from tests.workflows.scenarios import HAPPY, who


def record(old_commune: str, old_district: str, target: str = "land_transfer", competence: str = "province",
           days_spent: int = 3) -> dict[str, Any]:
    """The hand-over record the former district body's papers give."""
    return {"legacy_code": "HV-2025-000123", "former_body": "Chi nhánh Văn phòng đăng ký đất đai huyện cũ",
            "received_date": "2025-06-16", "old_commune": old_commune, "old_district": old_district,
            "target_procedure": target, "reached_step": "đang kiểm tra điều kiện thực hiện quyền",
            "days_spent": days_spent, "documents": "hợp đồng chuyển nhượng; Giấy chứng nhận bản gốc; CCCD",
            "former_competence": competence}


@pytest.fixture
def handover(desk: Desk, deploy: Callable[..., None]) -> Desk:
    deploy("district_handover", "land_transfer", "first_registration", "certificate_exchange")
    return desk


def child_of(desk: Desk) -> Desk:
    (cont,) = event_payloads(desk.lf, desk.id, "continued")
    child = Desk(desk.lf, desk.clock, cont["dossier"])
    assert child.dossier.code == cont["code"]
    return child


@pytest.mark.parametrize("clock_setting", ["continue", "restart"])
def test_hoa_vang_dossier_continues_at_the_branch_with_the_days_already_spent(
        handover: Desk, clock_setting: str) -> None:
    desk = handover
    desk.at(2026, 2, 9, 9, 0).open("desk.hoavang", "district_handover", None)
    d = desk.dossier
    # The hand-over itself: P5D, no remote extension: Tue 10, Wed 11, Thu 12, Fri 13, Mon 23 Feb.
    assert (d.commune, d.due_at) == (None, local(2026, 2, 23, 9, 0))
    assert (desk.current.step, desk.current.unit, desk.current.due_at) == ("intake", HOA_VANG,
                                                                           local(2026, 2, 9, 14, 30))
    desk.at(2026, 2, 9, 10, 0).step("desk.hoavang", "intake", record("xã Hoà Phong", "huyện Hòa Vang"))
    assert (desk.dossier.commune, desk.dossier.remote) == (HOA_VANG, False)
    (done,) = event_payloads(desk.lf, desk.id, "completed")
    assert done["derived"]["successor_known"] is True and done["derived"]["successor_candidates"] == [HOA_VANG]
    item = desk.current  # former province competence: the branch serving the successor takes it over
    assert (item.step, item.unit, item.due_at) == ("accept_branch", "CN-KV04", local(2026, 2, 11, 10, 0))

    desk.at(2026, 2, 10, 9, 0).step("branch.hoavang", "accept_branch", {"accepted": True})
    d = desk.dossier
    assert (d.status, d.outcome) == ("done", "continued")
    assert event_types(desk.lf, desk.id)[-2:] == ["completed", "continued"]

    child = child_of(desk)
    c = child.dossier
    assert (c.procedure, c.commune, c.parent_id, c.days_spent_before, c.desk_unit) == (
        "land_transfer", HOA_VANG, desk.id, 3, HOA_VANG)
    assert c.received_at == local(2026, 2, 10, 9, 0)
    if clock_setting == "continue":
        # 8 - 3 = 5 days from Tue 10 Feb 09:00: Wed 11, Thu 12, Fri 13, (Tết) Mon 23, Tue 24.
        assert c.due_at == c.statutory_due_at == local(2026, 2, 24, 9, 0)
    else:
        # restart: 8 days: Wed 11, Thu 12, Fri 13, Mon 23 … Fri 27 Feb.
        assert c.due_at == c.statutory_due_at == local(2026, 2, 27, 9, 0)
    rows = items(child.lf, child.id)
    assert [(i.step, i.state, i.outcome, i.done_by) for i in rows] == [
        ("receive", "done", "carried_over", "system"), ("check_rights", "ready", None, None)]
    assert (rows[1].unit, rows[1].due_at) == ("CN-KV04", local(2026, 2, 12, 9, 0))  # P2D from Tue 10 09:00
    (opened,) = event_payloads(child.lf, child.id, "opened")
    assert opened["carried"] == [{"item": 1, "step": "receive", "data": {"decision": "accept"}}]
    assert opened["data"]["handover_code"] == d.code and opened["data"]["legacy_code"] == "HV-2025-000123"

    # The branch continues the land procedure to its end.
    child.at(2026, 2, 10, 10, 0)
    for role, step, data in HAPPY["land_transfer"][1:]:
        child.step(who(role, HOA_VANG), step, data)
    assert (child.dossier.status, child.dossier.outcome) == ("done", "issued")
    desk.verify()
    child.verify()


def test_nam_giang_dossier_goes_to_remote_ben_giang_under_the_new_procedure(handover: Desk) -> None:
    desk = handover
    # Received at the city's service centre desk (boundary-free reception).
    desk.at(2026, 2, 9, 9, 0).open("desk.province", "district_handover", None)
    desk.at(2026, 2, 9, 10, 0).step("desk.province", "intake", record(
        "Tà Bhinh", "Huyện Nam Giang", target="first_registration", competence="district", days_spent=5))
    d = desk.dossier
    assert (d.commune, d.remote) == (BEN_GIANG, True)
    assert d.due_at == local(2026, 2, 23, 9, 0)  # the hand-over has no remote extension (P0D)
    item = desk.current  # former district competence: the commune decides under the new procedure
    assert (item.step, item.unit) == ("accept_commune", BEN_GIANG)
    desk.at(2026, 2, 11, 9, 0).step("land.bengiang", "accept_commune", {"accepted": True})

    child = child_of(desk)
    c = child.dossier
    assert (c.procedure, c.commune, c.remote, c.days_spent_before, c.desk_unit) == (
        "first_registration", BEN_GIANG, True, 5, "TTPVHCC")
    # 20 + 10 (remote) - 5 = 25 days from Wed 11 Feb 09:00: Thu 12, Fri 13, Mon 23 … Fri 27 (7),
    # Mon 2 … Fri 6 Mar (12), Mon 9 … Fri 13 (17), Mon 16 … Fri 20 (22), Mon 23, Tue 24, Wed 25 Mar.
    assert c.due_at == local(2026, 3, 25, 9, 0)
    item = child.current
    # verify, P8D from Wed 11 Feb 09:00: Thu 12, Fri 13, Mon 23 … Fri 27, Mon 2 Mar.
    assert (item.step, item.unit, item.role, item.due_at) == (
        "verify", BEN_GIANG, "commune_land_officer", local(2026, 3, 2, 9, 0))
    child.at(2026, 2, 12, 9, 0).step("land.bengiang", "verify", HAPPY["first_registration"][1][2])
    assert child.current.step == "public_posting"
    desk.verify()
    child.verify()


@pytest.mark.parametrize("old_commune,old_district,successor,branch", [
    ("Hòa Phong", "Huyện Hòa Vang", HOA_VANG, "CN-KV04"),
    ("xã Hoà Phong", "huyện Hoà Vang", HOA_VANG, "CN-KV04"),  # tone mark on the other vowel
    ("HÒA PHONG", "H. Hòa Vang", HOA_VANG, "CN-KV04"),
    ("xã Tà Bhing", "huyện Nam Giang", BEN_GIANG, "CN-KV12"),
    ("Tà Bhinh", "Nam Giang", BEN_GIANG, "CN-KV12"),  # the statistics catalogue's spelling
    ("phường Hải Châu I", "quận Hải Châu", HAI_CHAU, "CN-KV01"),  # printed on pre-2025 certificates
    ("P. Hải Châu 2", "Q. Hải Châu", HAI_CHAU, "CN-KV01"),
])
def test_old_names_and_spellings_reach_the_same_unit_through_the_whole_flow(
        handover: Desk, old_commune: str, old_district: str, successor: str, branch: str) -> None:
    desk = handover
    desk.at(2026, 2, 9, 9, 0).open("desk.province", "district_handover", None)
    desk.at(2026, 2, 9, 10, 0).step("desk.province", "intake", record(old_commune, old_district))
    assert desk.dossier.commune == successor
    officer = "branch." + {HOA_VANG: "hoavang", BEN_GIANG: "bengiang", HAI_CHAU: "haichau"}[successor]
    assert desk.current.unit == branch
    desk.at(2026, 2, 9, 11, 0).step(officer, "accept_branch", {"accepted": True})
    child = child_of(desk)
    assert (child.dossier.commune, child.current.step, child.current.unit) == (successor, "check_rights", branch)
    child.at(2026, 2, 9, 14, 0).step(officer, "check_rights", {"eligible": True})
    assert child.current.step == "send_form19"
    child.verify()


@pytest.mark.parametrize("old_commune,old_district,candidates", [
    ("xã Hòa Liên", "huyện Hòa Vang", [HAI_VAN, LIEN_CHIEU]),  # split by Resolution 1659
    ("Hòa Minh", "Quận Liên Chiểu", ["20200", "20209"]),  # part moved to Thanh Khê Tây in 2025
])
def test_a_split_commune_goes_to_the_province_never_to_a_guessed_unit(
        handover: Desk, old_commune: str, old_district: str, candidates: list[str]) -> None:
    desk = handover
    desk.at(2026, 2, 9, 9, 0).open("desk.province", "district_handover", None)
    desk.at(2026, 2, 9, 10, 0).step("desk.province", "intake", record(
        old_commune, old_district, target="certificate_exchange", competence="district"))
    assert desk.dossier.commune is None
    (done,) = event_payloads(desk.lf, desk.id, "completed")
    assert done["derived"]["successor_known"] is False
    assert done["derived"]["successor_candidates"] == candidates
    assert "locate the parcel" in done["derived"]["successor_reason"]
    item = desk.current
    # decide_successor, P2D from Mon 9 Feb 10:00: Tue 10, Wed 11.
    assert (item.step, item.role, item.unit, item.due_at) == (
        "decide_successor", "province_land_department", "SO-NNMT", local(2026, 2, 11, 10, 0))
    assert [i.step for i in items(desk.lf, desk.id)] == ["intake", "decide_successor"]  # no commune got it

    if candidates[0] != HAI_VAN:
        return
    with pytest.raises(CommandRefused) as info:  # a unit that is not a candidate is refused
        desk.at(2026, 2, 10, 9, 0).step("dept.province", "decide_successor", {"jurisdiction": HAI_CHAU})
    assert info.value.code == "not_a_candidate"
    assert desk.dossier.commune is None
    desk.at(2026, 2, 10, 9, 30).step("dept.province", "decide_successor",
                                     {"jurisdiction": LIEN_CHIEU, "note": "thửa đất thuộc phần nhập vào Liên Chiểu"})
    assert (desk.dossier.commune, desk.current.step, desk.current.unit) == (LIEN_CHIEU, "accept_commune", LIEN_CHIEU)
    desk.at(2026, 2, 10, 14, 0).step("land.lienchieu", "accept_commune", {"accepted": True})
    child = child_of(desk)
    assert (child.dossier.procedure, child.dossier.commune) == ("certificate_exchange", LIEN_CHIEU)
    assert (child.current.step, child.current.unit) == ("check_dossier", "CN-KV03")
    desk.verify()
    child.verify()


def test_a_successor_that_refuses_leaves_a_signal_and_the_province_decides_again(handover: Desk) -> None:
    desk = handover
    desk.at(2026, 2, 9, 9, 0).open("desk.hoavang", "district_handover", None)
    desk.at(2026, 2, 9, 10, 0).step("desk.hoavang", "intake", record("Hòa Phú", "Huyện Hòa Vang",
                                                                     competence="district"))
    assert (desk.current.step, desk.current.unit) == ("accept_commune", HOA_VANG)
    with pytest.raises(CommandRefused) as info:  # refusing needs a reason
        desk.at(2026, 2, 9, 14, 0).step("land.hoavang", "accept_commune", {"accepted": False})
    assert info.value.code == "missing_reason"
    desk.step("land.hoavang", "accept_commune", {"accepted": False, "note": "thửa đất không thuộc địa bàn xã"})
    assert ("returned", "land.hoavang", HOA_VANG) in signals(desk.lf, desk.id)
    item = desk.current
    assert (item.step, item.unit) == ("decide_successor", "SO-NNMT")
    # The look-up was certain: the province may confirm the same unit (or name another).
    desk.at(2026, 2, 10, 9, 0).step("dept.province", "decide_successor", {"jurisdiction": HOA_VANG})
    desk.at(2026, 2, 10, 10, 0).step("land.hoavang", "accept_commune", {"accepted": True})
    assert desk.dossier.outcome == "continued"
    assert desk.path == ["intake", "accept_commune", "decide_successor", "accept_commune"]
    desk.verify()


def test_transfer_and_return_by_the_successor_are_signals(handover: Desk) -> None:
    desk = handover
    rt = desk.lf.runtime
    desk.at(2026, 2, 9, 9, 0).open("desk.hoavang", "district_handover", None)
    desk.at(2026, 2, 9, 10, 0).step("desk.hoavang", "intake", record("Hòa Phong", "Huyện Hòa Vang",
                                                                     competence="district"))
    desk.at(2026, 2, 9, 11, 0)
    rt.transfer(desk.officer("land.hoavang"), desk.current.id, "đề nghị phường Hải Châu xử lý", to_unit=HAI_CHAU)
    assert desk.current.unit == HAI_CHAU
    rt.transfer(desk.officer("land.haichau"), desk.current.id, "không thuộc địa bàn phường", to_unit=HOA_VANG)
    rt.return_(desk.officer("land.hoavang"), desk.current.id, "intake", "biên bản bàn giao thiếu chữ ký")
    kinds = [(k, o) for k, o, _ in signals(desk.lf, desk.id)]
    assert kinds == [("rerouted", "land.hoavang"), ("rerouted", "land.haichau"), ("ping_pong", "land.haichau"),
                     ("returned", "land.hoavang")]
    assert (desk.current.step, desk.current.unit) == ("intake", HOA_VANG)
    desk.verify()


def test_only_a_procedure_that_resolves_its_jurisdiction_opens_without_a_commune(handover: Desk) -> None:
    with pytest.raises(CommandRefused) as info:
        handover.at(2026, 2, 9, 9, 0).open("desk.hoavang", "land_transfer", None)
    assert (info.value.code, status_of(info.value)) == ("invalid_data", 422)


def test_a_dossier_cannot_be_opened_at_a_step_it_cannot_reach(handover: Desk) -> None:
    rt = handover.lf.runtime
    desk = handover.officer("desk.hoavang")
    with pytest.raises(CommandRefused) as info:
        rt.open(desk, "land_transfer", HOA_VANG, {"name": "B"}, resume_at="no_such_step")
    assert info.value.code == "illegal_target"
    # return_dossier is reachable only when the rights check fails: the engine finds that route itself.
    st = rt.open(desk, "land_transfer", HOA_VANG, {"name": "C"}, resume_at="return_dossier",
                 data={"kind": "donation"})
    opened = event_payloads(handover.lf, st.id, "opened")[0]
    assert opened["carried"] == [
        {"item": 1, "step": "receive", "data": {"decision": "accept", "kind": "donation"}},
        {"item": 2, "step": "check_rights", "data": {"eligible": False}}]
    assert dossier_row(handover.lf, st.id).status == "in_progress"
    Desk(handover.lf, handover.clock, st.id).verify()
