"""Fragments and the procedures calling them, for tests and benches (decision 0166).

`posting_fragment` is a small "public posting" fragment (the commune posts for 15 days, clock paused,
then records the objections); `caller_procedure` builds a procedure that calls a fragment between a
receiving step and a handing-over step, so two callers of the same fragment differ only in key and limit.
"""

from __future__ import annotations

from .bpmn_builder import Flow, Node, Procedure

LAW = "Nghị định 151/2025/NĐ-CP"


def posting_fragment(sla: str = "P15D", check_sla: str = "P1D", name: str = "Niêm yết công khai") -> Procedure:
    """start -> post (commune land officer, `sla`, clock paused) -> objections (land officer, `check_sla`,
    clock runs, form objections:bool!) -> end."""
    lane = "commune_land_officer"
    nodes = [
        Node("posting_start", "start", "Bắt đầu niêm yết", lane=lane, col=0),
        Node("post", "user", "Niêm yết công khai tại UBND xã", lane=lane, col=1,
             props={"sla": sla, "clock": "paused", "result": "Biên bản niêm yết", "legal_basis": LAW}),
        Node("objections", "user", "Tổng hợp ý kiến phản ánh", lane=lane, col=2,
             props={"sla": check_sla, "result": "Biên bản kết thúc niêm yết", "legal_basis": LAW,
                    "form": "objections:bool!"}),
        Node("posting_end", "end", "Kết thúc niêm yết", lane=lane, col=3),
    ]
    flows = [Flow("pf1", "posting_start", "post"), Flow("pf2", "post", "objections"),
             Flow("pf3", "objections", "posting_end")]
    return Procedure("posting_test", name, nodes, flows, props={"fragment": "true", "legal_basis": LAW})


def caller_procedure(key: str, name: str, sla: str = "P5D", fragment: str = "posting_test",
                     receive_sla: str = "P1D", then: str | None = None) -> Procedure:
    """start -> receive (desk, `receive_sla`, form complete:bool!) -> call `fragment` [-> call `then`]
    -> hand over (desk, PT4H) -> end."""
    desk = "one_stop_desk"
    nodes = [
        Node("start", "start", "Nhận hồ sơ", lane=desk, col=0),
        Node("receive", "user", "Tiếp nhận hồ sơ", lane=desk, col=1,
             props={"sla": receive_sla, "result": "Giấy tiếp nhận", "legal_basis": "Nghị định 118/2025/NĐ-CP",
                    "form": "complete:bool!"}),
        Node("posting", "call", "Niêm yết công khai", lane=desk, col=2, attrs={"calledElement": fragment}),
    ]
    flows = [Flow("f1", "start", "receive"), Flow("f2", "receive", "posting")]
    last, col = "posting", 3
    if then is not None:
        nodes.append(Node("obligations", "call", "Nghĩa vụ tài chính", lane=desk, col=3, attrs={"calledElement": then}))
        flows.append(Flow("f5", "posting", "obligations"))
        last, col = "obligations", 4
    nodes += [
        Node("handover", "user", "Trả kết quả", lane=desk, col=col,
             props={"sla": "PT4H", "result": "Sổ theo dõi trả kết quả", "legal_basis": "Nghị định 118/2025/NĐ-CP"}),
        Node("end", "end", "Đã trả kết quả", lane=desk, col=col + 1, props={"outcome": "result"}),
    ]
    flows += [Flow("f3", last, "handover"), Flow("f4", "handover", "end")]
    return Procedure(key, name, nodes, flows, props={"sla": sla, "legal_basis": LAW})
