"""Embedded sub-processes (decision 0157): a box of steps drawn expanded inside the procedure, such as
"public posting" with its own start, steps and end, and a timer on the whole box.

The reader keeps the procedure flat (every step inside a sub-process is a step of the procedure, with
its owner and limit); what this module adds is where each node sits (`ProcedureMeta.parents`), the
owner a nested step inherits, the rules of the box itself, and the path through it for the time budget.

Owners: bpmn-js puts only the process's own flow nodes in a lane (a node dropped inside a sub-process
is not a `flowNodeRef`), and SpiffWorkflow gives a nested task the sub-process's lane; so a nested node
without a lane of its own takes the lane of the sub-process around it (`camunda:candidateGroups` still
wins). Event sub-processes (`triggeredByEvent`) and collapsed sub-processes (content drawn on another
diagram plane, which the pages do not draw) are refused.
"""

from __future__ import annotations

from collections import defaultdict

from lxml import etree

from .model import ProcedureMeta
from .problems import Problem

# A land procedure needs a box or two. SpiffWorkflow indexes the file again for each level of nested boxes
# (measured: 120 nested boxes in 150 KB cost 1.4 references of tests/support/cost.py, growing with depth
# times size up to the parser's depth limit), so more than these are refused before it parses them.
MAX_SUBPROCESSES = 10
MAX_DEPTH = 3
COSTLY = frozenset({"subprocess.limit"})  # SpiffWorkflow's parse is skipped when one of these is found

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
_NODES = {
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask",
    "businessRuleTask", "callActivity", "subProcess", "transaction", "adHocSubProcess",
    "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway",
}


def _local(elem: etree._Element) -> str:
    return etree.QName(elem.tag).localname if isinstance(elem.tag, str) else ""


def _subprocesses(process: etree._Element) -> list[etree._Element]:
    return list(process.iter(f"{{{BPMN}}}subProcess"))


def enclosing(process: etree._Element) -> dict[str, str]:
    """node id -> the id of the sub-process directly holding it (nodes of the process itself: absent)."""
    out: dict[str, str] = {}
    for sub in _subprocesses(process):
        for child in sub:
            if _local(child) in _NODES and child.get("id"):
                out[child.get("id", "")] = sub.get("id", "")
    return out


def inherited_lanes(parents: dict[str, str], lanes: dict[str, str]) -> dict[str, str]:
    """The lane of each nested node that has none of its own: that of the nearest sub-process that has one."""
    out: dict[str, str] = {}
    memo: dict[str, str | None] = {}  # sub-process -> its lane (own or inherited): each box is walked once

    def lane_of(box: str) -> str | None:
        chain: list[str] = []
        up: str | None = box
        while up is not None and up not in memo and up not in lanes and up not in chain:
            chain.append(up)
            up = parents.get(up)
        found = None if up is None or up in chain else (lanes[up] if up in lanes else memo[up])
        for b in chain:
            memo[b] = found
        return found

    for node, box in parents.items():
        if node not in lanes:
            lane = lane_of(box)
            if lane is not None:
                out[node] = lane
    return out


def entries(meta: ProcedureMeta) -> dict[str, list[str]]:
    """sub-process id -> the start events inside it (where a token entering the box goes)."""
    out: dict[str, list[str]] = defaultdict(list)
    for node, sub in meta.parents.items():
        if meta.nodes.get(node) is not None and meta.nodes[node].kind == "startEvent":
            out[sub].append(node)
    return out


def is_top(meta: ProcedureMeta, node: str) -> bool:
    """A node of the process itself, not inside a sub-process."""
    return node not in meta.parents


def boxes_of(meta: ProcedureMeta, node: str) -> list[str]:
    """The sub-processes around a node, innermost first."""
    return _chain(meta.parents, node)


def through(meta: ProcedureMeta, succ: dict[str, list[tuple[str, str | None]]]) -> None:
    """Rewrite the successor lists so that a path through a sub-process is the path through its content:
    entering the box goes to its start event, and each end event inside goes on where the box does.
    Boundary events on the box stay where they were (a timer may leave the box at any moment)."""
    ends: dict[str, list[str]] = defaultdict(list)
    for node, parent in meta.parents.items():
        if meta.nodes[node].kind == "endEvent":
            ends[parent].append(node)
    for sub, starts in entries(meta).items():
        leaving = [(t, f) for t, f in succ.get(sub, []) if f is not None]
        hanging: list[tuple[str, str | None]] = [(t, f) for t, f in succ.get(sub, []) if f is None]
        entering: list[tuple[str, str | None]] = [(s, None) for s in starts]
        succ[sub] = entering + hanging
        for node in ends[sub]:
            succ[node] = [*succ.get(node, []), *leaving]


