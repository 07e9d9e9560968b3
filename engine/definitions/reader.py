"""Read a parsed BPMN tree into landflow's terms, whichever modeler wrote it.

Owners come from the lane name or `camunda:candidateGroups` (Camunda 7) / a `zeebe:assignmentDefinition`
(Camunda 8); properties from `spiffworkflow:properties`, `camunda:properties` or `zeebe:properties`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from .forms import FormError, parse_form
from .model import FlowMeta, NodeMeta, ProcedureMeta, StepMeta
from .subprocess import enclosing, inherited_lanes

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
ZEEBE = "http://camunda.org/schema/zeebe/1.0"
DMN_NAMESPACES = (
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
    "https://www.omg.org/spec/DMN/20230324/MODEL/",
    "https://www.omg.org/spec/DMN/20180521/MODEL/",
)

FLOW_NODE_TAGS = {
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask",
    "businessRuleTask", "callActivity", "subProcess", "transaction", "adHocSubProcess",
    "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway",
}
STEP_TAGS = {"userTask", "manualTask"}


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _ns(tag: object) -> str:
    return etree.QName(tag).namespace or "" if isinstance(tag, str) else ""


def properties(elem: etree._Element) -> dict[str, str]:
    """Extension properties of an element, from any of the three modeler dialects."""
    out: dict[str, str] = {}
    for ext in elem.findall(f"{{{BPMN}}}extensionElements"):
        for ns in (SPIFF, CAMUNDA, ZEEBE):
            for props in ext.findall(f"{{{ns}}}properties"):
                for prop in props.findall(f"{{{ns}}}property"):
                    name = prop.get("name")
                    if name:
                        out[name] = prop.get("value", prop.text or "") or ""
    return out


def candidate_groups(elem: etree._Element) -> str | None:
    value = elem.get(f"{{{CAMUNDA}}}candidateGroups")
    if value is None:
        for assign in elem.iter(f"{{{ZEEBE}}}assignmentDefinition"):
            value = assign.get("candidateGroups")
    return value.strip() if value and value.strip() else None


@dataclass
class Document:
    """Everything the validator looks at, read once."""

    root: etree._Element
    processes: list[etree._Element] = field(default_factory=list)
    meta: ProcedureMeta | None = None
    lanes_by_node: dict[str, str] = field(default_factory=dict)
    lane_names: dict[str, str] = field(default_factory=dict)  # lane id -> name
    di_refs: set[str] = field(default_factory=set)
    has_diagram: bool = False
    scripts: dict[str, str | None] = field(default_factory=dict)
    conditions: dict[str, str] = field(default_factory=dict)
    timers: dict[str, str] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)  # gateway id -> default flow id
    form_errors: dict[str, str] = field(default_factory=dict)
    candidate_groups: dict[str, str] = field(default_factory=dict)
    elements: dict[str, str] = field(default_factory=dict)  # every flow element id -> tag
    decision_refs: dict[str, str | None] = field(default_factory=dict)  # rule task id -> decision id
    # SpiffWorkflow runs these through the script engine too: pre/post scripts of any task
    task_scripts: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # id -> [(kind, text)]
    loops: dict[str, str] = field(default_factory=dict)  # id -> multiInstance/standardLoopCharacteristics
    event_kinds: dict[str, list[str]] = field(default_factory=dict)  # event id -> its event definitions


def _lanes(process: etree._Element) -> tuple[dict[str, str], dict[str, str]]:
    by_node: dict[str, str] = {}
    names: dict[str, str] = {}

    def walk(lane_set: etree._Element) -> None:
        for lane in lane_set.findall(f"{{{BPMN}}}lane"):
            name = (lane.get("name") or "").strip()
            names[lane.get("id", "")] = name
            for ref in lane.findall(f"{{{BPMN}}}flowNodeRef"):
                if ref.text:
                    by_node[ref.text.strip()] = name  # inner lanes overwrite outer ones below
            for child in lane.findall(f"{{{BPMN}}}childLaneSet"):
                walk(child)

    for lane_set in process.iter(f"{{{BPMN}}}laneSet"):
        walk(lane_set)
    return by_node, names


def read(root: etree._Element) -> Document:
    doc = Document(root=root)
    doc.processes = root.findall(f"{{{BPMN}}}process")
    doc.has_diagram = root.find(f"{{{BPMNDI}}}BPMNDiagram") is not None
    for di in root.iter(f"{{{BPMNDI}}}BPMNShape", f"{{{BPMNDI}}}BPMNEdge"):
        ref = di.get("bpmnElement")
        if ref:
            doc.di_refs.add(ref)
    executable = [p for p in doc.processes if p.get("isExecutable", "false").lower() == "true"]
    process = executable[0] if executable else (doc.processes[0] if doc.processes else None)
    if process is None:
        return doc
    doc.lanes_by_node, doc.lane_names = _lanes(process)
    parents = enclosing(process)  # nested nodes take the lane of their sub-process (engine/definitions/subprocess.py)
    doc.lanes_by_node.update(inherited_lanes(parents, doc.lanes_by_node))
    pprops = properties(process)
    meta = ProcedureMeta(
        key=process.get("id", ""),
        name=(process.get("name") or "").strip(),
        sla=pprops.get("sla"),
        legal_basis=pprops.get("legal_basis"),
        remote_extension=pprops.get("remote_extension"),
        sla_setting=pprops.get("sla_setting"),
        properties=pprops,
        paper_order=[name[len("paper."):] for name in pprops if name.startswith("paper.")],
        parents=parents,
    )
    for elem in process.iter():
        tag = _local(elem.tag)
        if _ns(elem.tag) != BPMN:
            continue
        eid = elem.get("id", "")
        if tag in FLOW_NODE_TAGS:
            _read_node(doc, meta, elem, eid, tag)
        elif tag == "sequenceFlow":
            doc.elements[eid] = tag
            cond = elem.find(f"{{{BPMN}}}conditionExpression")
            text = (cond.text or "").strip() if cond is not None else None
            if text is not None:
                doc.conditions[eid] = text
            meta.flows[eid] = FlowMeta(eid, elem.get("sourceRef", ""), elem.get("targetRef", ""), text,
                                       (elem.get("name") or "").strip())
        elif tag in ("dataStoreReference", "dataObjectReference", "dataObject"):
            doc.elements[eid] = tag
    doc.meta = meta
    return doc


def _read_node(doc: Document, meta: ProcedureMeta, elem: etree._Element, eid: str, tag: str) -> None:
    """One flow node: its metadata, its step when it is one, and what the validator looks at."""
    doc.elements[eid] = tag
    props = properties(elem)
    lane = doc.lanes_by_node.get(eid)
    meta.nodes[eid] = NodeMeta(eid, tag, (elem.get("name") or "").strip(), lane, props)
    groups = candidate_groups(elem)
    if groups:
        doc.candidate_groups[eid] = groups
    if tag in STEP_TAGS:
        meta.steps[eid] = _step(doc, elem, eid, props, groups or lane or None)
    _read_node_details(doc, elem, eid, tag)
    if tag == "businessRuleTask":
        ref = _decision_ref(elem)
        doc.decision_refs[eid] = ref
        if ref and ref not in meta.decisions:
            meta.decisions.append(ref)


def _step(doc: Document, elem: etree._Element, eid: str, props: dict[str, str], role: str | None) -> StepMeta:
    try:
        form = tuple(parse_form(props.get("form")))
    except FormError as err:
        doc.form_errors[eid] = str(err)
        form = ()
    return StepMeta(
        id=eid,
        name=(elem.get("name") or "").strip(),
        role=role,
        sla=props.get("sla"),
        clock=props.get("clock", "run") or "run",
        result=props.get("result"),
        legal_basis=props.get("legal_basis"),
        form=form,
        signed=props.get("signed", "").lower() == "true",
    )


def _read_node_details(doc: Document, elem: etree._Element, eid: str, tag: str) -> None:
    """Scripts, loops, event definitions, gateway defaults and timers of one flow node."""
    for ext in elem.findall(f"{{{BPMN}}}extensionElements"):
        for kind in ("preScript", "postScript"):
            for script_elem in ext.findall(f"{{{SPIFF}}}{kind}"):
                doc.task_scripts.setdefault(eid, []).append((kind, script_elem.text or ""))
    for loop_tag in ("multiInstanceLoopCharacteristics", "standardLoopCharacteristics"):
        if elem.find(f"{{{BPMN}}}{loop_tag}") is not None:
            doc.loops[eid] = loop_tag
    kinds = [_local(d.tag) for d in elem if _local(d.tag).endswith("EventDefinition")]
    if kinds:
        doc.event_kinds[eid] = kinds
    if tag == "scriptTask":
        script = elem.find(f"{{{BPMN}}}script")
        doc.scripts[eid] = script.text if script is not None else None
    if tag in ("exclusiveGateway", "inclusiveGateway") and elem.get("default"):
        doc.defaults[eid] = elem.get("default", "")
    for timer in elem.iter(f"{{{BPMN}}}timerEventDefinition"):
        for kind in ("timeDuration", "timeDate", "timeCycle"):
            t = timer.find(f"{{{BPMN}}}{kind}")
            if t is not None:
                doc.timers[eid] = f"{kind}:{(t.text or '').strip()}"


def _decision_ref(elem: etree._Element) -> str | None:
    ref = elem.get(f"{{{CAMUNDA}}}decisionRef")
    if ref:
        return ref
    for ext in elem.findall(f"{{{BPMN}}}extensionElements"):
        called = ext.find(f"{{{SPIFF}}}calledDecisionId")
        if called is not None and called.text:
            return called.text.strip()
        for zc in ext.iter(f"{{{ZEEBE}}}calledDecision"):
            if zc.get("decisionId"):
                return zc.get("decisionId")
    return None


def dmn_decisions(root: etree._Element) -> list[etree._Element]:
    out: list[etree._Element] = []
    for ns in DMN_NAMESPACES:
        out.extend(root.iter(f"{{{ns}}}decision"))
    return out


def is_dmn(root: etree._Element) -> bool:
    return _local(root.tag) == "definitions" and _ns(root.tag) in DMN_NAMESPACES
