"""Parallel multi-instance steps: "consult several agencies at once, each with its owner and limit".

A user task with `multiInstanceLoopCharacteristics isSequential="false"` runs once per agency named in
its `instances` property (`instances=tax_office|economic_division`, role codes). SpiffWorkflow does the
fan-out and the join: the collection named by `loopDataInputRef` is put in the workflow's data when the
dossier opens (engine/runtime/instances.py), one child task per role with the role in the
`inputDataItem`; each child's answer (`outputDataItem`, a required field of the step's form) is collected
under its role in `loopDataOutputRef` for the steps after. Decision 0163 says why only this shape.

Everything else about loops stays refused here with the rule `element.loop`: sequential multi-instance,
standard loops, a cardinality (`loopCardinality`), a completion condition, a multi-instance on anything
but a user task, and a timer on the boundary of a multi-instance step.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from .problems import Problem
from .reader import BPMN, Document

MI = f"{{{BPMN}}}multiInstanceLoopCharacteristics"
INSTANCES = "instances"  # the step property naming the owners' roles, '|'-separated


@dataclass(frozen=True)
class MultiInstance:
    """What one multi-instance element says (read from the file; checked by `rules`)."""

    element: str
    tag: str
    parallel: bool
    collection: str | None  # loopDataInputRef
    item: str | None  # inputDataItem id: the instance's role, in its data
    output: str | None  # loopDataOutputRef
    output_item: str | None  # outputDataItem id: the instance's answer, a field of the step's form
    cardinality: bool
    condition: bool


def _text(loop: etree._Element, tag: str) -> str | None:
    found = loop.find(f"{{{BPMN}}}{tag}")
    return (found.text or "").strip() or None if found is not None else None


def _id(loop: etree._Element, tag: str) -> str | None:
    found = loop.find(f"{{{BPMN}}}{tag}")
    return (found.get("id") or "").strip() or None if found is not None else None


def read(doc: Document) -> dict[str, MultiInstance]:
    """Every multi-instance element of the procedure's process, by its id."""
    out: dict[str, MultiInstance] = {}
    if doc.meta is None:
        return out
    for loop in doc.root.iter(MI):
        parent = loop.getparent()
        if parent is None or parent.get("id", "") not in doc.meta.nodes:
            continue
        eid = parent.get("id", "")
        out[eid] = MultiInstance(
            element=eid, tag=etree.QName(parent.tag).localname,
            parallel=(loop.get("isSequential") or "false").strip().lower() != "true",
            collection=_text(loop, "loopDataInputRef"), item=_id(loop, "inputDataItem"),
            output=_text(loop, "loopDataOutputRef"), output_item=_id(loop, "outputDataItem"),
            cardinality=loop.find(f"{{{BPMN}}}loopCardinality") is not None,
            condition=loop.find(f"{{{BPMN}}}completionCondition") is not None)
    return out


def owners(value: str | None) -> list[str]:
    """The roles of an `instances` property, in its order, without repeats."""
    seen: list[str] = []
    for part in (value or "").split("|"):
        role = part.strip()
        if role and role not in seen:
            seen.append(role)
    return seen


def rules(doc: Document, roles: set[str]) -> list[Problem]:
    """What a multi-instance step must say for the engine to run it (decision 0163)."""
    assert doc.meta is not None
    meta = doc.meta
    out: list[Problem] = []
    found = read(doc)
    fields = {f.name for s in meta.steps.values() for f in s.form}
    for eid, mi in found.items():
        if not mi.parallel or mi.tag != "userTask" or mi.cardinality or mi.condition:
            out.append(Problem(eid, "element.loop", _refusal(mi)))
            continue
        out += _parallel_rules(doc, mi, roles, fields)
    for node in meta.nodes.values():
        if INSTANCES in node.properties and node.id not in found:
            out.append(Problem(node.id, "multi_instance.owners",
                               f"'{node.name or node.id}' names agencies (property 'instances') but is not a "
                               "multi-instance step: add multiInstanceLoopCharacteristics or remove the property"))
    boundary = {n.get("attachedToRef", ""): n.get("id", "") for n in doc.root.iter(f"{{{BPMN}}}boundaryEvent")}
    for eid in found:
        if eid in boundary:
            out.append(Problem(boundary[eid], "element.loop",
                               f"events on the boundary of multi-instance step {eid} are not supported (each "
                               "agency's limit is its own work item's deadline)"))
    return out


def _refusal(mi: MultiInstance) -> str:
    if mi.tag != "userTask":
        return f"only user tasks can run once per agency ({mi.tag} {mi.element} cannot)"
    if not mi.parallel:
        return ("sequential multi-instance steps are not supported: consult the agencies in parallel "
                "(isSequential=\"false\")")
    if mi.cardinality:
        return ("a multi-instance step names its agencies (property 'instances' and loopDataInputRef), not a "
                "number of instances (loopCardinality)")
    return "a completion condition is not supported: every agency consulted answers before the dossier goes on"


def _parallel_rules(doc: Document, mi: MultiInstance, roles: set[str], fields: set[str]) -> list[Problem]:
    assert doc.meta is not None
    step = doc.meta.steps[mi.element]
    out: list[Problem] = []
    listed = owners(doc.meta.nodes[mi.element].properties.get(INSTANCES))
    if not listed:
        out.append(Problem(mi.element, "multi_instance.owners",
                           f"multi-instance step {mi.element} names no agencies: set the property 'instances' to "
                           "the roles consulted, e.g. tax_office|commune_economic_division"))
    for role in listed:
        if role not in roles:
            out.append(Problem(mi.element, "multi_instance.owners",
                               f"instances: role {role!r} is not known (known: {', '.join(sorted(roles))})",
                               (("role", role), ("known", ", ".join(sorted(roles))))))
    if not mi.collection or not mi.item:
        out.append(Problem(mi.element, "multi_instance.collection",
                           "a multi-instance step needs loopDataInputRef (the list of agencies) and inputDataItem "
                           "(each instance's agency)"))
    named = ((mi.collection, "loopDataInputRef"), (mi.item, "inputDataItem"), (mi.output, "loopDataOutputRef"))
    for name, what in named:
        if name and name in fields:
            out.append(Problem(mi.element, "multi_instance.collection",
                               f"{what} {name!r} is also a form field: name the agencies' data apart"))
    answer = {f.name: f for f in step.form}.get(mi.output_item or "")
    if not mi.output or answer is None or not answer.required:
        out.append(Problem(mi.element, "multi_instance.output",
                           "a multi-instance step collects each agency's answer: loopDataOutputRef names the "
                           "collection and outputDataItem a required field of the step's form"))
    return out
