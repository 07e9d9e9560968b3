"""Planning a migration: pure decisions from the two versions' steps and a dossier's open items.

A dossier *moves* when every open step exists in the new version under the same id (or under the
step the supervisor mapped it to) and nothing about the move takes work from an officer who holds it.
It *needs a mapping* when it sits on a step the new version no longer has and no mapping names it.
It *cannot move* otherwise, and the plan says why (one reason code, English text for the API, the
pages word it in Vietnamese from the code).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..definitions.model import StepMeta

MOVES, NEEDS_MAPPING, CANNOT = "moves", "needs_mapping", "cannot"
DEADLINE_RULES = ("keep", "recompute")
# Why a dossier cannot move (codes shown on pages through api/web/labels.py MIGRATION_REASON).
REASONS = ("finished", "other_procedure", "not_from_version", "parallel", "timer_waiting", "incident",
           "bad_mapping", "claimed_role_changed", "nothing_open", "in_fragment", "in_subprocess")


@dataclass(frozen=True)
class OpenItem:
    """What the plan needs of an open work item."""

    ordinal: int
    step: str
    role: str
    state: str  # ready | claimed
    assignee: str | None = None


@dataclass(frozen=True)
class DossierFacts:
    """What the plan needs of a dossier (read by apply.py / runs.py; the plan itself reads nothing)."""

    id: int
    code: str
    procedure: str
    version_id: int
    status: str
    state_version: int  # the optimistic-lock version: a dossier changed after the plan is stale
    items: tuple[OpenItem, ...]
    waiting_timers: int = 0
    incident: str | None = None


@dataclass(frozen=True)
class ItemMove:
    ordinal: int
    from_step: str
    to_step: str
    role_changed: bool


@dataclass(frozen=True)
class DossierPlan:
    dossier_id: int
    code: str
    status: str  # moves | needs_mapping | cannot
    state_version: int
    moves: tuple[ItemMove, ...] = ()
    reason: str | None = None  # code, for needs_mapping / cannot
    detail: str = ""  # English, for the API and the CSV
    suggestion: str | None = None  # a new step with the same name as the removed one

    def as_dict(self) -> dict[str, Any]:
        return {"dossier_id": self.dossier_id, "code": self.code, "status": self.status,
                "state_version": self.state_version, "reason": self.reason, "detail": self.detail,
                "suggestion": self.suggestion,
                "moves": [{"item": m.ordinal, "from_step": m.from_step, "to_step": m.to_step,
                           "role_changed": m.role_changed} for m in self.moves]}


@dataclass(frozen=True)
class Plan:
    procedure: str
    from_version: int
    to_version: int
    mapping: dict[str, str]
    deadlines: str
    dossiers: tuple[DossierPlan, ...] = ()
    problems: tuple[str, ...] = field(default=())  # problems of the mapping itself

    def counts(self) -> dict[str, int]:
        out = {MOVES: 0, NEEDS_MAPPING: 0, CANNOT: 0}
        for d in self.dossiers:
            out[d.status] += 1
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"procedure": self.procedure, "from_version": self.from_version, "to_version": self.to_version,
                "mapping": dict(self.mapping), "deadlines": self.deadlines, "counts": self.counts(),
                "problems": list(self.problems), "dossiers": [d.as_dict() for d in self.dossiers]}


def mapping_problems(mapping: Mapping[str, str], old: Mapping[str, StepMeta],
                     new: Mapping[str, StepMeta]) -> list[str]:
    """A mapping must name a step of the old version and a step of the new one."""
    problems = []
    for src, dst in mapping.items():
        if src not in old:
            problems.append(f"{src!r} is not a step of the version migrated from")
        if dst not in new:
            problems.append(f"{dst!r} is not a step of the version migrated to")
    return problems


def plan_dossier(facts: DossierFacts, from_version_id: int, old: Mapping[str, StepMeta],
                 new: Mapping[str, StepMeta], mapping: Mapping[str, str],
                 inside: frozenset[str] = frozenset(), parallel: frozenset[str] = frozenset(),
                 boxed: frozenset[str] = frozenset()) -> DossierPlan:
    """One dossier's fate under the migration. `inside`: the steps either version runs inside a called
    fragment (decision 0168): a dossier at one of them moves once it has left the fragment. `parallel`:
    the multi-instance steps of either version (decision 0163): a dossier at or moving to one cannot move
    (its agencies' items are not one step). `boxed`: the steps either version draws inside an embedded
    sub-process (decision 0157): the rebuild puts a dossier only at a top-level step."""
    def cannot(reason: str, detail: str) -> DossierPlan:
        return DossierPlan(facts.id, facts.code, CANNOT, facts.state_version, reason=reason, detail=detail)

    if facts.status in ("done", "stopped", "cancelled"):
        return cannot("finished", f"the dossier is {facts.status}")
    if facts.version_id != from_version_id:
        return cannot("not_from_version", "the dossier is not on the version migrated from")
    if facts.incident is not None:
        return cannot("incident", f"the dossier has an open procedure incident at {facts.incident}; "
                                  "resolve it first")
    if facts.waiting_timers:
        return cannot("timer_waiting", "the dossier waits on a BPMN timer")
    if not facts.items:
        return cannot("nothing_open", "the dossier has no open step")
    if len(facts.items) > 1:
        return cannot("parallel", "the dossier has several steps open at once (parallel branches): "
                                  "migrating parallel branches is not supported")
    if any(i.step in inside or mapping.get(i.step, i.step) in inside for i in facts.items):
        return cannot("in_fragment", "the dossier is at a step of a called fragment: it can move once it has "
                                     "left the fragment")
    if any(i.step in boxed or mapping.get(i.step, i.step) in boxed for i in facts.items):
        return cannot("in_subprocess", "the dossier is at a step inside a sub-process: it can move once it has "
                                       "left the sub-process")
    if any(i.step in parallel or mapping.get(i.step, i.step) in parallel for i in facts.items):
        return cannot("parallel", "the dossier is at a consultation of several agencies (a parallel "
                                  "multi-instance step): migrating it is not supported")
    moves: list[ItemMove] = []
    for item in facts.items:
        target = mapping.get(item.step, item.step)
        if target not in new:
            if item.step in mapping:
                return cannot("bad_mapping", f"{item.step} is mapped to {target}, which the new version lacks")
            old_name = old[item.step].name if item.step in old else None
            same_name = [s.id for s in new.values() if old_name is not None and s.name == old_name]
            return DossierPlan(facts.id, facts.code, NEEDS_MAPPING, facts.state_version, reason="step_removed",
                               detail=f"step {item.step} is not in the new version: map it to a step",
                               suggestion=same_name[0] if same_name else None)
        meta = new[target]
        role_changed = meta.role != item.role
        if role_changed and item.state == "claimed":
            return cannot("claimed_role_changed",
                          f"{target} belongs to {meta.role} in the new version, and {item.assignee} "
                          f"({item.role}) holds the item")
        moves.append(ItemMove(item.ordinal, item.step, target, role_changed))
    return DossierPlan(facts.id, facts.code, MOVES, facts.state_version, moves=tuple(moves))


def make_plan(procedure: str, from_version: int, to_version: int, from_version_id: int,
              old: Mapping[str, StepMeta], new: Mapping[str, StepMeta], dossiers: list[DossierFacts],
              mapping: Mapping[str, str] | None = None, deadlines: str = "keep",
              inside: frozenset[str] = frozenset(), parallel: frozenset[str] = frozenset(),
              boxed: frozenset[str] = frozenset()) -> Plan:
    mapping = dict(mapping or {})
    problems = mapping_problems(mapping, old, new)
    if to_version <= from_version:
        problems.append("a dossier moves only to a later version")
    if deadlines not in DEADLINE_RULES:
        problems.append(f"deadlines must be one of {', '.join(DEADLINE_RULES)}")
    planned = () if problems else tuple(plan_dossier(d, from_version_id, old, new, mapping, inside, parallel,
                                                                 boxed)
                                          for d in dossiers)
    return Plan(procedure, from_version, to_version, mapping, deadlines, planned, tuple(problems))
