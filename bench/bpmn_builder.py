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
    "or": "inclusiveGateway",
    "sub": "subProcess",
    "call": "callActivity",  # attrs={"calledElement": fragment key} (engine/definitions/fragments.py)
}
SIZES = {"start": (36, 36), "end": (36, 36), "xor": (50, 50), "and": (50, 50), "boundary": (36, 36),
         "catch": (36, 36), "or": (50, 50)}


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
    # An embedded sub-process ("sub") spans `span` columns; the nodes inside it name it as `parent`, sit
    # in its columns and are drawn in its box. Like bpmn-js, they are no lane's flowNodeRef (they take the
    # sub-process's lane) unless given a `lane` of their own.
    parent: str | None = None
    span: int = 1
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
    definitions_xml: str = ""  # root-level elements beside the process (e.g. bpmn:message)

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
            )  # nodes inside a sub-process only when they name a lane themselves
            body.append(f'<bpmn:lane id="Lane_{i}" name={quoteattr(lane)}>{refs}</bpmn:lane>')
        body.append("</bpmn:laneSet>")
    body.append(_content(proc, None, incoming, outgoing))

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
        f"{proc.definitions_xml}{collab}"
        f'<bpmn:process id={quoteattr(proc.key)} name={quoteattr(proc.name)} isExecutable="{executable}">'
        f"{_props_xml(proc.props, proc.property_style)}{''.join(body)}{proc.extra_process_xml}"
        f"</bpmn:process>{di}</bpmn:definitions>"
    )


def _content(proc: Procedure, parent: str | None, incoming: dict[str, list[str]],
             outgoing: dict[str, list[str]]) -> str:
    """The flow nodes and flows of the process (`parent` None) or of one sub-process."""
    parents = {n.id: n.parent for n in proc.nodes}
    body: list[str] = []
    for n in proc.nodes:
        if n.parent != parent:
            continue
        tag = TAGS[n.kind]
        inner = _props_xml(n.props, proc.property_style) + n.extra_xml
        inner += "".join(f"<bpmn:incoming>{x}</bpmn:incoming>" for x in incoming[n.id])
        inner += "".join(f"<bpmn:outgoing>{x}</bpmn:outgoing>" for x in outgoing[n.id])
        if n.script is not None:
            inner += f"<bpmn:script>{escape(n.script)}</bpmn:script>"
        if n.multi is not None:
            inner += n.multi.to_xml()
        if n.kind == "sub":
            inner += _content(proc, n.id, incoming, outgoing)
        body.append(
            f"<bpmn:{tag} id={quoteattr(n.id)} name={quoteattr(n.name)}{_attrs(n.attrs)}>{inner}</bpmn:{tag}>"
        )
    for f in proc.flows:
        if parents.get(f.source) != parent:
            continue
        cond = ""
        if f.condition is not None:
            cond = f"<bpmn:conditionExpression>{escape(f.condition)}</bpmn:conditionExpression>"
        body.append(
            f"<bpmn:sequenceFlow id={quoteattr(f.id)} name={quoteattr(f.name)} "
            f"sourceRef={quoteattr(f.source)} targetRef={quoteattr(f.target)}>{cond}</bpmn:sequenceFlow>"
        )
    return "".join(body)


def _top(proc: Procedure, n: Node) -> Node:
    """The node itself, or the outermost sub-process holding it (whose lane gives the row)."""
    by_id = {x.id: x for x in proc.nodes}
    while n.parent is not None and n.parent in by_id:
        n = by_id[n.parent]
    return n


