"""The procedure library (workflows/**.bpmn, .dmn) checked from the files themselves, without the engine.

Everything here is derived from the XML: the steps, forms, gateways, lanes and diagram are read with lxml,
and SpiffWorkflow 3.2 (its default script engine, acceptable in this test only) runs every path. The only
per-procedure expectation is the table of statutory limits from DOMAIN.md.

Units of working time (as in docs/procedure-conventions.md): 1 day = 8 working hours, 1 week = 5 days.
"""

from __future__ import annotations

import ast
import itertools
import re
import tomllib
from pathlib import Path

import pytest
from lxml import etree
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from tests.support.library_model import (
    CONDITION_NODES,
    FILLER,
    FORBIDDEN,
    LAND,
    MAX_VISITS,
    NS,
    ROLES_FILE,
    STATUTORY_SLA,
    WORKFLOWS,
    condition_names,
    decision_tables,
    dmn_inputs,
    dmn_outputs,
    engine_names,
    load,
    simple_paths,
    statutory_limit,
    working_minutes,
)

# the procedures; the fragments (workflows/fragments/) are tested in test_fragment_callers.py
BPMN_FILES = sorted(p for p in WORKFLOWS.glob("*/*.bpmn") if p.parent.name != "fragments")
IDS = [p.stem for p in BPMN_FILES]
files = pytest.mark.parametrize("path", BPMN_FILES, ids=IDS)


def step_roles() -> set[str]:
    roles = tomllib.loads(ROLES_FILE.read_text(encoding="utf-8"))["roles"]
    return {code for code, spec in roles.items() if spec.get("scope", "none") != "none"}


def spiff_parser(path: Path) -> SpiffBpmnParser:
    parser = SpiffBpmnParser(validator=VALIDATOR)  # also validates against the BPMN / DMN schemas
    for dmn in sorted(path.parent.glob("*.dmn")):
        parser.add_dmn_file(str(dmn))
    parser.add_bpmn_file(str(path))
    return parser


# ---------------------------------------------------------------------------------------------- tests


def test_library_has_every_statutory_procedure():
    assert {p.stem for p in LAND.glob("*.bpmn")} == set(STATUTORY_SLA)
    assert list((WORKFLOWS / "transitional").glob("*.bpmn")), "no transitional procedure"


@files
def test_parses_with_spiffworkflow_and_is_executable(path):
    model = load(path)
    assert model.key == path.stem, "process id = file stem (the procedure key)"
    assert model.process.get("isExecutable") == "true"
    assert model.process.get("name"), "the process needs its Vietnamese name"
    spec = spiff_parser(path).get_spec(model.key)
    assert {t.bpmn_id for t in spec.task_specs.values() if t.bpmn_id} >= set(model.steps)


@files
def test_uses_only_supported_elements(path):
    model = load(path)
    used = {etree.QName(el).localname for el in model.tree.iter() if isinstance(el.tag, str)}
    assert not used & FORBIDDEN
    scripts = model.tree.xpath("//spiffworkflow:preScript | //spiffworkflow:postScript", namespaces=NS)
    assert not scripts, "no pre/post scripts"


