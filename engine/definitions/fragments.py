"""Call activities and the fragments they call (decision 0166).

A fragment ("public posting", "financial obligations") is a process deployed once, as a procedure
version of its own key marked by the process property `fragment=true`, and called from several
procedures by a `callActivity` whose `calledElement` is the fragment's key. It is never opened as a
dossier of its own.

The binding is made when the CALLER is deployed: `calledElement` is resolved to the fragment's
version in force, its BPMN is compiled into the caller's SpiffWorkflow `subprocess_specs`, its steps
join the caller's steps (owners, limits, forms: a fragment's steps are steps of the dossier), and the
binding (element, fragment key, version, content hash) is stored in the caller version's meta and folded
into the caller's content hash. A running dossier therefore never changes fragment under its feet; a
new fragment version reaches a caller when the caller is deployed again (the same bytes then make a new
caller version, because the hash now covers the new fragment).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lxml import etree

from .budget import minutes
from .model import ProcedureMeta
from .problems import Problem
from .reader import BPMN, Document
from .xmlsafe import parse_xml

PROPERTY = "fragment"
MAX_CALLED = 50  # distinct fragments one file may call: each is a look-up at check time (hostile files)


def is_fragment(meta: ProcedureMeta) -> bool:
    """A fragment is a process marked `fragment=true`: callable, never opened as a dossier."""
    return marked_fragment(meta.properties)


def marked_fragment(properties: dict[str, Any]) -> bool:
    return str(properties.get(PROPERTY, "")).strip().lower() == "true"


@dataclass(frozen=True)
class Fragment:
    """A deployed fragment version as a caller's deploy needs it."""

    key: str
    version: int
    name: str
    content_hash: str
    meta: ProcedureMeta  # its steps include those of the fragments it calls itself
    sources: tuple[bytes, ...]  # its BPMN, then those of the fragment versions it is bound to
    keys: frozenset[str] = frozenset()  # every fragment key it calls, directly or not
    bound: frozenset[tuple[str, int]] = frozenset()  # (key, version) of every fragment it runs, nested too


FragmentResolver = Callable[[str], "Fragment | None"]


@dataclass(frozen=True)
class Binding:
    """One call activity of a caller version, bound to one fragment version."""

    element: str
    key: str
    version: int
    content_hash: str
    name: str
    steps: tuple[str, ...]
    minutes: int = 0  # running-clock minutes of the fragment's longest path (the caller's time budget)

    def as_dict(self) -> dict[str, Any]:
        return {"element": self.element, "key": self.key, "version": self.version,
                "content_hash": self.content_hash, "name": self.name, "steps": list(self.steps),
                "minutes": self.minutes}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Binding:
        return cls(d["element"], d["key"], int(d["version"]), d["content_hash"], d.get("name", ""),
                   tuple(d.get("steps", ())), int(d.get("minutes", 0)))


def bindings_of(meta: ProcedureMeta) -> list[Binding]:
    return [Binding.from_dict(d) for d in meta.fragments]


def fragment_step_ids(meta: ProcedureMeta) -> frozenset[str]:
    """The steps a procedure version runs inside its fragments."""
    return frozenset(s for b in bindings_of(meta) for s in b.steps)


def called_elements(doc: Document) -> dict[str, str]:
    """call activity id -> its calledElement ('' when it names none), in one pass over the file."""
    assert doc.meta is not None
    nodes = doc.meta.nodes
    return {node.get("id", ""): (node.get("calledElement") or "").strip()
            for node in doc.root.iter(f"{{{BPMN}}}callActivity")
            if node.get("id") in nodes and nodes[node.get("id", "")].kind == "callActivity"}


@dataclass
class Resolved:
    """What the fragment rules found: problems, bindings to store, sources to compile, step costs."""

    problems: list[Problem]
    bindings: list[Binding]
    fragments: list[Fragment]
    costs: dict[str, int]  # call activity id -> running-clock minutes of its fragment's longest path