def _diagram(proc: Procedure, lanes: list[str]) -> str:
    lane_h = 160
    left = 190
    col_w = 170
    width = left + (max((n.col for n in proc.nodes), default=0) + 1) * col_w + 60
    pos: dict[str, tuple[int, int, int, int]] = {}
    subs = {n.id for n in proc.nodes if n.kind == "sub"}
    for n in proc.nodes:
        w, h = SIZES.get(n.kind, (110, 80))
        top = _top(proc, n)
        row = lanes.index(top.lane) if top.lane in lanes else 0
        cx = left + n.col * col_w + col_w // 2
        cy = 30 + row * lane_h + lane_h // 2
        pos[n.id] = (cx - w // 2, cy - h // 2, w, h)
        if n.kind == "sub":  # the expanded box around its columns
            pos[n.id] = (left + n.col * col_w + 8, 30 + row * lane_h + 8, n.span * col_w - 16, lane_h - 16)
    for n in proc.nodes:  # a boundary event on a sub-process sits on its lower edge
        if n.kind == "boundary" and n.attrs.get("attachedToRef") in subs:
            x, y, w, h = pos[n.attrs["attachedToRef"]]
            pos[n.id] = (left + n.col * col_w + col_w // 2 - 18, y + h - 18, 36, 36)
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
        expanded = ' isExpanded="true"' if n.kind == "sub" else ""
        shapes.append(
            f'<bpmndi:BPMNShape id="{n.id}_di" bpmnElement="{n.id}"{expanded}>'
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


LEGAL = "Nghị định 151/2025/NĐ-CP"


def posting_procedure(sla: str = "P6D") -> Procedure:
    """An embedded sub-process "public posting" with a boundary timer on the whole box.

    receive (desk, P1D) -> [posting: post (land officer, lane of the box, P2D) -> close posting
      (economic division by candidateGroups, P1D)] -> sign (chairman, P1D) -> end "issued"
      the posting box has an interrupting boundary timer P4D -> escalate (chairman, P1D) -> end "escalated"
    Running-clock steps along the ordinary path: 1 + 2 + 1 + 1 = 5 working days (limit `sla`).
    """
    nodes = [
        Node("start", "start", "Nhận hồ sơ", lane="one_stop_desk", col=0),
        Node("receive", "user", "Tiếp nhận", lane="one_stop_desk", col=1,
             props={"sla": "P1D", "result": "Giấy tiếp nhận", "legal_basis": "Nghị định 118/2025/NĐ-CP"}),
        Node("posting", "sub", "Niêm yết công khai", lane="commune_land_officer", col=2, span=4),
        Node("p_start", "start", "Bắt đầu niêm yết", parent="posting", col=2),
        Node("post", "user", "Niêm yết tại trụ sở UBND", parent="posting", col=3,
             props={"sla": "P2D", "result": "Biên bản niêm yết", "legal_basis": LEGAL}),
        Node("close_posting", "user", "Lập biên bản kết thúc niêm yết", parent="posting", col=4,
             attrs={"camunda:candidateGroups": "commune_economic_division"},
             props={"sla": "P1D", "result": "Biên bản kết thúc niêm yết", "legal_basis": LEGAL}),
        Node("p_end", "end", "Kết thúc niêm yết", parent="posting", col=5),
        Node("too_long", "boundary", "Niêm yết quá 4 ngày", col=4,
             attrs={"attachedToRef": "posting", "cancelActivity": "true"}, extra_xml=timer_xml("P4D")),
        Node("escalate", "user", "Chủ tịch xử lý", lane="commune_chairman", col=5,
             props={"sla": "P1D", "result": "Quyết định xử lý", "legal_basis": "Luật Đất đai 2024"}),
        Node("escalated", "end", "Đã chuyển Chủ tịch", lane="commune_chairman", col=6, props={"outcome": "result"}),
        Node("sign", "user", "Ký giấy chứng nhận", lane="commune_chairman", col=7,
             props={"sla": "P1D", "result": "Giấy chứng nhận", "legal_basis": "Luật Đất đai 2024"}),
        Node("issued", "end", "Đã cấp", lane="commune_chairman", col=8, props={"outcome": "result"}),
    ]
    flows = [
        Flow("f1", "start", "receive"), Flow("f2", "receive", "posting"),
        Flow("p1", "p_start", "post"), Flow("p2", "post", "close_posting"), Flow("p3", "close_posting", "p_end"),
        Flow("f3", "posting", "sign"), Flow("f4", "sign", "issued"),
        Flow("f5", "too_long", "escalate"), Flow("f6", "escalate", "escalated"),
    ]
    return Procedure(key="posting_test", name="Thủ tục có niêm yết", nodes=nodes, flows=flows,
                     props={"sla": sla, "legal_basis": LEGAL})


def reminder_procedure() -> Procedure:
    """A non-interrupting boundary timer: a reminder for the chairman while the officer's step stays open.

    receive (desk, P1D) -> verify (land officer, P3D) -> end "verified"
      verify has a NON-interrupting boundary timer P2D -> remind (chairman, P1D) -> end "reminded"
    """
    nodes = [
        Node("start", "start", "Nhận hồ sơ", lane="one_stop_desk", col=0),
        Node("receive", "user", "Tiếp nhận", lane="one_stop_desk", col=1,
             props={"sla": "P1D", "result": "Giấy tiếp nhận", "legal_basis": "Nghị định 118/2025/NĐ-CP"}),
        Node("verify", "user", "Kiểm tra hiện trạng", lane="commune_land_officer", col=2,
             props={"sla": "P3D", "result": "Phiếu xác minh", "legal_basis": LEGAL}),
        Node("slow", "boundary", "Sau 2 ngày làm việc", lane="commune_land_officer", col=2,
             attrs={"attachedToRef": "verify", "cancelActivity": "false"}, extra_xml=timer_xml("P2D")),
        Node("remind", "user", "Đôn đốc xử lý", lane="commune_chairman", col=3,
             props={"sla": "P1D", "result": "Ý kiến chỉ đạo", "legal_basis": LEGAL}),
        Node("reminded", "end", "Đã đôn đốc", lane="commune_chairman", col=4, props={"outcome": "result"}),
        Node("verified", "end", "Đã kiểm tra", lane="commune_land_officer", col=4, props={"outcome": "result"}),
    ]
    flows = [
        Flow("f1", "start", "receive"), Flow("f2", "receive", "verify"), Flow("f3", "verify", "verified"),
        Flow("f4", "slow", "remind"), Flow("f5", "remind", "reminded"),
    ]
    return Procedure(key="reminder_test", name="Thủ tục có nhắc việc", nodes=nodes, flows=flows,
                     props={"sla": "P5D", "legal_basis": LEGAL})


def consultation_procedure(sla: str = "P6D") -> Procedure:
    """An inclusive gateway: consult the tax office only if a fee applies, the economic division only if
    there is a building; the inclusive join waits for the consultations that were asked.

    receive (desk, P1D, form fee, building) -> OR split
      fee == True      -> tax (tax office, P3D)
      building == True -> construction (economic division, P2D)
      default          -> (straight to the join: nobody to consult)
    -> OR join -> sign (chairman, P1D) -> end "issued"
    Longest path: 1 + 3 + 1 = 5 working days (the branches run side by side: not 1 + 3 + 2 + 1).
    """
    nodes = [
        Node("start", "start", "Nhận hồ sơ", lane="one_stop_desk", col=0),
        Node("receive", "user", "Tiếp nhận", lane="one_stop_desk", col=1,
             props={"sla": "P1D", "result": "Giấy tiếp nhận", "legal_basis": "Nghị định 118/2025/NĐ-CP",
                    "form": "fee:bool!; building:bool!"}),
        Node("split", "or", "Cần lấy ý kiến?", lane="one_stop_desk", col=2, attrs={"default": "f_none"}),
        Node("tax", "user", "Xác định nghĩa vụ tài chính", lane="tax_office", col=3,
             props={"sla": "P3D", "result": "Thông báo thuế", "legal_basis": LEGAL}),
        Node("construction", "user", "Ý kiến về công trình", lane="commune_economic_division", col=3,
             props={"sla": "P2D", "result": "Văn bản ý kiến", "legal_basis": LEGAL}),
        Node("join", "or", "", lane="one_stop_desk", col=4),
        Node("sign", "user", "Ký giấy chứng nhận", lane="commune_chairman", col=5,
             props={"sla": "P1D", "result": "Giấy chứng nhận", "legal_basis": "Luật Đất đai 2024"}),
        Node("issued", "end", "Đã cấp", lane="commune_chairman", col=6, props={"outcome": "result"}),
    ]
    flows = [
        Flow("f1", "start", "receive"), Flow("f2", "receive", "split"),
        Flow("f_tax", "split", "tax", condition="fee == True", name="Có nghĩa vụ tài chính"),
        Flow("f_build", "split", "construction", condition="building == True", name="Có công trình"),
        Flow("f_none", "split", "join", name="Không cần"),
        Flow("f3", "tax", "join"), Flow("f4", "construction", "join"), Flow("f5", "join", "sign"),
        Flow("f6", "sign", "issued"),
    ]
    return Procedure(key="consult_test", name="Thủ tục lấy ý kiến", nodes=nodes, flows=flows,
                     props={"sla": sla, "legal_basis": LEGAL})


def message_xml(ref: str) -> str:
    """A messageEventDefinition naming the `bpmn:message` with id `ref`."""
    return f"<bpmn:messageEventDefinition messageRef={quoteattr(ref)} />"


def message_procedure() -> Procedure:
    """A procedure that waits for another agency's answer: the tax office's notice (a message).

    receive (desk, P1D) -> verify (land officer, P2D) -> send form 19 (land officer, P1D)
      -> wait for the tax notice (message `tax_notice`, delivered by role tax_office, form
         amount:number!; notice_no:text!; the dossier clock paused while waiting)
      -> sign (chairman, P1D) -> end "issued"
    Statutory limit P5D (1 + 2 + 1 + 1 running days; the wait is an excluded period).
    """
    nodes = [
        Node("start", "start", "Nhận hồ sơ", lane="one_stop_desk", col=0),
        Node("receive", "user", "Tiếp nhận", lane="one_stop_desk", col=1,
             props={"sla": "P1D", "result": "Giấy tiếp nhận", "legal_basis": "Nghị định 118/2025/NĐ-CP"}),
        Node("verify", "user", "Kiểm tra hồ sơ", lane="commune_land_officer", col=2,
             props={"sla": "P2D", "result": "Phiếu xác minh", "legal_basis": "Nghị định 151/2025/NĐ-CP"}),
        Node("send_form19", "user", "Gửi phiếu chuyển thông tin sang cơ quan thuế", lane="commune_land_officer",
             col=3, props={"sla": "P1D", "result": "Phiếu chuyển thông tin (mẫu 19)",
                           "legal_basis": "Nghị định 151/2025/NĐ-CP"}),
        Node("tax_wait", "catch", "Thông báo nghĩa vụ tài chính", lane="commune_land_officer", col=4,
             props={"from_role": "tax_office", "form": "amount:number!; notice_no:text!", "clock": "paused"},
             extra_xml=message_xml("Message_tax_notice")),
        Node("sign", "user", "Ký giấy chứng nhận", lane="commune_chairman", col=5,
             props={"sla": "P1D", "result": "Giấy chứng nhận", "legal_basis": "Luật Đất đai 2024"}),
        Node("issued", "end", "Đã cấp", lane="commune_chairman", col=6, props={"outcome": "result"}),
    ]
    flows = [
        Flow("f1", "start", "receive"), Flow("f2", "receive", "verify"), Flow("f3", "verify", "send_form19"),
        Flow("f4", "send_form19", "tax_wait"), Flow("f5", "tax_wait", "sign"), Flow("f6", "sign", "issued"),
    ]
    return Procedure(key="message_test", name="Thủ tục chờ thông báo thuế", nodes=nodes, flows=flows,
                     props={"sla": "P5D", "legal_basis": "Nghị định 151/2025/NĐ-CP"},
                     definitions_xml='<bpmn:message id="Message_tax_notice" name="tax_notice" />')


def agencies_procedure() -> Procedure:
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
    # the collections are declared as data objects too, so that bpmn-js (the modeler) keeps the loop's
    # references when it opens and saves the file (decision 0175)
    return Procedure(key="consultation_test", name="Thủ tục có lấy ý kiến", nodes=nodes, flows=flows,
                     props={"sla": "P8D", "legal_basis": law},
                     extra_process_xml='<bpmn:dataObject id="agencies" name="agencies" />'
                                       '<bpmn:dataObject id="opinions" name="opinions" />')