@files
def test_diagram_draws_every_element(path):
    model = load(path)
    tree = model.tree
    participants = tree.xpath("//bpmn:collaboration/bpmn:participant", namespaces=NS)
    assert [p.get("processRef") for p in participants] == [model.key], "one pool for the process"
    shapes = {s.get("bpmnElement"): s for s in tree.xpath("//bpmndi:BPMNShape", namespaces=NS)}
    edges = {e.get("bpmnElement"): e for e in tree.xpath("//bpmndi:BPMNEdge", namespaces=NS)}
    lanes = {lane.get("id"): lane.get("name") for lane in model.process.xpath(".//bpmn:lane", namespaces=NS)}
    missing = ({participants[0].get("id"), *lanes, *model.nodes} - set(shapes)) | (
        set(model.flows) - set(edges)
    )
    assert not missing, f"elements without a shape or edge: {sorted(missing)}"

    def box(element_id):
        b = shapes[element_id].find("dc:Bounds", NS)
        return tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))

    for lane_id in lanes:
        assert shapes[lane_id].get("isHorizontal") == "true", "lanes read left to right"
    lane_box = {name: box(lane_id) for lane_id, name in lanes.items()}
    node_boxes = {n: box(n) for n in model.nodes}
    for node, (x, y, w, h) in node_boxes.items():
        [(lx, ly, lw, lh)] = [lane_box[name] for name in model.lane_of[node]]
        assert lx <= x and x + w <= lx + lw and ly <= y and y + h <= ly + lh, (
            f"{node} is drawn outside its lane"
        )
    for a, b in itertools.combinations(node_boxes, 2):
        (ax, ay, aw, ah), (bx, by, bw, bh) = node_boxes[a], node_boxes[b]
        assert not (ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah), f"{a} overlaps {b}"
    for fid, (src, tgt, _) in model.flows.items():
        points = [(float(p.get("x")), float(p.get("y"))) for p in edges[fid].findall("di:waypoint", NS)]
        assert len(points) >= 2
        for (x1, y1), (x2, y2) in zip(points, points[1:], strict=False):
            assert x1 == x2 or y1 == y2, f"{fid}: edges are drawn orthogonally"
        for end, node in ((points[0], src), (points[-1], tgt)):
            x, y, w, h = node_boxes[node]
            assert x - 2 <= end[0] <= x + w + 2 and y - 2 <= end[1] <= y + h + 2, (
                f"{fid} is not attached to {node}"
            )


@files
def test_every_lane_is_a_role_that_owns_steps(path):
    model = load(path)
    roles = step_roles()
    lane_names = [lane.get("name") for lane in model.process.xpath(".//bpmn:lane", namespaces=NS)]
    assert lane_names and set(lane_names) <= roles, f"unknown or non-step roles: {set(lane_names) - roles}"
    for node in model.nodes:
        assert len(model.lane_of.get(node, [])) == 1, f"{node} must be in exactly one lane"


@files
def test_every_step_carries_the_six_clear(path):
    model = load(path)
    assert model.steps, "a procedure without steps"
    for step, props in model.steps.items():
        for key in ("sla", "result", "legal_basis"):
            assert props.get(key, "").strip(), f"{step}: missing {key}"
        working_minutes(props["sla"])
        assert props.get("clock", "run") in ("run", "paused"), f"{step}: clock is run or paused"
        assert props.get("signed", "false") in ("true", "false"), f"{step}: signed is true or false"
        assert model.names[step], f"{step}: a step needs a name"


@files
def test_process_properties(path):
    model = load(path)
    props = model.props
    assert props.get("legal_basis", "").strip()
    limit = working_minutes(props["sla"])
    if model.key in STATUTORY_SLA:
        assert limit == working_minutes(STATUTORY_SLA[model.key]), "process sla = statutory limit (DOMAIN.md)"
    if "remote_extension" in props:
        working_minutes(props["remote_extension"])
    if "sla_setting" in props:
        assert props["sla_setting"].isidentifier()
    fields = model.all_fields()
    for name, value in props.items():
        if name.startswith("sla_") and name != "sla_setting":
            flag = name.removeprefix("sla_")
            assert flag in fields and fields[flag].type == "bool" and fields[flag].required, (
                f"{name}: the limit applies when the required bool field {flag!r} is true"
            )
            assert working_minutes(value) > limit


@files
def test_end_events_name_the_outcome(path):
    model = load(path)
    assert model.ends
    for end in model.ends:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", end), f"end event id {end!r} is an outcome code"
        assert model.names[end], f"{end}: officers read the end event's name"
        props = model.end_props[end]
        if "continues" in props:
            assert props["continues"] == "true"
            provided = set(model.all_fields()) | dmn_outputs(model)
            assert {"target_procedure", "continue_at"} <= provided, (
                "a continuing end needs target_procedure and continue_at"
            )


