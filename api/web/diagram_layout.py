"""Reading a BPMN file's diagram interchange (DI): the shapes and edges to draw, joined to the elements
they draw (kind, name, event markers). Numbers that are not finite, or bounds that are negative, are
left out rather than trusted; a file without a diagram reads as None. The same file is read once per
process (keyed by its SHA-256).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from functools import lru_cache

from lxml import etree

from engine.definitions.xmlsafe import parse_xml

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"

EVENTS = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}
ACTIVITIES = {"task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask",
              "businessRuleTask", "callActivity", "subProcess", "transaction", "adHocSubProcess"}
GATEWAYS = {"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway"}
EXTERNAL_LABELS = EVENTS | GATEWAYS | {"dataObjectReference", "dataStoreReference", "dataObject"}
FONT = 12


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2


@dataclass(frozen=True)
class Shape:
    element: str
    kind: str
    name: str
    box: Box
    label: Box | None = None
    horizontal: bool = True
    marker: str | None = None     # event definition: timer, message, signal, error, terminate, ...
    interrupting: bool = True
    gateway_marker: bool = False
    expanded: bool = False
    loop: str | None = None       # parallel | sequential (multi-instance) | standard: the marker drawn at the bottom


@dataclass(frozen=True)
class Edge:
    element: str
    kind: str
    name: str
    points: tuple[tuple[float, float], ...]
    label: Box | None = None
    conditional_start: bool = False


@dataclass(frozen=True)
class Layout:
    shapes: tuple[Shape, ...]
    edges: tuple[Edge, ...]
    bounds: Box


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _num(value: str | None) -> float | None:
    try:
        n = float(value) if value is not None else None
    except ValueError:
        return None
    return n if n is not None and math.isfinite(n) and abs(n) < 1e6 else None


def _box(el: etree._Element | None) -> Box | None:
    if el is None:
        return None
    vals = [_num(el.get(k)) for k in ("x", "y", "width", "height")]
    if any(v is None for v in vals) or vals[2] < 0 or vals[3] < 0:  # type: ignore[operator]
        return None
    return Box(*vals)  # type: ignore[arg-type]


def _event_marker(el: etree._Element) -> str | None:
    for child in el:
        name = _local(child.tag)
        if name.endswith("EventDefinition"):
            return name.removesuffix("EventDefinition")
    return None


def _loop_marker(el: etree._Element) -> str | None:
    mi = el.find(f"{{{BPMN}}}multiInstanceLoopCharacteristics")
    if mi is not None:
        return "sequential" if (mi.get("isSequential") or "").strip().lower() == "true" else "parallel"
    return "standard" if el.find(f"{{{BPMN}}}standardLoopCharacteristics") is not None else None


def read_layout(root: etree._Element) -> Layout | None:
    """The first diagram's shapes and edges, joined to the elements they draw."""
    elements: dict[str, etree._Element] = {}
    for el in root.iter():
        if isinstance(el.tag, str) and etree.QName(el.tag).namespace == BPMN and el.get("id"):
            elements.setdefault(el.get("id", ""), el)
    plane = root.find(f"{{{BPMNDI}}}BPMNDiagram/{{{BPMNDI}}}BPMNPlane")
    if plane is None:
        return None
    shapes: list[Shape] = []
    edges: list[Edge] = []
    xs: list[float] = []
    ys: list[float] = []
    for di in plane:
        tag = _local(di.tag)
        ref = di.get("bpmnElement") or ""
        el = elements.get(ref)
        kind = _local(el.tag) if el is not None else ""
        name = (el.get("name") or "").strip() if el is not None else ""
        if el is not None and kind == "textAnnotation":
            text = el.find(f"{{{BPMN}}}text")
            name = (text.text or "").strip() if text is not None else ""
        label_el = di.find(f"{{{BPMNDI}}}BPMNLabel/{{{DC}}}Bounds")
        label = _box(label_el)
        if tag == "BPMNShape" and el is not None:
            box = _box(di.find(f"{{{DC}}}Bounds"))
            if box is None:
                continue
            shapes.append(Shape(
                ref, kind, name, box, label, horizontal=di.get("isHorizontal", "true") != "false",
                marker=_event_marker(el) if kind in EVENTS else None,
                interrupting=(el.get("isInterrupting", "true") != "false"
                              and el.get("cancelActivity", "true") != "false"),
                gateway_marker=di.get("isMarkerVisible") == "true", expanded=di.get("isExpanded") == "true",
                loop=_loop_marker(el)))
            xs += [box.x, box.x + box.w]
            ys += [box.y, box.y + box.h]
        elif tag == "BPMNEdge" and el is not None:
            points = []
            for wp in di.findall(f"{{{DI}}}waypoint"):
                x, y = _num(wp.get("x")), _num(wp.get("y"))
                if x is not None and y is not None:
                    points.append((x, y))
            if len(points) < 2:
                continue
            source = elements.get(el.get("sourceRef") or "")
            conditional = (kind == "sequenceFlow" and el.find(f"{{{BPMN}}}conditionExpression") is not None
                           and source is not None and _local(source.tag) in ACTIVITIES)
            edges.append(Edge(ref, kind, name, tuple(points), label, conditional))
            xs += [p[0] for p in points]
            ys += [p[1] for p in points]
        else:
            continue
        if label is not None:
            xs += [label.x, label.x + label.w]
            ys += [label.y, label.y + label.h]
    if not xs:
        return None
    # events and gateways without label bounds get theirs below the shape
    for s in shapes:
        if s.kind in EXTERNAL_LABELS and s.label is None and s.name:
            ys.append(s.box.y + s.box.h + 8 + FONT * 3)
            xs += [s.box.cx - 50, s.box.cx + 50]
    pad = 12
    bounds = Box(min(xs) - pad, min(ys) - pad, max(xs) - min(xs) + 2 * pad, max(ys) - min(ys) + 2 * pad)
    order = {"participant": 0, "lane": 1, "group": 3}
    shapes.sort(key=lambda s: order.get(s.kind, 2))
    return Layout(tuple(shapes), tuple(edges), bounds)


@lru_cache(maxsize=64)
def _cached_layout(digest: str, text: bytes, max_bytes: int) -> Layout | None:
    root, _problems = parse_xml(text, "bpmn", max_bytes)
    return read_layout(root) if root is not None else None


def layout_of(text: str | bytes, max_bytes: int = 2_000_000) -> Layout | None:
    """The layout of a BPMN text; the same file is read once per process."""
    data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    return _cached_layout(hashlib.sha256(data).hexdigest(), data, max_bytes)