def fragment_rules(doc: Document, resolve: FragmentResolver | None) -> Resolved:
    """Each call activity must name a deployed fragment that does not call the caller back."""
    assert doc.meta is not None
    meta = doc.meta
    out = Resolved([], [], [], {})
    own_steps = set(meta.steps)
    taken: dict[str, str] = {}  # fragment step -> the fragment whose file draws it
    found: dict[str, Fragment | None] = {}  # one look-up per key, however many calls name it
    runs: dict[str, int] = {}  # fragment key -> the version this file runs (one process id, one version)
    calls = called_elements(doc)
    if len(set(calls.values())) > MAX_CALLED:
        return Resolved([Problem(meta.key, "call.count", f"the file calls {len(set(calls.values()))} different "
                                 f"fragments; at most {MAX_CALLED} are allowed")], [], [], {})
    for element, called in sorted(calls.items()):
        if not called:
            out.problems.append(Problem(element, "call.element", "the call activity names no fragment "
                                        "(calledElement)"))
            continue
        if called == meta.key:
            out.problems.append(Problem(element, "fragment.cycle", f"{called!r} calls itself",
                                        (("fragment", called),)))
            continue
        if called not in found:
            found[called] = resolve(called) if resolve is not None else None
        fragment = found[called]
        if fragment is None:
            out.problems.append(Problem(element, "fragment.missing",
                                        f"no fragment {called!r} is deployed: deploy it first (a process "
                                        "with the property fragment=true)", (("fragment", called),)))
            continue
        if meta.key in fragment.keys:
            out.problems.append(Problem(element, "fragment.cycle",
                                        f"fragment {called!r} calls {meta.key!r} back", (("fragment", called),)))
            continue
        versions = {(fragment.key, fragment.version), *fragment.bound}
        other = sorted(f"{k} v{runs[k]} / v{v}" for k, v in versions if runs.get(k, v) != v)
        if other:
            out.problems.append(Problem(element, "fragment.versions",
                                        f"fragment {called!r} would run other versions of fragments this file "
                                        f"already runs ({', '.join(other)}): deploy them again so that they "
                                        "are bound to the versions in force", (("fragment", called),
                                                                               ("versions", ", ".join(other)))))
            continue
        owners = _owners(fragment)
        clash = sorted((own_steps & set(owners)) | {s for s, k in owners.items() if taken.get(s, k) != k})
        if clash:
            out.problems.append(Problem(element, "fragment.step_clash",
                                        f"fragment {called!r} has steps with the same ids as this procedure's: "
                                        f"{', '.join(clash)}", (("fragment", called), ("steps", ", ".join(clash)))))
            continue
        runs.update(dict(versions))
        taken.update(owners)
        cost = longest_minutes(fragment.meta)
        out.bindings.append(Binding(element, fragment.key, fragment.version, fragment.content_hash,
                                    fragment.name, tuple(fragment.meta.steps), cost))
        if fragment not in out.fragments:
            out.fragments.append(fragment)
        out.costs[element] = cost
    return out


def _owners(fragment: Fragment) -> dict[str, str]:
    """step -> the fragment whose file draws it (a step reached through two calls of the same fragment is
    the same step, not a clash)."""
    out = {s: fragment.key for s in fragment.meta.steps}
    for b in bindings_of(fragment.meta):
        out.update({s: b.key for s in b.steps})
    return out


def bind(meta: ProcedureMeta, resolved: Resolved) -> None:
    """The caller's meta gets the fragments' steps (and their nodes, not their flows: the caller's graph stays
    its own diagram) and the bindings, stored with the version."""
    for fragment in resolved.fragments:
        for sid, step in fragment.meta.steps.items():
            meta.steps.setdefault(sid, step)
            if sid in fragment.meta.nodes:  # the step's other properties (refusal, notices) live on its node
                meta.nodes.setdefault(sid, fragment.meta.nodes[sid])
    meta.fragments = [b.as_dict() for b in resolved.bindings]


def bound_hash(base: str, bindings: list[Binding]) -> str:
    """The caller's content hash covers the fragment versions it is bound to."""
    if not bindings:
        return base
    h = hashlib.sha256(base.encode())
    for b in sorted(bindings, key=lambda b: b.element):
        h.update(f"\x00call\x00{b.element}\x00{b.key}\x00{b.content_hash}".encode())
    return h.hexdigest()


def sources(resolved: Resolved) -> list[etree._Element]:
    """Every fragment BPMN the caller's compilation needs (nested ones included, each once)."""
    seen: set[bytes] = set()
    roots: list[etree._Element] = []
    for fragment in resolved.fragments:
        for src in fragment.sources:
            if src not in seen:
                seen.add(src)
                root, _problems = parse_xml(src, fragment.key, len(src) + 1)  # checked at its own deploy
                if root is not None:
                    roots.append(root)
    return roots


def longest_minutes(meta: ProcedureMeta) -> int:
    """Running-clock minutes along a fragment's longest path from its start to an end (loops counted
    once, nested calls by their own bound cost) — what the caller's time budget adds for the call."""
    from .budget import _graph  # the budget's own loop-free graph

    cost = {s.id: (minutes(s.sla) or 0) if s.clock == "run" else 0 for s in meta.steps.values()}
    for b in bindings_of(meta):
        cost[b.element] = b.minutes
    succ = _graph(meta, {})
    best: dict[str, int] = {}

    def walk(node: str, path: frozenset[str]) -> int:
        if node in best:
            return best[node]
        nexts = [t for t, _f in succ.get(node, []) if t not in path]
        value = cost.get(node, 0) + max((walk(t, path | {t}) for t in nexts), default=0)
        best[node] = value
        return value

    starts = [n.id for n in meta.nodes.values() if n.kind == "startEvent"]
    return max((walk(s, frozenset({s})) for s in starts), default=0)