@files
def test_gateways_decide_on_required_fields(path):
    model = load(path)
    fields = model.all_fields()
    outputs = dmn_outputs(model)
    for node, tag in model.nodes.items():
        outgoing = model.outgoing(node)
        if tag != "exclusiveGateway" or len(outgoing) < 2:
            continue
        assert model.names[node], f"{node}: a deciding gateway asks a question"
        for fid, _, cond in outgoing:
            assert cond or fid in model.defaults, (
                f"{fid}: every outgoing flow needs a condition or is default"
            )
            if not cond:
                continue
            tree = ast.parse(cond, mode="eval")
            bad = [type(n).__name__ for n in ast.walk(tree) if not isinstance(n, CONDITION_NODES)]
            assert not bad, f"{fid}: {cond!r} uses {bad}"
            for name in condition_names(cond):
                if name in fields:
                    f = fields[name]
                    assert f.required and f.type in ("bool", "choice"), (
                        f"{fid}: {name} must be a required bool/choice"
                    )
                    literals = {
                        n.value
                        for n in ast.walk(tree)
                        if isinstance(n, ast.Constant) and isinstance(n.value, str)
                    }
                    assert literals <= set(f.options), f"{fid}: {literals} not among {name}'s choices"
                else:
                    assert name in outputs or name in model.doc, (
                        f"{fid}: {name} is set by no form or decision; document it as engine data"
                    )


@files
def test_step_budgets_fit_the_statutory_limit(path):
    model = load(path)
    paths = simple_paths(model)
    assert paths
    for p in paths:
        budget = sum(
            working_minutes(model.steps[n]["sla"])
            for n in p
            if n in model.steps and model.steps[n].get("clock", "run") == "run"
        )
        limit = statutory_limit(model, p)
        assert budget <= limit, f"path {' > '.join(p)}: {budget / 480:g} days > {limit / 480:g}"


def _explore(path: Path) -> set[tuple[tuple[str, ...], str]]:
    """Run the procedure in SpiffWorkflow with every combination of the data that steers it.

    Steering data: the bool/choice fields a condition or a decision table reads, and engine data (names a
    condition reads that nothing in the file sets). Returns (completed steps in order, end event) per run.
    """
    model = load(path)
    parser = spiff_parser(path)
    spec = parser.get_spec(model.key)
    subprocesses = parser.get_subprocess_specs(model.key)
    steering = set(dmn_inputs(model))
    for _, _, cond in model.flows.values():
        if cond:
            steering |= condition_names(cond)
    engine = sorted(engine_names(model))
    results: set[tuple[tuple[str, ...], str]] = set()

    def options(step: str) -> list[dict[str, object]]:
        form = model.forms.get(step, {})
        fixed = {n: (f.options[0] if f.options else FILLER[f.type]) for n, f in form.items()}
        varying = [f for f in form.values() if f.name in steering and f.type in ("bool", "choice")]
        choices = [f.options if f.type == "choice" else (True, False) for f in varying]
        return [
            {**fixed, **dict(zip([f.name for f in varying], combo, strict=True))}
            for combo in itertools.product(*choices)
        ]

    def run(prefix: list[dict[str, object]]) -> None:
        wf = BpmnWorkflow(spec, subprocesses)
        for task in wf.get_tasks(state=TaskState.READY):
            task.set_data(**prefix[0])
        wf.do_engine_steps()
        trace: list[str] = []
        for i in itertools.count(1):
            ready = wf.get_tasks(state=TaskState.READY, manual=True)
            if not ready:
                break
            assert len(ready) == 1, "the library has no parallel branches"
            task = ready[0]
            step = task.task_spec.bpmn_id
            assert task.task_spec.lane in model.lane_of[step]
            if trace.count(step) >= MAX_VISITS:
                return
            if i == len(prefix):
                for choice in options(step):
                    run([*prefix, choice])
                return
            task.set_data(**prefix[i])
            task.run()
            wf.do_engine_steps()
            trace.append(step)
        assert wf.is_completed(), f"stuck after {trace}"
        reached = [
            t.task_spec.bpmn_id
            for t in wf.get_tasks(state=TaskState.COMPLETED)
            if t.task_spec.bpmn_id in model.ends
        ]
        assert len(reached) == 1
        results.add((tuple(trace), reached[0]))

    for values in itertools.product((True, False), repeat=len(engine)):
        run([dict(zip(engine, values, strict=True))])
    return results


