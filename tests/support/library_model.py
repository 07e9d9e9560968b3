"""Reading the procedure library's files for tests/workflows/test_library_files.py, without the engine:
lxml for the BPMN and DMN (steps, forms, gateways, lanes, diagram), the paths through a process, and
its statutory limit. Units of working time as in docs/procedure-conventions.md: 1 day = 8 working
hours, 1 week = 5 days.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / "workflows"
LAND = WORKFLOWS / "land"
ROLES_FILE = ROOT / "config" / "organisation" / "roles.toml"

# DOMAIN.md, "Statutory time limits": Decree 151/2025 as amended by Decree 226/2025 (working days).
# First registration: 17 + 3 to issue the first certificate. Mortgage: no figure found, one-stop practice 1
# day (configurable through the process property `sla_setting`).
STATUTORY_SLA = {
    "first_registration": "P20D",
    "land_transfer": "P8D",
    "parcel_split_merge": "P12D",
    "certificate_exchange": "P5D",
    "certificate_reissue_lost": "P10D",
    "certificate_correction": "P8D",
    "purpose_change_registration": "P7D",
    "mortgage_registration": "P1D",
}

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
    "dmn": "https://www.omg.org/spec/DMN/20191111/MODEL/",
}
FLOW_NODES = {
    "startEvent",
    "endEvent",
    "intermediateCatchEvent",
    "intermediateThrowEvent",
    "boundaryEvent",
    "task",
    "userTask",
    "manualTask",
    "scriptTask",
    "serviceTask",
    "businessRuleTask",
    "sendTask",
    "receiveTask",
    "callActivity",
    "subProcess",
    "exclusiveGateway",
    "parallelGateway",
    "inclusiveGateway",
    "eventBasedGateway",
    "complexGateway",
}
# Not in the library: the engine cannot run them safely (TRAPS.md) or the conventions exclude them.
FORBIDDEN = {
    "serviceTask",
    "callActivity",
    "scriptTask",
    "timerEventDefinition",
    "dataStoreReference",
    "dataStore",
    "subProcess",
}
# The safe expression language of the conventions, restricted to what a gateway needs here.
CONDITION_NODES = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.Compare,
    ast.Eq,
    ast.NotEq,
    ast.In,
    ast.NotIn,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.Tuple,
    ast.List,
)
FORM_TYPES = re.compile(r"^(text|number|integer|bool|date|choice\(([A-Za-z0-9_]+(\|[A-Za-z0-9_]+)*)\))$")
DURATION = re.compile(r"^P(?!$)(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?)?$")
FILLER = {"text": "thử nghiệm", "number": 1.0, "integer": 1, "bool": True, "date": "2025-06-30"}
MAX_VISITS = 2  # a step completed more often than this ends an exploration (loops)


def working_minutes(text: str) -> int:
    """ISO-8601 duration in working time: PnW (5 days), PnD (8 hours), PTnH, PTnM. No years or months."""
    m = DURATION.match(text.strip())
    if not m:
        raise ValueError(f"not a working-time duration: {text!r}")
    weeks, days, hours, minutes = (int(g) if g else 0 for g in m.groups())
    return ((weeks * 5 + days) * 8 + hours) * 60 + minutes


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    required: bool
    options: tuple[str, ...] = ()


def parse_form(text: str) -> dict[str, Field]:
    fields: dict[str, Field] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        name, sep, ftype = (x.strip() for x in part.partition(":"))
        required = ftype.endswith("!")
        ftype = ftype.rstrip("!").strip()
        m = FORM_TYPES.match(ftype)
        if not sep or not name.isidentifier() or not m or name in fields:
            raise ValueError(f"bad form field {part!r}")
        options = tuple(m.group(2).split("|")) if m.group(2) else ()
        fields[name] = Field(name, "choice" if options else ftype, required, options)
    return fields


def properties(element) -> dict[str, str]:
    return {
        p.get("name"): p.get("value")
        for p in element.xpath(
            "./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", namespaces=NS
        )
    }


def condition_names(expr: str) -> set[str]:
    return {n.id for n in ast.walk(ast.parse(expr, mode="eval")) if isinstance(n, ast.Name)}


@dataclass
class Model:
    path: Path
    key: str
    tree: etree._ElementTree
    process: etree._Element
    props: dict[str, str]
    doc: str
    nodes: dict[str, str] = field(default_factory=dict)  # id -> tag
    names: dict[str, str] = field(default_factory=dict)
    flows: dict[str, tuple[str, str, str | None]] = field(default_factory=dict)  # id -> (src, tgt, cond)
    defaults: set[str] = field(default_factory=set)
    steps: dict[str, dict[str, str]] = field(default_factory=dict)  # userTask id -> properties
    forms: dict[str, dict[str, Field]] = field(default_factory=dict)
    lane_of: dict[str, list[str]] = field(default_factory=dict)  # node id -> lane names
    end_props: dict[str, dict[str, str]] = field(default_factory=dict)
    decisions: dict[str, str] = field(default_factory=dict)  # businessRuleTask id -> decision id

    @property
    def ends(self) -> set[str]:
        return {n for n, tag in self.nodes.items() if tag == "endEvent"}

    @property
    def starts(self) -> list[str]:
        return [n for n, tag in self.nodes.items() if tag == "startEvent"]

    def outgoing(self, node: str) -> list[tuple[str, str, str | None]]:
        return [(fid, t, c) for fid, (s, t, c) in self.flows.items() if s == node]

    def all_fields(self) -> dict[str, Field]:
        out: dict[str, Field] = {}
        for form in self.forms.values():
            out.update(form)
        return out


@cache
def load(path: Path) -> Model:
    tree = etree.parse(str(path))
    processes = tree.xpath("/bpmn:definitions/bpmn:process", namespaces=NS)
    assert len(processes) == 1, f"{path.name}: one process per file"
    proc = processes[0]
    doc = " ".join(proc.xpath("./bpmn:documentation/text()", namespaces=NS))
    model = Model(path, proc.get("id"), tree, proc, properties(proc), doc)
    for el in proc.iter():
        if not isinstance(el.tag, str):
            continue
        tag = etree.QName(el).localname
        if tag in FLOW_NODES:
            model.nodes[el.get("id")] = tag
            model.names[el.get("id")] = el.get("name") or ""
            if el.get("default"):
                model.defaults.add(el.get("default"))
        if tag == "sequenceFlow":
            cond = el.find("bpmn:conditionExpression", NS)
            text = cond.text.strip() if cond is not None and cond.text else None
            model.flows[el.get("id")] = (el.get("sourceRef"), el.get("targetRef"), text)
        if tag == "userTask":
            model.steps[el.get("id")] = properties(el)
            model.forms[el.get("id")] = parse_form(model.steps[el.get("id")].get("form", ""))
        if tag == "endEvent":
            model.end_props[el.get("id")] = properties(el)
        if tag == "businessRuleTask":
            ref = el.xpath("./bpmn:extensionElements/spiffworkflow:calledDecisionId/text()", namespaces=NS)
            model.decisions[el.get("id")] = ref[0].strip() if ref else ""
    for lane in proc.xpath(".//bpmn:lane", namespaces=NS):
        for ref in lane.xpath("./bpmn:flowNodeRef/text()", namespaces=NS):
            model.lane_of.setdefault(ref.strip(), []).append(lane.get("name"))
    return model


@dataclass
class DecisionTable:
    id: str
    inputs: list[str]
    outputs: list[str]
    rules: list[tuple[list[str], list[str]]]  # (input entries, output entries)


@cache
def decision_tables(folder: Path) -> dict[str, DecisionTable]:
    tables: dict[str, DecisionTable] = {}
    for path in sorted(folder.glob("*.dmn")):
        tree = etree.parse(str(path))
        for decision in tree.xpath("//dmn:decision", namespaces=NS):
            table = decision.find("dmn:decisionTable", NS)
            inputs = [
                t.strip()
                for t in table.xpath("./dmn:input/dmn:inputExpression/dmn:text/text()", namespaces=NS)
            ]
            outputs = [o.get("name") for o in table.findall("dmn:output", NS)]
            rules = [
                (
                    [e.findtext("dmn:text", "", NS).strip() for e in rule.findall("dmn:inputEntry", NS)],
                    [e.findtext("dmn:text", "", NS).strip() for e in rule.findall("dmn:outputEntry", NS)],
                )
                for rule in table.findall("dmn:rule", NS)
            ]
            tables[decision.get("id")] = DecisionTable(decision.get("id"), inputs, outputs, rules)
    return tables


def dmn_outputs(model: Model) -> set[str]:
    tables = decision_tables(model.path.parent)
    return {o for ref in model.decisions.values() if ref in tables for o in tables[ref].outputs}


def dmn_inputs(model: Model) -> set[str]:
    tables = decision_tables(model.path.parent)
    return {i for ref in model.decisions.values() if ref in tables for i in tables[ref].inputs}


def engine_names(model: Model) -> set[str]:
    """Names a condition reads that no form or decision sets: data the engine provides."""
    provided = set(model.all_fields()) | dmn_outputs(model)
    names: set[str] = set()
    for _, _, cond in model.flows.values():
        if cond:
            names |= condition_names(cond) - provided
    return names


def simple_paths(model: Model) -> list[list[str]]:
    """Node sequences from a start event to an end event that visit no node twice (back edges ignored)."""
    paths: list[list[str]] = []

    def walk(node: str, path: list[str]) -> None:
        if node in model.ends:
            paths.append(path)
            return
        for _, target, _ in model.outgoing(node):
            if target not in path:
                walk(target, [*path, target])

    for start in model.starts:
        walk(start, [start])
    return paths


def path_flows(model: Model, path: list[str]) -> list[str]:
    return [
        fid
        for a, b in zip(path, path[1:], strict=False)
        for fid, (s, t, _) in model.flows.items()
        if s == a and t == b
    ]


def statutory_limit(model: Model, path: list[str]) -> int:
    """The process `sla`, or `sla_<flag>` where the path is taken only when the bool `flag` is true."""
    limit = working_minutes(model.props["sla"])
    for name, value in model.props.items():
        flag = name.removeprefix("sla_")
        if not name.startswith("sla_") or name == "sla_setting":
            continue
        for fid in path_flows(model, path):
            cond = model.flows[fid][2]
            if cond and flag in condition_names(cond) and _truthy(cond, {flag: True}):
                limit = max(limit, working_minutes(value))
    return limit


def _truthy(expr: str, names: dict[str, object]) -> bool:
    """Evaluate a condition of the safe subset without eval; an unknown name makes it false."""
    compare = {
        ast.Eq: lambda a, b: a == b,
        ast.NotEq: lambda a, b: a != b,
        ast.In: lambda a, b: a in b,
        ast.NotIn: lambda a, b: a not in b,
    }

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            if node.id not in names:
                raise LookupError(node.id)
            return names[node.id]
        if isinstance(node, ast.Tuple | ast.List):
            return [ev(e) for e in node.elts]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return not ev(node.operand)
        if isinstance(node, ast.BoolOp):
            values = (ev(v) for v in node.values)
            return all(values) if isinstance(node.op, ast.And) else any(values)
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in compare:
            return compare[type(node.ops[0])](ev(node.left), ev(node.comparators[0]))
        raise ValueError(f"unsupported in a condition: {ast.dump(node)}")

    try:
        return bool(ev(ast.parse(expr, mode="eval")))
    except LookupError:
        return False
