"""What changed between two versions of a procedure, read from their ProcedureMeta (no BPMN parsing).

A supervisor deploying a new version needs to see what it changes for officers and dossiers: steps
added or removed, a step moved to another role (another unit will own it), a time limit changed, a
gateway condition changed (dossiers will route differently), and the smaller edits (names, forms,
results, legal bases, signing). Each change names the element, its name as drawn, and the value
before and after, so a page, a CLI or a test can show it without knowing the BPMN.

Flows are matched by id; a flow whose id changed but that joins the same two elements is the same
flow (modelers renumber flows when a diagram is redrawn).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .forms import FormField
from .model import FlowMeta, ProcedureMeta, StepMeta

# change kinds, grouped as a page shows them
STEP_ADDED, STEP_REMOVED, ROLE_CHANGED = "step_added", "step_removed", "role_changed"
SLA_CHANGED, CLOCK_CHANGED = "sla_changed", "clock_changed"
CONDITION_CHANGED, FLOW_ADDED, FLOW_REMOVED, FLOW_REDIRECTED = (
    "condition_changed", "flow_added", "flow_removed", "flow_redirected")
STEP_RENAMED, FORM_CHANGED, RESULT_CHANGED, LEGAL_BASIS_CHANGED, SIGNED_CHANGED = (
    "step_renamed", "form_changed", "result_changed", "legal_basis_changed", "signed_changed")
NODE_ADDED, NODE_REMOVED, NODE_RENAMED, PROCEDURE_CHANGED = (
    "node_added", "node_removed", "node_renamed", "procedure_changed")

GROUPS: dict[str, tuple[str, ...]] = {
    "added": (STEP_ADDED,),
    "removed": (STEP_REMOVED,),
    "role": (ROLE_CHANGED,),
    "sla": (SLA_CHANGED, CLOCK_CHANGED),
    "conditions": (CONDITION_CHANGED, FLOW_ADDED, FLOW_REMOVED, FLOW_REDIRECTED),
    "other": (STEP_RENAMED, FORM_CHANGED, RESULT_CHANGED, LEGAL_BASIS_CHANGED, SIGNED_CHANGED, NODE_ADDED,
              NODE_REMOVED, NODE_RENAMED, PROCEDURE_CHANGED),
}
PROCEDURE_FIELDS = ("name", "sla", "legal_basis", "remote_extension", "sla_setting")


@dataclass(frozen=True)
class Change:
    kind: str
    element: str          # step, flow or node id; the procedure key for procedure-level changes
    name: str             # the element's name as drawn (new version's, else the old one's)
    before: str | None = None
    after: str | None = None
    detail: str = ""      # e.g. the procedure property that changed, or a flow's "source → target"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ProcedureDiff:
    key: str
    changes: list[Change] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.changes

    def of(self, *kinds: str) -> list[Change]:
        return [c for c in self.changes if c.kind in kinds]

    def group(self, name: str) -> list[Change]:
        return self.of(*GROUPS[name])

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "changes": [c.as_dict() for c in self.changes]}


def form_text(form: tuple[FormField, ...]) -> str:
    """A form in the `form` property's own syntax (docs/procedure-conventions.md)."""
    parts = []
    for f in form:
        kind = f"choice({'|'.join(f.choices)})" if f.type == "choice" else f.type
        parts.append(f"{f.name}:{kind}{'!' if f.required else ''}")
    return "; ".join(parts)


