"""Two versions of one small procedure, for the migration tests (engine/migration/).

Version 1: receive (desk) -> check (land officer) -> survey (land officer) -> decide (chairman,
"Ký quyết định") -> handover (desk). Version 2 adds `inspect` after `check`, removes `survey` and
renames `decide` to `sign` (same name, longer limit).
"""

from __future__ import annotations

from .bpmn_builder import Flow, Node, Procedure

KEY = "migration_test"
BASIS = "Nghị định 151/2025/NĐ-CP"


def _step(id_: str, name: str, lane: str, col: int, sla: str = "P1D") -> Node:
    return Node(id_, "user", name, lane=lane, col=col, props={"sla": sla, "result": "Phiếu", "legal_basis": BASIS})


def _chain(steps: list[Node]) -> Procedure:
    nodes = [Node("start", "start", "Nhận hồ sơ", lane="one_stop_desk", col=0), *steps,
             Node("end", "end", "Đã trả kết quả", lane="one_stop_desk", col=len(steps) + 1)]
    ids = [n.id for n in nodes]
    flows = [Flow(f"f{i}", a, b) for i, (a, b) in enumerate(zip(ids, ids[1:], strict=False), start=1)]
    return Procedure(KEY, "Thủ tục thử chuyển phiên bản", nodes, flows,
                     props={"sla": "P10D", "legal_basis": BASIS,
                            "paper.don": f"required | Đơn đề nghị | {BASIS}"})


def version1() -> Procedure:
    return _chain([_step("receive", "Tiếp nhận hồ sơ", "one_stop_desk", 1),
                   _step("check", "Kiểm tra hồ sơ", "commune_land_officer", 2),
                   _step("survey", "Đo đạc thực địa", "commune_land_officer", 3),
                   _step("decide", "Ký quyết định", "commune_chairman", 4),
                   _step("handover", "Trả kết quả", "one_stop_desk", 5, "PT4H")])


def version2() -> Procedure:
    return _chain([_step("receive", "Tiếp nhận hồ sơ", "one_stop_desk", 1),
                   _step("check", "Kiểm tra hồ sơ", "commune_land_officer", 2),
                   _step("inspect", "Kiểm tra quy hoạch", "commune_land_officer", 3),
                   _step("sign", "Ký quyết định", "commune_chairman", 4, "P2D"),
                   _step("handover", "Trả kết quả", "one_stop_desk", 5, "PT4H")])
