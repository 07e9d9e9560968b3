"""What landflow reads from a procedure file: steps with owners and limits, flows, outcomes.

Kept as plain data (and JSON) so lists, diffs and the API never need to parse BPMN again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..papers.requirements import Paper, papers_of
from .forms import FormField


@dataclass(frozen=True)
class StepMeta:
    id: str
    name: str
    role: str | None
    sla: str | None
    clock: str = "run"
    result: str | None = None
    legal_basis: str | None = None
    form: tuple[FormField, ...] = ()
    signed: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.name, "role": self.role, "sla": self.sla, "clock": self.clock,
            "result": self.result, "legal_basis": self.legal_basis,
            "form": [f.as_dict() for f in self.form], "signed": self.signed,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StepMeta:
        form = tuple(FormField(f["name"], f["type"], f["required"], tuple(f["choices"])) for f in d["form"])
        return cls(d["id"], d["name"], d["role"], d["sla"], d["clock"], d["result"], d["legal_basis"],
                   form, d.get("signed", False))


@dataclass(frozen=True)
class NodeMeta:
    id: str
    kind: str  # BPMN tag without namespace: userTask, exclusiveGateway, endEvent, ...
    name: str
    lane: str | None
    properties: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FlowMeta:
    id: str
    source: str
    target: str
    condition: str | None
    name: str = ""


@dataclass
class ProcedureMeta:
    key: str
    name: str
    sla: str | None
    legal_basis: str | None
    remote_extension: str | None = None
    sla_setting: str | None = None
    properties: dict[str, str] = field(default_factory=dict)
    steps: dict[str, StepMeta] = field(default_factory=dict)
    nodes: dict[str, NodeMeta] = field(default_factory=dict)
    flows: dict[str, FlowMeta] = field(default_factory=dict)
    decisions: list[str] = field(default_factory=list)
    paper_order: list[str] = field(default_factory=list)
    parents: dict[str, str] = field(default_factory=dict)  # node inside a sub-process -> the sub-process
    fragments: list[dict[str, Any]] = field(default_factory=list)  # call bindings (definitions/fragments.py)

    def papers(self) -> list[Paper]:
        """The papers the applicant brings (`paper.*` properties), in the file's order; [] when none."""
        listed = papers_of(self.properties)
        if self.paper_order:  # stored metadata is canonical JSON (sorted keys): the file's order is kept here
            rank = {code: n for n, code in enumerate(self.paper_order)}
            listed.sort(key=lambda p: rank.get(p.code, len(rank)))
        return listed

    def end_events(self) -> dict[str, NodeMeta]:
        """The process's own end events (one inside a sub-process ends the sub-process, not the dossier)."""
        return {k: n for k, n in self.nodes.items() if n.kind == "endEvent" and k not in self.parents}

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "name": self.name, "sla": self.sla, "legal_basis": self.legal_basis,
            "remote_extension": self.remote_extension, "sla_setting": self.sla_setting,
            "properties": self.properties,
            "steps": [s.as_dict() for s in self.steps.values()],
            "nodes": [[n.id, n.kind, n.name, n.lane, n.properties] for n in self.nodes.values()],
            "flows": [[f.id, f.source, f.target, f.condition, f.name] for f in self.flows.values()],
            "decisions": self.decisions,
            **({"paper_order": self.paper_order} if self.paper_order else {}),
            **({"parents": self.parents} if self.parents else {}),
            **({"fragments": self.fragments} if self.fragments else {}),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ProcedureMeta:
        steps = [StepMeta.from_dict(s) for s in d["steps"]]
        return cls(
            key=d["key"], name=d["name"], sla=d["sla"], legal_basis=d["legal_basis"],
            remote_extension=d.get("remote_extension"), sla_setting=d.get("sla_setting"),
            properties=d.get("properties", {}),
            steps={s.id: s for s in steps},
            nodes={n[0]: NodeMeta(n[0], n[1], n[2], n[3], n[4]) for n in d["nodes"]},
            flows={f[0]: FlowMeta(f[0], f[1], f[2], f[3], f[4]) for f in d["flows"]},
            decisions=d.get("decisions", []),
            paper_order=d.get("paper_order", []),
            parents=d.get("parents", {}),
            fragments=d.get("fragments", []),
        )

    def six_clear(self) -> dict[str, dict[str, bool]]:
        """Per step: people, work, results, authority, progress (responsibility is the event log)."""
        return {
            s.id: {
                "people": bool(s.role),
                "work": bool(s.name.strip()),
                "results": bool(s.result),
                "authority": bool(s.legal_basis),
                "progress": bool(s.sla),
                "responsibility": True,
            }
            for s in self.steps.values()
        }