def subprocess_rules(root: etree._Element, process: etree._Element | None) -> list[Problem]:
    """The box's own rules: what kind of sub-process, one untriggered start, an end reached from it, and
    no flow crossing its border (SpiffWorkflow runs the content as a workflow of its own)."""
    if process is None:
        return []
    out: list[Problem] = []
    expanded = {s.get("bpmnElement"): s.get("isExpanded") for s in root.iter(f"{{{BPMNDI}}}BPMNShape")}
    parents = enclosing(process)
    subs = _subprocesses(process)
    deepest = max((len(_chain(parents, s.get("id", ""))) + 1 for s in subs), default=0)
    if len(subs) > MAX_SUBPROCESSES or deepest > MAX_DEPTH:
        return [Problem(subs[0].get("id", "") or "process", "subprocess.limit",
                        f"at most {MAX_SUBPROCESSES} sub-processes, nested at most {MAX_DEPTH} deep (found "
                        f"{len(subs)}, {deepest} deep)", (("found", str(len(subs))), ("depth", str(deepest))))]
    for sub in subs:
        sid = sub.get("id", "")
        if sub.get("triggeredByEvent", "false").lower() == "true":
            out.append(Problem(sid, "element.unsupported", "event sub-processes are not supported: draw the "
                                                           "steps they would start on the main flow"))
            continue
        if sid in expanded and (expanded[sid] or "").lower() != "true":
            out.append(Problem(sid, "subprocess.collapsed", "draw the sub-process expanded, with its steps "
                                                            "inside its box (a collapsed one is not shown on "
                                                            "the dossier's diagram)"))
        out += _content_rules(sub, sid)
    for flow in process.iter(f"{{{BPMN}}}sequenceFlow"):
        holder = flow.getparent()
        where = holder.get("id") if holder is not None and _local(holder) == "subProcess" else None
        for end in (flow.get("sourceRef", ""), flow.get("targetRef", "")):
            if end and (end in parents or where is not None) and parents.get(end) != where:
                out.append(Problem(flow.get("id", ""), "subprocess.crossing",
                                   "a sequence flow cannot cross the border of a sub-process: connect to the "
                                   "sub-process itself, and inside it from its start to its end"))
                break
    return out


def _chain(parents: dict[str, str], node: str) -> list[str]:
    """The sub-processes around a node, innermost first (a cycle cannot occur in XML; guarded anyway)."""
    out: list[str] = []
    up = parents.get(node)
    while up is not None and up not in out:
        out.append(up)
        up = parents.get(up)
    return out


def _content_rules(sub: etree._Element, sid: str) -> list[Problem]:
    out: list[Problem] = []
    nodes = {c.get("id", ""): c for c in sub if _local(c) in _NODES}
    starts = [i for i, c in nodes.items() if _local(c) == "startEvent"]
    plain = [i for i in starts if not any(_local(d).endswith("EventDefinition") for d in nodes[i])]
    if len(starts) != 1 or len(plain) != 1:
        out.append(Problem(sid, "subprocess.start", f"a sub-process has exactly one start event without a "
                                                    f"trigger (found {len(starts)}, {len(plain)} without)",
                           (("found", str(len(starts))),)))
    ends = {i for i, c in nodes.items() if _local(c) == "endEvent"}
    if not ends:
        out.append(Problem(sid, "subprocess.end", "the sub-process has no end event inside"))
        return out
    succ: dict[str, list[str]] = defaultdict(list)
    for flow in sub.findall(f"{{{BPMN}}}sequenceFlow"):
        succ[flow.get("sourceRef", "")].append(flow.get("targetRef", ""))
    for i, c in nodes.items():
        if _local(c) == "boundaryEvent" and c.get("attachedToRef"):
            succ[c.get("attachedToRef", "")].append(i)
    seen: set[str] = set()
    stack = list(plain)
    while stack:
        n = stack.pop()
        if n not in seen:
            seen.add(n)
            stack.extend(succ.get(n, []))
    if plain and not seen & ends:
        out.append(Problem(sid, "subprocess.end", "no end event inside the sub-process can be reached from its "
                                                  "start"))
    return out
