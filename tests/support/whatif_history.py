"""A small procedure with a recorded history, made with the engine's own commands (for what-if tests).

`whatif_test`: receive (desk, P1D) -> verify (land officer, P2D, eligible?) -> sign (chairman, P1D)
-> end "issued"; not eligible -> notify (desk, PT4H) -> end "refused". Dossier limit P5D.
The candidate `with_survey` adds a field survey by the registration branch (P3D) before signing.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from engine.bootstrap import Landflow
from engine.clock import FixedClock
from engine.runtime.commands import Runtime
from engine.store import WorkItemRow
from tests.conftest import local, officer
from tests.support.bpmn_builder import Flow, Node, Procedure, timer_xml

KEY = "whatif_test"
W1 = "W1"


def whatif_procedure(with_survey: bool = False, escalate_after: str | None = None) -> Procedure:
    """`escalate_after`: an interrupting boundary timer on `verify` hands the dossier to the chairman."""
    nodes = [
        Node("start", "start", "Nhận hồ sơ", lane="one_stop_desk", col=0),
        Node("receive", "user", "Tiếp nhận hồ sơ", lane="one_stop_desk", col=1,
             props={"sla": "P1D", "result": "Giấy tiếp nhận", "legal_basis": "Nghị định 118/2025/NĐ-CP",
                    "form": "complete:bool!"}),
        Node("verify", "user", "Kiểm tra hiện trạng", lane="commune_land_officer", col=2,
             props={"sla": "P2D", "result": "Phiếu xác minh", "legal_basis": "Nghị định 151/2025/NĐ-CP",
                    "form": "eligible:bool!; note:text", "refusal": "eligible=false", "refusal_reason": "note"}),
        Node("gw", "xor", "Đủ điều kiện?", lane="commune_land_officer", col=3),
        Node("sign", "user", "Ký giấy chứng nhận", lane="commune_chairman", col=6,
             props={"sla": "P1D", "result": "Giấy chứng nhận", "legal_basis": "Luật Đất đai 2024"}),
        Node("end_ok", "end", "Đã cấp", lane="commune_chairman", col=7, props={"outcome": "result"}),
        Node("notify", "user", "Thông báo không đủ điều kiện", lane="one_stop_desk", col=4,
             props={"sla": "PT4H", "result": "Thông báo", "legal_basis": "Nghị định 151/2025/NĐ-CP"}),
        Node("end_no", "end", "Không đủ điều kiện", lane="one_stop_desk", col=5, props={"outcome": "refusal"}),
    ]
    flows = [
        Flow("f1", "start", "receive"), Flow("f2", "receive", "verify"), Flow("f3", "verify", "gw"),
        Flow("f5", "gw", "survey" if with_survey else "sign", condition="eligible == True", name="Đủ"),
        Flow("f6", "gw", "notify", condition="not eligible", name="Không đủ"),
        Flow("f7", "sign", "end_ok"), Flow("f8", "notify", "end_no"),
    ]
    if with_survey:
        nodes.append(Node("survey", "user", "Đo đạc thực địa", lane="registration_branch", col=5,
                          props={"sla": "P3D", "result": "Mảnh trích đo", "legal_basis": "Nghị định 101/2024/NĐ-CP"}))
        flows.append(Flow("f9", "survey", "sign"))
    if escalate_after:
        nodes += [
            Node("late", "boundary", "Quá hạn kiểm tra", lane="commune_land_officer", col=2,
                 attrs={"attachedToRef": "verify", "cancelActivity": "true"}, extra_xml=timer_xml(escalate_after)),
            Node("escalate", "user", "Chủ tịch xử lý", lane="commune_chairman", col=3,
                 props={"sla": "P1D", "result": "Quyết định", "legal_basis": "Luật Đất đai 2024"}),
            Node("escalated", "end", "Đã chuyển Chủ tịch", lane="commune_chairman", col=4, props={"outcome": "result"}),
        ]
        flows += [Flow("f10", "late", "escalate"), Flow("f11", "escalate", "escalated")]
    return Procedure(key=KEY, name="Thủ tục thử what-if", nodes=nodes, flows=flows,
                     props={"sla": "P5D", "legal_basis": "Nghị định 151/2025/NĐ-CP",
                            "paper.don": "required | Đơn đề nghị | Nghị định 151/2025/NĐ-CP"})


def working_days(lf: Landflow, first: date, n: int) -> list[date]:
    out: list[date] = []
    d = first
    while len(out) < n:
        if lf.calendar.is_working_day(d):
            out.append(d)
        d += timedelta(days=1)
    return out


def make_history(lf: Landflow, clock: FixedClock, dossiers: int = 12, first: date = date(2026, 1, 5),
                 refused_every: int = 5) -> datetime:
    """Deploy `whatif_test` and run `dossiers` dossiers, one a working day, through it; every
    `refused_every`-th is not eligible. Returns the instant after the history (the report's "now")."""
    lf.runtime.deploy(officer(lf, "supervisor"), whatif_procedure().to_xml())
    rt = lf.runtime
    for n, day in enumerate(working_days(lf, first, dossiers), start=1):
        def at(h: int, m: int = 0, d: date = day) -> datetime:
            return local(d.year, d.month, d.day, h, m)

        clock.set(at(8))
        st = rt.open(officer(lf, "desk.w1"), KEY, W1, {"name": f"Người nộp {n}", "id_number": f"049{n:04d}"},
                     {"sheet": 1, "parcel": n})
        clock.set(at(9))
        rt.complete(officer(lf, "desk.w1"), _open(rt, st.id, "receive"), {"complete": True})
        clock.set(at(10))
        item = _open(rt, st.id, "verify")
        rt.claim(officer(lf, "land.w1"), item)
        clock.set(at(14))
        eligible = n % refused_every != 0
        rt.complete(officer(lf, "land.w1"), item, {"eligible": eligible} if eligible else
                    {"eligible": False, "note": "Đất đang có tranh chấp"})
        clock.set(at(15, 30))
        if eligible:
            rt.complete(officer(lf, "chair.w1"), _open(rt, st.id, "sign"), {})
        else:
            rt.complete(officer(lf, "desk.w1"), _open(rt, st.id, "notify"), {})
    end = local(2026, 2, 2, 8, 0)
    clock.set(end)
    return end  # a report `until` its date takes every dossier above


def _open(rt: Runtime, dossier_id: int, step: str) -> int:
    with rt.db.read() as s:
        found = s.scalar(select(WorkItemRow.id).where(WorkItemRow.dossier_id == dossier_id, WorkItemRow.step == step,
                                                      WorkItemRow.state.in_(("ready", "claimed"))))
    assert found is not None, step
    return int(found)