@files
def test_spiffworkflow_runs_every_path_to_its_end(path):
    model = load(path)
    runs = _explore(path)
    assert {end for _, end in runs} == model.ends, "every end event is reached"
    for p in simple_paths(model):
        expected = (tuple(n for n in p if n in model.steps), p[-1])
        assert expected in runs, f"path {' > '.join(p)} does not run as drawn"


DMN_FILES = sorted(WORKFLOWS.glob("*/*.dmn"))


@pytest.mark.parametrize("dmn", DMN_FILES, ids=[p.stem for p in DMN_FILES])
def test_decision_tables_cover_their_inputs(dmn):
    tables = decision_tables(dmn.parent)
    callers = [load(p) for p in sorted(dmn.parent.glob("*.bpmn"))]
    land_keys = {p.stem for p in LAND.glob("*.bpmn")}
    ids = [d.get("id") for d in etree.parse(str(dmn)).xpath("//dmn:decision", namespaces=NS)]
    assert ids
    for decision_id in ids:
        table = tables[decision_id]
        model = next(m for m in callers if decision_id in m.decisions.values())
        fields = model.all_fields()
        for name in table.inputs:
            assert name in fields and fields[name].required and fields[name].type == "choice", (
                f"{decision_id}: input {name} must be a required choice field"
            )
        if "target_procedure" in table.inputs:
            assert set(fields["target_procedure"].options) == land_keys, "procedure choices = the land procedures"
        for combo in itertools.product(*(fields[n].options for n in table.inputs)):
            hits = [
                outs
                for ins, outs in table.rules
                if all(e == "-" or ast.literal_eval(e) == v for e, v in zip(ins, combo, strict=True))
            ]
            assert len(hits) == 1, f"{decision_id}: {combo} matches {len(hits)} rules (hit policy UNIQUE)"
            out = dict(zip(table.outputs, (ast.literal_eval(o) for o in hits[0]), strict=True))
            if "continue_at" in out:
                target = load(LAND / f"{dict(zip(table.inputs, combo, strict=True))['target_procedure']}.bpmn")
                assert out["continue_at"] in target.steps, (
                    f"{combo}: no step {out['continue_at']} to continue at"
                )
        for name in table.outputs:
            values = {ast.literal_eval(outs[table.outputs.index(name)]) for _, outs in table.rules}
            tested = [c for _, _, c in model.flows.values() if c and name in condition_names(c)]
            if tested:
                literals = {
                    n.value
                    for c in tested
                    for n in ast.walk(ast.parse(c, mode="eval"))
                    if isinstance(n, ast.Constant) and isinstance(n.value, str)
                }
                assert values <= literals, f"{name}: values {values - literals} reach no gateway branch"


@files
def test_conditional_limits_govern_the_paths_their_flag_opens(path):
    """`sla_<flag>`: the paths through the flag's true branch are budgeted against the longer limit, every
    other path against the process `sla` (so a step added on the ordinary path cannot borrow the extra days)."""
    model = load(path)
    flags = [n for n in model.props if n.startswith("sla_") and n != "sla_setting"]
    if not flags:
        return
    base = working_minutes(model.props["sla"])
    paths = simple_paths(model)
    limits = {tuple(p): statutory_limit(model, p) for p in paths}
    for name in flags:
        longer = working_minutes(model.props[name])
        assert any(v == longer for v in limits.values()), f"{name}: no path takes the {name[4:]} branch"
    assert any(v == base for v in limits.values()), "the ordinary paths keep the process sla"
    for p, limit in limits.items():
        budget = sum(working_minutes(model.steps[n]["sla"]) for n in p
                     if n in model.steps and model.steps[n].get("clock", "run") == "run")
        assert budget <= limit, f"{' > '.join(p)}: {budget / 480:g} days > {limit / 480:g}"
