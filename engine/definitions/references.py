"""References that must name something, and names that must be unique.

Each of these passed the checker before and failed later, or silently did something else: two elements
with one id (the reader kept the last, the diagram showed both); a gateway's default naming no flow
that leaves it (SpiffWorkflow then has no default); a message flow or a boundary event naming no
element (a diagram that cannot be drawn or a timer on nothing); a plain `task` (no owner, no form:
every dossier reaching it failed with `unknown_step`).
"""

from __future__ import annotations

import re
from collections import Counter

from lxml import etree

from .model import ProcedureMeta
from .problems import Problem
from .reader import BPMN

CAMUNDA_EXPRESSION = re.compile(r"^\s*[$#]\{(.*)\}\s*$", re.S)
_JUEL = ((re.compile(r"&&"), " and "), (re.compile(r"\|\|"), " or "), (re.compile(r"!(?!=)"), "not "),
         (re.compile(r"\btrue\b"), "True"), (re.compile(r"\bfalse\b"), "False"), (re.compile(r"\bnull\b"), "None"),
         (re.compile(r"\beq\b"), "=="), (re.compile(r"\bne\b"), "!="), (re.compile(r"\s+"), " "))


def camunda_hint(text: str) -> str | None:
    """`${approved == true}` → `approved == True`: Camunda's expression language written as landflow's."""
    m = CAMUNDA_EXPRESSION.match(text)
    if m is None:
        return None
    inner = m[1]
    for pattern, repl in _JUEL:
        inner = pattern.sub(repl, inner)
    return inner.strip()


def _tag(elem: etree._Element) -> str:
    return etree.QName(elem.tag).localname if isinstance(elem.tag, str) else ""


def duplicate_ids(root: etree._Element) -> list[Problem]:
    seen: Counter[str] = Counter()
    tags: dict[str, list[str]] = {}
    for elem in root.iter():
        eid = elem.get("id") if isinstance(elem.tag, str) else None
        if eid:
            seen[eid] += 1
            tags.setdefault(eid, []).append(_tag(elem))
    return [Problem(eid, "id.duplicate", f"the id {eid!r} is used by {n} elements ({', '.join(tags[eid])}): "
                                         "every id in a file must be unique", (("id", eid), ("n", str(n))))
            for eid, n in sorted(seen.items()) if n > 1]


def reference_rules(root: etree._Element, meta: ProcedureMeta) -> list[Problem]:
    out: list[Problem] = []
    ids = {e.get("id") for e in root.iter() if isinstance(e.tag, str) and e.get("id")}
    for flow in root.iter(f"{{{BPMN}}}messageFlow"):
        fid = flow.get("id", "messageFlow")
        for end in ("sourceRef", "targetRef"):
            ref = flow.get(end)
            if not ref or ref not in ids:
                out.append(Problem(fid, "message_flow.dangling",
                                   f"the message flow's {end} names {ref!r}, which is no element of the file"
                                   if ref else f"the message flow has no {end}", (("ref", ref or ""),)))
    for node in meta.nodes.values():
        if node.kind == "task":
            out.append(Problem(node.id, "element.task",
                               f"'{node.name or node.id}' is a plain task, which no officer can do: make it a user "
                               "task (a step with an owner and a limit) or a script task",
                               (("name", node.name or node.id),)))
    leaving: dict[str, set[str]] = {}
    for f in meta.flows.values():
        leaving.setdefault(f.source, set()).add(f.id)
    process_ids = set(meta.nodes)
    for elem in root.iter():
        if not isinstance(elem.tag, str) or etree.QName(elem.tag).namespace != BPMN:
            continue
        eid = elem.get("id", "")
        if eid not in process_ids:
            continue
        default = elem.get("default")
        if default is not None and default not in leaving.get(eid, set()):
            what = ("no sequence flow" if default not in meta.flows else
                    f"a flow that does not leave it (from {meta.flows[default].source})")
            out.append(Problem(eid, "gateway.default", f"the default flow {default!r} of '{eid}' names {what}",
                               (("default", default),)))
        if _tag(elem) == "boundaryEvent":
            attached = elem.get("attachedToRef")
            if not attached or attached not in meta.nodes:
                out.append(Problem(eid, "boundary.attached",
                                   f"the boundary event is attached to {attached!r}, which is no element of the "
                                   "process"
                                   if attached else "the boundary event is attached to nothing",
                                   (("ref", attached or ""),)))
    return out
