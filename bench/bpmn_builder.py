"""Build small BPMN documents with full DI for tests and benches.

Tests need many variants of a procedure (a missing owner, a hostile condition, no diagram...).
Writing each as hand-made XML hides the one thing that differs; this builder states the procedure
as data and lays it out in lanes, left to right, so every variant is a real, drawable diagram.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
    "camunda": "http://camunda.org/schema/1.0/bpmn",
}

TAGS = {
    "start": "startEvent",
    "end": "endEvent",
    "user": "userTask",
    "script": "scriptTask",
    "xor": "exclusiveGateway",
    "and": "parallelGateway",
    "task": "task",
    "service": "serviceTask",
    "rule": "businessRuleTask",
    "boundary": "boundaryEvent",
    "catch": "intermediateCatchEvent",
}
SIZES = {"start": (36, 36), "end": (36, 36), "xor": (50, 50), "and": (50, 50), "boundary": (36, 36),
         "catch": (36, 36)}


@dataclass
class Node:
    id: str
    kind: str
    name: str = ""
    lane: str | None = None
    props: dict[str, str] = field(default_factory=dict)
    script: str | None = None
    col: int = 0
    attrs: dict[str, str] = field(default_factory=dict)
    extra_xml: str = ""
    multi: MultiInstance | None = None


@dataclass
class MultiInstance:
    """`multiInstanceLoopCharacteristics`: the agencies' collection, each instance's element, the answers."""

    collection: str = "agencies"
    item: str = "agency"
    output: str = "opinions"
    output_item: str = "opinion"
    sequential: bool = False
    extra_xml: str = ""  # e.g. a loopCardinality or completionCondition the checker must refuse

    def to_xml(self) -> str:
        parts = [f"<bpmn:loopDataInputRef>{escape(self.collection)}</bpmn:loopDataInputRef>" if self.collection else "",
                 f"<bpmn:loopDataOutputRef>{escape(self.output)}</bpmn:loopDataOutputRef>" if self.output else "",
                 f"<bpmn:inputDataItem id={quoteattr(self.item)} name={quoteattr(self.item)} />" if self.item else "",
                 f"<bpmn:outputDataItem id={quoteattr(self.output_item)} name={quoteattr(self.output_item)} />"
                 if self.output_item else "", self.extra_xml]
        sequential = "true" if self.sequential else "false"
        return (f'<bpmn:multiInstanceLoopCharacteristics isSequential="{sequential}">{"".join(parts)}'
                "</bpmn:multiInstanceLoopCharacteristics>")


@dataclass
class Flow:
    id: str
    source: str
    target: str
    condition: str | None = None
    name: str = ""


@dataclass
class Procedure:
    key: str
    name: str
    nodes: list[Node]
    flows: list[Flow]
    props: dict[str, str] = field(default_factory=dict)
    executable: bool = True
    property_style: str = "spiff"  # or "camunda"
    with_di: bool = True
    skip_di_for: set[str] = field(default_factory=set)
    extra_process_xml: str = ""
    preamble: str = ""

    def lanes(self) -> list[str]:
        seen: list[str] = []
        for node in self.nodes:
            if node.lane is not None and node.lane not in seen:
                seen.append(node.lane)
        return seen

    def to_xml(self) -> bytes:
        return render(self).encode("utf-8")


def _props_xml(props: dict[str, str], style: str) -> str:
    if not props:
        return ""
    prefix = "spiffworkflow" if style == "spiff" else "camunda"
    inner = "".join(
        f"<{prefix}:property name={quoteattr(k)} value={quoteattr(v)} />" for k, v in props.items()
    )
    return f"<bpmn:extensionElements><{prefix}:properties>{inner}</{prefix}:properties></bpmn:extensionElements>"


def _attrs(attrs: dict[str, str]) -> str:
    return "".join(f" {k}={quoteattr(v)}" for k, v in attrs.items())


def render(proc: Procedure) -> str:
    incoming: dict[str, list[str]] = {n.id: [] for n in proc.nodes}
    outgoing: dict[str, list[str]] = {n.id: [] for n in proc.nodes}
    for f in proc.flows:
        outgoing.setdefault(f.source, []).append(f.id)
        incoming.setdefault(f.target, []).append(f.id)

    body: list[str] = []
    lanes = proc.lanes()
    if lanes:
        body.append('<bpmn:laneSet id="LaneSet_1">')
        for i, lane in enumerate(lanes):
            refs = "".join(
                f"<bpmn:flowNodeRef>{n.id}</bpmn:flowNodeRef>" for n in proc.nodes if n.lane == lane
            )
            body.append(f'<bpmn:lane id="Lane_{i}" name={quoteattr(lane)}>{refs}</bpmn:lane>')
        body.append("</bpmn:laneSet>")
    for n in proc.nodes:
        tag = TAGS[n.kind]
        inner = _props_xml(n.props, proc.property_style) + n.extra_xml
        inner += "".join(f"<bpmn:incoming>{x}</bpmn:incoming>" for x in incoming[n.id])
        inner += "".join(f"<bpmn:outgoing>{x}</bpmn:outgoing>" for x in outgoing[n.id])
        if n.script is not None:
            inner += f"<bpmn:script>{escape(n.script)}</bpmn:script>"
        if n.multi is not None:
            inner += n.multi.to_xml()
        body.append(
            f"<bpmn:{tag} id={quoteattr(n.id)} name={quoteattr(n.name)}{_attrs(n.attrs)}>{inner}</bpmn:{tag}>"
        )
    for f in proc.flows:
        cond = ""
        if f.condition is not None:
            cond = f"<bpmn:conditionExpression>{escape(f.condition)}</bpmn:conditionExpression>"
        body.append(
            f"<bpmn:sequenceFlow id={quoteattr(f.id)} name={quoteattr(f.name)} "
            f"sourceRef={quoteattr(f.source)} targetRef={quoteattr(f.target)}>{cond}</bpmn:sequenceFlow>"
        )

    ns = " ".join(f'xmlns:{k}="{v}"' for k, v in NS.items())
    executable = "true" if proc.executable else "false"
    collab = ""
    di = ""
    if proc.with_di:
        collab = (
            '<bpmn:collaboration id="Collaboration_1">'
            f'<bpmn:participant id="Participant_1" name={quoteattr(proc.name)} processRef={quoteattr(proc.key)} />'
            "</bpmn:collaboration>"
        )
        di = _diagram(proc, lanes)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{proc.preamble}'
        f'<bpmn:definitions {ns} id="Definitions_{proc.key}" targetNamespace="http://bpmn.io/schema/bpmn">'
        f"{collab}"
        f'<bpmn:process id={quoteattr(proc.key)} name={quoteattr(proc.name)} isExecutable="{executable}">'
        f"{_props_xml(proc.props, proc.property_style)}{''.join(body)}{proc.extra_process_xml}"
        f"</bpmn:process>{di}</bpmn:definitions>"
    )


def _diagram(proc: Procedure, lanes: list[str]) -> str:
    lane_h = 160
    left = 190
    col_w = 170
    width = left + (max((n.col for n in proc.nodes), default=0) + 1) * col_w + 60
    pos: dict[str, tuple[int, int, int, int]] = {}
    for n in proc.nodes:
        w, h = SIZES.get(n.kind, (110, 80))
        row = lanes.index(n.lane) if n.lane in lanes else 0
        cx = left + n.col * col_w + col_w // 2
        cy = 30 + row * lane_h + lane_h // 2
        pos[n.id] = (cx - w // 2, cy - h // 2, w, h)
    shapes = [
        f'<bpmndi:BPMNShape id="Participant_1_di" bpmnElement="Participant_1" isHorizontal="true">'
        f'<dc:Bounds x="100" y="30" width="{width}" height="{max(1, len(lanes)) * lane_h}" /></bpmndi:BPMNShape>'
    ]
    for i, _lane in enumerate(lanes):
        shapes.append(
            f'<bpmndi:BPMNShape id="Lane_{i}_di" bpmnElement="Lane_{i}" isHorizontal="true">'
            f'<dc:Bounds x="130" y="{30 + i * lane_h}" width="{width - 30}" height="{lane_h}" /></bpmndi:BPMNShape>'
        )
    for n in proc.nodes:
        if n.id in proc.skip_di_for:
            continue
        x, y, w, h = pos[n.id]
        shapes.append(
            f'<bpmndi:BPMNShape id="{n.id}_di" bpmnElement="{n.id}">'
            f'<dc:Bounds x="{x}" y="{y}" width="{w}" height="{h}" /></bpmndi:BPMNShape>'
        )
    for f in proc.flows:
        if f.id in proc.skip_di_for or f.source not in pos or f.target not in pos:
            continue
        sx, sy, sw, sh = pos[f.source]
        tx, ty, tw, th = pos[f.target]
        a = (sx + sw, sy + sh // 2)
        b = (tx, ty + th // 2)
        if tx <= sx:  # a backward flow goes around below
            a = (sx + sw // 2, sy + sh)
            b = (tx + tw // 2, ty + th)
            low = max(sy + sh, ty + th) + 25
            points = [a, (a[0], low), (b[0], low), b]
        elif a[1] == b[1]:
            points = [a, b]
        else:
            mid = (a[0] + b[0]) // 2
            points = [a, (mid, a[1]), (mid, b[1]), b]
        wps = "".join(f'<di:waypoint x="{x}" y="{y}" />' for x, y in points)
        shapes.append(f'<bpmndi:BPMNEdge id="{f.id}_di" bpmnElement="{f.id}">{wps}</bpmndi:BPMNEdge>')
    return (
        '<bpmndi:BPMNDiagram id="BPMNDiagram_1">'
        '<bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="Collaboration_1">'
        f"{''.join(shapes)}</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>"
    )


def small_procedure(**overrides: object) -> Procedure:
    """The engine-core test procedure: lanes, SLAs, an exclusive gateway, a script and a paused step.

    receive (desk, P1D) -> verify (land officer, P2D, form eligible) -> fee script -> gateway
      eligible:   post publicly (land officer, P15D, clock paused) -> sign (chairman, P1D)
                  -> hand over (desk, PT4H) -> end "issued"
      otherwise:  notify (desk, PT4H) -> end "not eligible" (a refusal: `verify` marks eligible=false and
                  asks its reason in `note`)
    Statutory limit of the whole dossier: P5D.
    """
    nodes = [
        Node("start", "start", "Nhận hồ sơ", lane="one_stop_desk", col=0),
        Node("receive", "user", "Tiếp nhận, kiểm tra hồ sơ", lane="one_stop_desk", col=1,
             props={"sla": "P1D", "result": "Giấy tiếp nhận và hẹn trả kết quả",
                    "legal_basis": "Nghị định 118/2025/NĐ-CP", "form": "complete:bool!"}),
        Node("verify", "user", "Kiểm tra hiện trạng", lane="commune_land_officer", col=2,
             props={"sla": "P2D", "result": "Phiếu xác minh", "legal_basis": "Nghị định 151/2025/NĐ-CP",
                    "form": "eligible:bool!; area:number!; note:text", "refusal": "eligible=false",
                    "refusal_reason": "note"}),
        Node("fee", "script", "Tính lệ phí", lane="commune_land_officer", col=3,
             script="fee = area * 2 if area > 100 else 50"),
        Node("gw", "xor", "Đủ điều kiện?", lane="commune_land_officer", col=4),
        Node("post", "user", "Niêm yết công khai", lane="commune_land_officer", col=5,
             props={"sla": "P15D", "clock": "paused", "result": "Biên bản niêm yết",
                    "legal_basis": "Nghị định 151/2025/NĐ-CP"}),
        Node("sign", "user", "Ký giấy chứng nhận", lane="commune_chairman", col=6,
             props={"sla": "P1D", "result": "Giấy chứng nhận", "legal_basis": "Luật Đất đai 2024"}),
        Node("handover", "user", "Trả kết quả", lane="one_stop_desk", col=7,
             props={"sla": "PT4H", "result": "Sổ theo dõi trả kết quả", "legal_basis": "Nghị định 118/2025/NĐ-CP"}),
        Node("end_ok", "end", "Đã cấp", lane="one_stop_desk", col=8, props={"outcome": "result"}),
        Node("notify", "user", "Thông báo không đủ điều kiện", lane="one_stop_desk", col=5,
             props={"sla": "PT4H", "result": "Thông báo", "legal_basis": "Nghị định 151/2025/NĐ-CP"}),
        Node("end_no", "end", "Không đủ điều kiện", lane="one_stop_desk", col=6, props={"outcome": "refusal"}),
    ]
    flows = [
        Flow("f1", "start", "receive"),
        Flow("f2", "receive", "verify"),
        Flow("f3", "verify", "fee"),
        Flow("f4", "fee", "gw"),
        Flow("f5", "gw", "post", condition="eligible == True", name="Đủ"),
        Flow("f6", "gw", "notify", condition="not eligible", name="Không đủ"),
        Flow("f7", "post", "sign"),
        Flow("f8", "sign", "handover"),
        Flow("f9", "handover", "end_ok"),
        Flow("f10", "notify", "end_no"),
    ]
    proc = Procedure(
        key="small_test",
        name="Thủ tục thử nghiệm",
        nodes=nodes,
        flows=flows,
        props={"sla": "P5D", "legal_basis": "Nghị định 151/2025/NĐ-CP",
               # the papers the applicant brings: a procedure without them is not "6 clear" at reception
               "paper.don": "required | Đơn đề nghị | Nghị định 151/2025/NĐ-CP"},
    )
    for k, v in overrides.items():
        setattr(proc, k, v)
    return proc


def timer_xml(duration: str) -> str:
    """A timerEventDefinition with a working-time duration (quoted, as the validator wants)."""
    return (f"<bpmn:timerEventDefinition><bpmn:timeDuration>{escape(repr(duration))}</bpmn:timeDuration>"
            "</bpmn:timerEventDefinition>")


def timer_procedure() -> Procedure:
    """A procedure with both kinds of BPMN timer.

    receive (desk, P1D) -> wait PT4H (intermediate timer) -> verify (land officer, P2D)
      verify has an interrupting boundary timer P3D -> escalate (chairman, P1D) -> end "escalated"
      verify completed in time -> end "verified"
    """
    nodes = [
        Node("start", "start", "Nhận hồ sơ", lane="one_stop_desk", col=0),
        Node("receive", "user", "Tiếp nhận", lane="one_stop_desk", col=1,
             props={"sla": "P1D", "result": "Giấy tiếp nhận", "legal_basis": "Nghị định 118/2025/NĐ-CP"}),
        Node("wait", "catch", "Chờ 4 giờ", lane="one_stop_desk", col=2, extra_xml=timer_xml("PT4H")),
        Node("verify", "user", "Kiểm tra", lane="commune_land_officer", col=3,
             props={"sla": "P2D", "result": "Phiếu xác minh", "legal_basis": "Nghị định 151/2025/NĐ-CP"}),
        Node("late", "boundary", "Quá 3 ngày", lane="commune_land_officer", col=3,
             attrs={"attachedToRef": "verify", "cancelActivity": "true"}, extra_xml=timer_xml("P3D")),
        Node("escalate", "user", "Chủ tịch xử lý", lane="commune_chairman", col=4,
             props={"sla": "P1D", "result": "Quyết định", "legal_basis": "Luật Đất đai 2024"}),
        Node("verified", "end", "Đã kiểm tra", lane="commune_land_officer", col=5, props={"outcome": "result"}),
        Node("escalated", "end", "Đã chuyển Chủ tịch", lane="commune_chairman", col=5, props={"outcome": "result"}),
    ]
    flows = [
        Flow("f1", "start", "receive"), Flow("f2", "receive", "wait"), Flow("f3", "wait", "verify"),
        Flow("f4", "verify", "verified"), Flow("f5", "late", "escalate"), Flow("f6", "escalate", "escalated"),
    ]
    return Procedure(key="timer_test", name="Thủ tục có hẹn giờ", nodes=nodes, flows=flows,
                     props={"sla": "P5D", "legal_basis": "Nghị định 151/2025/NĐ-CP"})


def consultation_procedure() -> Procedure:
    """A procedure that consults two agencies at once (a parallel multi-instance step, decision 0163).

    receive (desk, P1D) -> check (land officer, P2D) -> consult, once per agency named in `instances`:
      the tax office and the commune's economic division, in parallel, each P3D, each answering `opinion`
      -> decide (land officer, P1D; reads `opinions`, keyed by role) -> hand over (desk, PT4H) -> end.
    Statutory limit of the whole dossier: P8D (1 + 2 + 3 + 1 + 0.5: the consultation counts once).
    """
    law = "Nghị định 151/2025/NĐ-CP"
    nodes = [
        Node("start", "start", "Nhận hồ sơ", lane="one_stop_desk", col=0),
        Node("receive", "user", "Tiếp nhận hồ sơ", lane="one_stop_desk", col=1,
             props={"sla": "P1D", "result": "Giấy tiếp nhận", "legal_basis": "Nghị định 118/2025/NĐ-CP"}),
        Node("check", "user", "Kiểm tra hồ sơ", lane="commune_land_officer", col=2,
             props={"sla": "P2D", "result": "Phiếu kiểm tra", "legal_basis": law}),
        Node("consult", "user", "Lấy ý kiến cơ quan liên quan", lane="commune_land_officer", col=3,
             props={"sla": "P3D", "result": "Văn bản góp ý", "legal_basis": law,
                    "instances": "tax_office|commune_economic_division", "form": "opinion:text!"},
             multi=MultiInstance()),
        Node("decide", "user", "Tổng hợp ý kiến, quyết định", lane="commune_land_officer", col=4,
             props={"sla": "P1D", "result": "Tờ trình", "legal_basis": law}),
        Node("handover", "user", "Trả kết quả", lane="one_stop_desk", col=5,
             props={"sla": "PT4H", "result": "Sổ trả kết quả", "legal_basis": "Nghị định 118/2025/NĐ-CP"}),
        Node("end", "end", "Đã giải quyết", lane="one_stop_desk", col=6, props={"outcome": "result"}),
    ]
    flows = [Flow("f1", "start", "receive"), Flow("f2", "receive", "check"), Flow("f3", "check", "consult"),
             Flow("f4", "consult", "decide"), Flow("f5", "decide", "handover"), Flow("f6", "handover", "end")]
    return Procedure(key="consultation_test", name="Thủ tục có lấy ý kiến", nodes=nodes, flows=flows,
                     props={"sla": "P8D", "legal_basis": law})
