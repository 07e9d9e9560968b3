"""The rules a procedure file must satisfy before it can be deployed, all checked at once.

A supervisor fixing a diagram wants the whole list, not one error per upload, so each rule adds
problems and nothing stops early except a file that cannot be read as XML at all.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass

from lxml import etree
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec

from ..calendar import DurationError, parse_duration
from ..expressions import CHECK_WORK, Budget, check_expression, check_script
from ..papers.requirements import paper_problems
from . import multi_instance
from .budget import budget_rules
from .documents import document_rules
from .fragments import FragmentResolver, bind, bound_hash, fragment_rules, is_fragment, sources
from .limits import SIZE_RULES, decision_size_rules, text_rules
from .messages import CATCHES as MESSAGE_CATCHES
from .messages import message_rules
from .model import ProcedureMeta
from .problems import Problem
from .reader import BPMN, Document, dmn_decisions, is_dmn, read
from .references import camunda_hint, duplicate_ids, reference_rules
from .refusal_paths import refusal_rules
from .spec import compile_spec
from .subprocess import COSTLY as SUBPROCESS_COSTLY
from .subprocess import entries, is_top, subprocess_rules
from .xmlsafe import parse_xml, to_utf8

KEY = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
UNSUPPORTED = {
    "serviceTask": "service tasks call outside systems; landflow procedures are done by officers",
    "sendTask": "messages between processes are not supported",
    "receiveTask": "messages between processes are not supported",
    "transaction": "transactions are not supported",
    "adHocSubProcess": "ad-hoc sub-processes are not supported",
    "complexGateway": "complex gateways are not supported",
    "dataStoreReference": "data stores are not supported",
}
MAX_TIMER_DAYS = 400
# Catch events nothing in landflow can trigger: a dossier reaching one would wait for ever.
UNTRIGGERABLE = {
    "messageEventDefinition": "a dossier cannot be started by a message (message catch events are allowed)",
    "signalEventDefinition": "nothing sends signals to a landflow dossier",
    "conditionalEventDefinition": "conditional events are not supported (a condition belongs on a gateway's flow)",
}
CATCHING = {"startEvent", "intermediateCatchEvent", "boundaryEvent"}


@dataclass
class CheckedProcedure:
    meta: ProcedureMeta
    spec: BpmnProcessSpec
    subprocess_specs: dict[str, BpmnProcessSpec]
    content_hash: str
    bpmn: bytes
    dmns: list[bytes]


def content_hash(bpmn: bytes, dmns: list[bytes]) -> str:
    h = hashlib.sha256(bpmn)
    for d in sorted(dmns):
        h.update(b"\x00dmn\x00")
        h.update(d)
    return h.hexdigest()


def check(
    bpmn: bytes, dmns: list[bytes] | None, roles: set[str], max_bytes: int = 2_000_000,
    tolerate: frozenset[str] = frozenset(), fragments: FragmentResolver | None = None,
) -> tuple[CheckedProcedure | None, list[Problem]]:
    """Validate a BPMN file (with the DMN files it uses). Returns the compiled procedure or problems.

    `tolerate`: rules whose problems do not stop the compilation (returned beside the procedure). Only
    the what-if uses it, for the time budget: a redesign that breaks the budget cannot be deployed, but
    simulating it is how a supervisor sees by how much (engine/whatif). `fragments`: finds the deployed
    fragment a call activity names (engine/definitions/fragments.py); without it every call is a problem."""
    checked, problems, _meta = check_with_meta(bpmn, dmns, roles, max_bytes, tolerate, fragments)
    return checked, problems


def check_with_meta(
    bpmn: bytes, dmns: list[bytes] | None, roles: set[str], max_bytes: int = 2_000_000,
    tolerate: frozenset[str] = frozenset(), fragments: FragmentResolver | None = None,
) -> tuple[CheckedProcedure | None, list[Problem], ProcedureMeta | None]:
    """`check`, and what was read of the file even when it is refused (lint reports it without
    reading a 2 MB file twice)."""
    dmns = list(dmns or [])
    bpmn, problems = _utf8(bpmn, "bpmn", max_bytes)
    root, parsed = parse_xml(bpmn, "bpmn", max_bytes) if not problems else (None, [])
    problems += parsed
    dmn_roots: list[etree._Element] = []
    for i, raw in enumerate(dmns):
        d, dproblems = _utf8(raw, f"dmn[{i}]", max_bytes)
        dmns[i] = d
        droot, parsed = parse_xml(d, f"dmn[{i}]", max_bytes) if not dproblems else (None, [])
        dproblems += parsed
        problems += dproblems
        if droot is not None:
            problems += text_rules(droot, f"dmn[{i}]")
            if not is_dmn(droot):
                problems.append(Problem(f"dmn[{i}]", "dmn.root", "not a DMN definitions document"))
            else:
                dmn_roots.append(droot)
    if root is None:
        return None, problems, None
    if etree.QName(root.tag).namespace != BPMN or etree.QName(root.tag).localname != "definitions":
        return None, problems + [Problem("bpmn", "bpmn.root", "the root element must be bpmn:definitions")], None

    problems += text_rules(root, "bpmn")
    problems += duplicate_ids(root)
    doc = read(root)
    problems += _process_rules(doc)
    if doc.meta is None:
        return None, problems, None
    problems += _step_rules(doc, roles)
    problems += multi_instance.rules(doc, roles)
    problems += _lane_rules(doc, roles)
    problems += _di_rules(doc)
    budget = Budget(CHECK_WORK, what="the constant parts of one file")  # shared: 2 MB of conditions stay cheap
    problems += _expression_rules(doc, budget)
    problems += _structure_rules(doc)
    problems += subprocess_rules(root, _process(doc))
    problems += _decision_rules(doc, dmn_roots, budget)
    problems += _engine_property_rules(doc, budget)
    problems += message_rules(doc, roles)
    problems += reference_rules(root, doc.meta)
    called = fragment_rules(doc, fragments)
    problems += called.problems
    problems += budget_rules(doc.meta, _attached(doc), called.costs)
    problems += document_rules(doc.meta)

    # SpiffWorkflow's own parse of a file holding text over the caps is skipped: the file is refused anyway,
    # and parsing 14,000 decision rules costs it a second
    oversized = any(p.rule in SIZE_RULES | SUBPROCESS_COSTLY for p in problems)
    compiled, spiff_problems = compile_spec(doc.meta.key, root, dmn_roots, sources(called)) \
        if doc.meta.key and not oversized and not called.problems else (None, [])
    # SpiffWorkflow's complaint about an element the rules above already described says it again, worse
    described = {p.element for p in problems}
    problems += [p for p in spiff_problems if p.element not in described]
    if compiled is None or any(p.rule not in tolerate for p in problems):
        return None, sorted(set(problems)), doc.meta
    spec, subs = compiled
    bind(doc.meta, called)
    return CheckedProcedure(doc.meta, spec, subs, bound_hash(content_hash(bpmn, dmns), called.bindings), bpmn,
                            dmns), sorted(set(problems)), doc.meta


def _utf8(data: bytes, name: str, max_bytes: int) -> tuple[bytes, list[Problem]]:
    """The file re-encoded to UTF-8 by its declared encoding (what is checked is what is stored)."""
    if not isinstance(data, (bytes, bytearray)) or len(data) > max_bytes:
        return data, []  # parse_xml says why
    converted, problems = to_utf8(bytes(data), name)
    return (converted if converted is not None else data), problems


def _process(doc: Document) -> etree._Element | None:
    """The process the procedure is (the first executable one, as the reader takes it)."""
    found = [p for p in doc.processes if p.get("isExecutable", "false").lower() == "true"] or doc.processes
    return found[0] if found else None


def _attached(doc: Document) -> dict[str, str]:
    """boundary event -> the activity it hangs off (those naming an element of the process)."""
    assert doc.meta is not None
    return {n.get("id", ""): n.get("attachedToRef", "") for n in doc.root.iter(f"{{{BPMN}}}boundaryEvent")
            if n.get("attachedToRef") in doc.meta.nodes}


def _duration_problem(element: str, rule: str, text: str | None, what: str) -> Problem | None:
    if not text:
        return Problem(element, rule, f"{what} is missing (property 'sla', e.g. P3D or PT4H)")
    try:
        parse_duration(text)
    except DurationError as err:
        return Problem(element, rule, f"{what}: {err}")
    return None


def _process_rules(doc: Document) -> list[Problem]:
    out: list[Problem] = []
    if not doc.processes:
        return [Problem("bpmn", "process.missing", "the file has no process")]
    executable = [p for p in doc.processes if p.get("isExecutable", "false").lower() == "true"]
    if not executable:
        for p in doc.processes:
            out.append(Problem(p.get("id", "process"), "process.executable",
                               f"Process {p.get('id')} is not executable: set isExecutable=\"true\""))
    elif len(executable) > 1:
        out.append(Problem(executable[1].get("id", "process"), "process.count",
                           "one procedure is one executable process; this file has "
                           f"{len(executable)}"))
    meta = doc.meta
    if meta is None:
        return out
    if not KEY.match(meta.key):
        out.append(Problem(meta.key or "process", "process.id",
                           "the process id is the procedure key: lowercase letters, digits and '_' "
                           "(e.g. land_transfer)"))
    if not meta.name:
        out.append(Problem(meta.key, "process.name", "the process needs a (Vietnamese) name"))
    p = _duration_problem(meta.key, "process.sla", meta.sla, "the statutory limit of the procedure")
    if p and not (is_fragment(meta) and not meta.sla):  # a fragment's time counts in its callers' limits
        out.append(p)
    if not meta.legal_basis:
        out.append(Problem(meta.key, "process.legal_basis", "cite the legal basis of the statutory limit"))
    if meta.remote_extension:
        p = _duration_problem(meta.key, "process.remote_extension", meta.remote_extension,
                              "the remote-commune extension")
        if p:
            out.append(p)
    for code, message in paper_problems(meta.properties):
        out.append(Problem(f"{meta.key}/paper.{code}", "process.papers", message))
    return out


def _step_rules(doc: Document, roles: set[str]) -> list[Problem]:
    assert doc.meta is not None
    out: list[Problem] = []
    for step in doc.meta.steps.values():
        if not step.role:
            out.append(Problem(step.id, "step.owner",
                               f"step '{step.name or step.id}' has no owner: put it in a lane named "
                               "with a role code or set camunda:candidateGroups", (("name", step.name or step.id),)))
        elif step.role not in roles:
            out.append(Problem(step.id, "step.role",
                               f"role {step.role!r} is not known (known: {', '.join(sorted(roles))})",
                               (("role", step.role), ("known", ", ".join(sorted(roles))))))
        p = _duration_problem(step.id, "step.sla", step.sla, f"time limit of step '{step.name or step.id}'")
        if p:
            out.append(p)
        if step.clock not in ("run", "paused"):
            out.append(Problem(step.id, "step.clock", f"clock must be 'run' or 'paused', not {step.clock!r}"))
        if step.id in doc.form_errors:
            out.append(Problem(step.id, "step.form", doc.form_errors[step.id]))
    return out


def _lane_rules(doc: Document, roles: set[str]) -> list[Problem]:
    out: list[Problem] = []
    for lane_id, name in doc.lane_names.items():
        if name not in roles:
            out.append(Problem(lane_id or "lane", "lane.role",
                               f"lane {name!r} is not a role code (known: {', '.join(sorted(roles))})",
                               (("role", name), ("known", ", ".join(sorted(roles))))))
    return out


def _di_rules(doc: Document) -> list[Problem]:
    assert doc.meta is not None
    if not doc.has_diagram:
        return [Problem(doc.meta.key, "di.absent", "the file has no diagram (BPMNDiagram): auditors see "
                                                   "dossiers drawn, so every procedure needs one")]
    out = []
    for eid, tag in doc.elements.items():
        if tag in ("dataObject",):
            continue
        if eid not in doc.di_refs:
            kind = "edge" if tag == "sequenceFlow" else "shape"
            out.append(Problem(eid, "di.missing", f"{tag} {eid} has no {kind} in the diagram"))
    return out


def _expression_rules(doc: Document, budget: Budget) -> list[Problem]:
    out: list[Problem] = []
    for flow_id, text in doc.conditions.items():
        if not text:
            out.append(Problem(flow_id, "condition.empty", "the condition is empty"))
            continue
        hint = camunda_hint(text)
        if hint is not None:
            out.append(Problem(flow_id, "condition.camunda",
                               f"the condition {text[:80]!r} is written in Camunda's expression language; landflow "
                               f"conditions are plain expressions: write {hint[:80]!r}",
                               (("text", text[:80]), ("hint", hint[:80]))))
            continue
        for msg in check_expression(text, budget):
            out.append(Problem(flow_id, "condition.unsafe", f"condition {text[:80]!r}: {msg}", (("text", text[:80]),)))
    for task_id, script in doc.scripts.items():
        if not script or not script.strip():
            out.append(Problem(task_id, "script.missing", "the script task has no script"))
            continue
        for msg in check_script(script, budget):
            out.append(Problem(task_id, "script.unsafe", msg))
    for task_id, scripts in doc.task_scripts.items():
        for kind, script in scripts:
            for msg in check_script(script, budget) if script.strip() else [f"the {kind} is empty"]:
                out.append(Problem(task_id, "script.unsafe", f"{kind}: {msg}"))
    for node_id, timer in doc.timers.items():
        kind, _, text = timer.partition(":")
        if kind != "timeDuration":
            out.append(Problem(node_id, "timer.unsupported", "only timer durations (timeDuration) are supported"))
            continue
        literal = text.strip()
        if len(literal) < 2 or literal[0] not in "'\"" or literal[-1] != literal[0]:
            out.append(Problem(node_id, "timer.duration", "the duration must be a quoted literal like 'P3D'"))
            continue
        try:
            d = parse_duration(literal[1:-1])
            if d.days > MAX_TIMER_DAYS:
                out.append(Problem(node_id, "timer.duration", f"more than {MAX_TIMER_DAYS} working days"))
        except DurationError as err:
            out.append(Problem(node_id, "timer.duration", str(err)))
    return out


def _element_rules(doc: Document) -> list[Problem]:
    """Elements, loops and event definitions the engine does not run."""
    out: list[Problem] = []
    for eid, tag in doc.elements.items():
        if tag in UNSUPPORTED:
            out.append(Problem(eid, "element.unsupported", UNSUPPORTED[tag]))
    handled = set(multi_instance.read(doc))  # multi_instance.rules accepts or refuses each of these
    for eid, loop in doc.loops.items():
        if eid in handled and loop == "multiInstanceLoopCharacteristics":
            continue
        out.append(Problem(eid, "element.loop", f"{loop}: loops are not supported (one step is one work item; "
                                               "draw a gateway back to the step instead)"))
    for eid, kinds in doc.event_kinds.items():
        for kind in kinds:
            if kind == "messageEventDefinition" and doc.elements.get(eid) in MESSAGE_CATCHES:
                continue  # another agency's answer, delivered through the API (engine/definitions/messages.py)
            if kind == "conditionalEventDefinition" or (kind in UNTRIGGERABLE and doc.elements.get(eid) in CATCHING):
                out.append(Problem(eid, "event.unsupported", UNTRIGGERABLE[kind]))
    return out


def _reachability(meta: ProcedureMeta, starts: list[str], ends: set[str], succ: dict[str, list[str]]) -> list[Problem]:
    """Every node reachable from the start, and some end reachable at all."""
    out: list[Problem] = []
    seen: set[str] = set()
    stack = list(starts)
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        stack.extend(succ.get(n, []))
    for node in meta.nodes.values():
        if node.id not in seen and node.kind != "boundaryEvent":
            out.append(Problem(node.id, "flow.unreachable",
                               f"'{node.name or node.id}' cannot be reached from the start",
                               (("name", node.name or node.id),)))
    if ends and not (seen & ends):
        out.append(Problem(meta.key, "flow.end", "no end event can be reached from the start"))
    return out


def _structure_rules(doc: Document) -> list[Problem]:
    assert doc.meta is not None
    meta = doc.meta
    out = _element_rules(doc)
    succ: dict[str, list[str]] = defaultdict(list)
    outgoing: dict[str, list[str]] = defaultdict(list)
    for f in meta.flows.values():
        if f.source not in meta.nodes or f.target not in meta.nodes:
            out.append(Problem(f.id, "flow.dangling", "the flow does not connect two elements of the process"))
            continue
        succ[f.source].append(f.target)
        outgoing[f.source].append(f.id)
    # Boundary events hang off their activity.
    for node in doc.root.iter(f"{{{BPMN}}}boundaryEvent"):
        attached = node.get("attachedToRef")
        if attached:
            succ[attached].append(node.get("id", ""))
    for sub, inner in entries(meta).items():  # entering a sub-process reaches its content
        succ[sub].extend(inner)
    starts = [n.id for n in meta.nodes.values() if n.kind == "startEvent" and is_top(meta, n.id)]
    ends = {n.id for n in meta.nodes.values() if n.kind == "endEvent" and is_top(meta, n.id)}
    if len(starts) != 1:
        out.append(Problem(meta.key, "flow.start", f"a procedure has exactly one start event (found {len(starts)})"))
    if not ends:
        out.append(Problem(meta.key, "flow.end", "the process has no end event"))
    if starts:
        out += _reachability(meta, starts, ends, succ)
    for node in meta.nodes.values():
        if node.kind not in ("endEvent",) and not succ.get(node.id):
            out.append(Problem(node.id, "flow.dead_end", f"'{node.name or node.id}' has no outgoing flow",
                               (("name", node.name or node.id),)))
        if node.kind in ("exclusiveGateway", "inclusiveGateway") and len(outgoing.get(node.id, [])) > 1:
            default = doc.defaults.get(node.id)
            for fid in outgoing[node.id]:
                if fid != default and not meta.flows[fid].condition:
                    out.append(Problem(fid, "gateway.condition", f"flow {fid} leaves gateway {node.id} "
                                       "without a condition and is not its default"))
    return out


def _decision_rules(doc: Document, dmn_roots: list[etree._Element], budget: Budget) -> list[Problem]:
    assert doc.meta is not None
    out: list[Problem] = []
    decisions: dict[str, etree._Element] = {}
    for root in dmn_roots:
        for d in dmn_decisions(root):
            decisions[d.get("id", "")] = d
    for task_id, ref in doc.decision_refs.items():
        if not ref:
            out.append(Problem(task_id, "rule.decision", "the business rule task names no decision"))
        elif ref not in decisions:
            out.append(Problem(task_id, "rule.decision",
                               f"decision {ref!r} is not in the DMN files deployed with it"))
    for did, d in decisions.items():
        sized = decision_size_rules(d)
        out += sized
        if any(p.rule in SIZE_RULES for p in sized):
            continue  # too large to be worth reading entry by entry
        ns = etree.QName(d.tag).namespace
        for ie in d.iter(f"{{{ns}}}inputExpression"):
            text = "".join(ie.itertext()).strip()
            for msg in check_expression(text, budget) if text else ["input expression is empty"]:
                out.append(Problem(did, "dmn.input", f"{text[:60]!r}: {msg}"))
        for tag in ("inputEntry", "outputEntry"):
            for entry in d.iter(f"{{{ns}}}{tag}"):
                text = "".join(entry.itertext()).strip()
                if not text or text == "-":
                    continue
                msgs = check_expression(text, budget)
                if msgs and tag == "inputEntry":
                    alt = check_expression("v " + text, budget)  # comparisons like '> 5'
                    msgs = msgs if alt else []
                for msg in msgs:
                    out.append(Problem(entry.get("id", did), f"dmn.{tag[:-5]}", f"{text[:60]!r}: {msg}"))
    return out


def _engine_property_rules(doc: Document, budget: Budget) -> list[Problem]:
    """Properties the engine acts on (docs/procedure-conventions.md): each must name what exists."""
    assert doc.meta is not None
    meta = doc.meta
    out: list[Problem] = []
    fields = {f.name: f for s in meta.steps.values() for f in s.form}
    for name, value in meta.properties.items():
        if name.startswith("sla_") and name != "sla_setting":
            flag = name.removeprefix("sla_")
            p = _duration_problem(meta.key, "process.sla_field", value, f"the limit {name}")
            if p:
                out.append(p)
            f = fields.get(flag)
            if f is None or f.type != "bool" or not f.required:
                out.append(Problem(meta.key, "process.sla_field",
                                   f"{name} applies when the required bool field {flag!r} is true, but no step's "
                                   "form has it"))
        if name in ("jurisdiction_from", "jurisdiction_district_from") and value not in fields:
            out.append(Problem(meta.key, "process.jurisdiction_from",
                               f"{name} names {value!r}, which is not a field of any step's form"))
    out += refusal_rules(meta, doc.defaults, _attached(doc))
    for node in meta.end_events().values():
        continues = node.properties.get("continues")
        if continues is not None and continues.strip().lower() not in ("true", "false"):
            out.append(Problem(node.id, "end.continues", "continues is 'true' or 'false'"))
    return out