def diff(old: ProcedureMeta, new: ProcedureMeta) -> ProcedureDiff:
    out = ProcedureDiff(new.key or old.key)
    add = out.changes.append
    for name in PROCEDURE_FIELDS:
        a, b = getattr(old, name), getattr(new, name)
        if a != b:
            add(Change(PROCEDURE_CHANGED, new.key, new.name or old.name, a, b, name))
    for prop in sorted(set(old.properties) | set(new.properties)):
        if prop in PROCEDURE_FIELDS:
            continue
        a, b = old.properties.get(prop), new.properties.get(prop)
        if a != b:
            add(Change(PROCEDURE_CHANGED, new.key, new.name or old.name, a, b, prop))

    for sid, step in new.steps.items():
        if sid not in old.steps:
            add(Change(STEP_ADDED, sid, step.name, None, _step_summary(step)))
    for sid, step in old.steps.items():
        if sid not in new.steps:
            add(Change(STEP_REMOVED, sid, step.name, _step_summary(step), None))
    for sid, step in new.steps.items():
        before = old.steps.get(sid)
        if before is not None:
            out.changes += _step_changes(before, step)

    steps = set(old.steps) | set(new.steps)
    for nid, node in new.nodes.items():
        if nid in steps:
            continue
        was = old.nodes.get(nid)
        if was is None:
            add(Change(NODE_ADDED, nid, node.name, None, node.kind))
        elif was.name != node.name:
            add(Change(NODE_RENAMED, nid, node.name, was.name, node.name))
    for nid, node in old.nodes.items():
        if nid not in steps and nid not in new.nodes:
            add(Change(NODE_REMOVED, nid, node.name, node.kind, None))

    out.changes += _flow_changes(old, new)
    return out


def _step_summary(step: StepMeta) -> str:
    return f"{step.role or '?'} · {step.sla or '?'}"


def _step_changes(a: StepMeta, b: StepMeta) -> list[Change]:
    out: list[Change] = []
    checks = ((ROLE_CHANGED, a.role, b.role), (SLA_CHANGED, a.sla, b.sla), (CLOCK_CHANGED, a.clock, b.clock),
              (STEP_RENAMED, a.name, b.name), (FORM_CHANGED, form_text(a.form), form_text(b.form)),
              (RESULT_CHANGED, a.result, b.result), (LEGAL_BASIS_CHANGED, a.legal_basis, b.legal_basis),
              (SIGNED_CHANGED, str(a.signed).lower(), str(b.signed).lower()))
    for kind, before, after in checks:
        if before != after:
            out.append(Change(kind, b.id, b.name, before, after))
    return out


def _ends(meta: ProcedureMeta, flow: FlowMeta) -> str:
    def name(node: str) -> str:
        n = meta.nodes.get(node)
        return n.name if n is not None and n.name else node

    return f"{name(flow.source)} → {name(flow.target)}"


def _flow_changes(old: ProcedureMeta, new: ProcedureMeta) -> list[Change]:
    out: list[Change] = []
    pairs: list[tuple[FlowMeta, FlowMeta]] = []
    unmatched_old = {fid: f for fid, f in old.flows.items() if fid not in new.flows}
    unmatched_new = {fid: f for fid, f in new.flows.items() if fid not in old.flows}
    for fid, f in new.flows.items():
        if fid in old.flows:
            pairs.append((old.flows[fid], f))
    for fid, f in list(unmatched_new.items()):
        same = next((o for o in unmatched_old.values() if (o.source, o.target) == (f.source, f.target)), None)
        if same is not None:
            pairs.append((same, f))
            del unmatched_old[same.id], unmatched_new[fid]
    for a, b in pairs:
        label = b.name or a.name
        if (a.source, a.target) != (b.source, b.target):
            out.append(Change(FLOW_REDIRECTED, b.id, label, _ends(old, a), _ends(new, b), _ends(new, b)))
        if (a.condition or None) != (b.condition or None):
            out.append(Change(CONDITION_CHANGED, b.id, label, a.condition, b.condition, _ends(new, b)))
    for f in unmatched_new.values():
        out.append(Change(FLOW_ADDED, f.id, f.name, None, f.condition, _ends(new, f)))
    for f in unmatched_old.values():
        out.append(Change(FLOW_REMOVED, f.id, f.name, f.condition, None, _ends(old, f)))
    return out
