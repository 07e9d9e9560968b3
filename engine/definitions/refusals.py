"""Refusals drawn in a procedure: which end events leave a dossier without its result, and which
officer's choice sends it there.

A dossier can end without what the applicant asked for (refused at reception, not eligible, returned):
that end is an act of responsibility (Directive 04/CT-UBND), so the choice that leads to it must carry
a reason and leave a `returned` signal, like the engine's `return` command (docs/decisions/0040).
The file says so in three properties, and lint checks that they match the drawing:

- end event `outcome`: `result` (the dossier ends with its result) or `refusal` (it ends without it).
  Required when the process has more than one end event; a lone end event, or one that `continues`
  the dossier in another procedure, is a result end.
- step `refusal`: the choice of the step's own form that refuses, `field=value` (`decision=refuse`,
  `eligible=false`; several values of a choice field as `a|b`). Only that choice is a refusal: an
  "eligible" completion of the same step is not.
- step `refusal_reason`: the text field of the step's form that must then hold the reason.

This module reads the properties; engine/definitions/refusal_paths.py checks them against the drawing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .forms import FormField
from .model import NodeMeta, ProcedureMeta, StepMeta
from .problems import Problem

OUTCOMES = ("result", "refusal")
_CHOICE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]*)\s*={1,2}\s*(\S(?:.*\S)?)\s*$")


@dataclass(frozen=True)
class RefusalChoice:
    """`field=value|value`: the values of one form field that refuse the dossier."""

    field: str
    values: tuple[str, ...]  # as written, lower-cased for bools ('true' / 'false')

    def typed(self, form_field: FormField) -> set[Any]:
        """The values as the cleaned form holds them (bools as True/False)."""
        if form_field.type == "bool":
            return {v == "true" for v in self.values}
        return set(self.values)

    def text(self) -> str:
        return f"{self.field}={'|'.join(self.values)}"


def parse_choice(text: str) -> RefusalChoice | None:
    """`decision=refuse`, `eligible = false`, `kind == a|b`; None when the text is not of that form."""
    m = _CHOICE.match(text or "")
    if not m:
        return None
    values = tuple(v.strip().strip("'\"").strip() for v in m[2].split("|"))
    if not values or any(not v for v in values):
        return None
    values = tuple(v.lower() if v.lower() in ("true", "false") else v for v in values)
    return RefusalChoice(m[1], values)


def step_choice(meta: ProcedureMeta, step: StepMeta) -> tuple[RefusalChoice | None, str]:
    """The step's `refusal` as a choice (None when absent or unreadable) and its raw text."""
    node = meta.nodes.get(step.id)
    raw = node.properties.get("refusal", "").strip() if node else ""
    return (parse_choice(raw) if raw else None), raw


def end_outcome(meta: ProcedureMeta, end_id: str, ends: dict[str, NodeMeta] | None = None) -> str | None:
    """`result`, `refusal`, or None when the file does not say and the drawing cannot tell.
    `ends`: the procedure's end events, when the caller has them already."""
    ends = meta.end_events() if ends is None else ends
    node = ends.get(end_id)
    if node is None:
        return None
    value = node.properties.get("outcome", "").strip().lower()
    if value in OUTCOMES:
        return value
    if value:
        return None
    if node.properties.get("continues", "").strip().lower() == "true" or len(ends) == 1:
        return "result"
    return None


def domain(f: FormField) -> list[tuple[str, Any]]:
    """Every value a bool or choice field can take: (as written, as the form holds it)."""
    if f.type == "bool":
        return [("true", True), ("false", False)]
    return [(c, c) for c in f.choices]


def end_problems(meta: ProcedureMeta) -> tuple[dict[str, str | None], list[Problem]]:
    """Each end event's outcome, and the problems with the `outcome` properties."""
    out: list[Problem] = []
    ends = meta.end_events()
    outcomes: dict[str, str | None] = {}
    for eid, node in ends.items():
        value = node.properties.get("outcome", "").strip().lower()
        if value and value not in OUTCOMES:
            out.append(Problem(eid, "end.outcome", "outcome is 'result' (the dossier ends with its result) or "
                                                   "'refusal' (it ends without it)"))
        outcomes[eid] = end_outcome(meta, eid, ends)
        if outcomes[eid] is None and not value:
            out.append(Problem(eid, "end.outcome", "the process has several end events: say whether the dossier "
                                                   "ends here with its result (outcome = result) or without it "
                                                   "(outcome = refusal)"))
        if value == "refusal" and node.properties.get("continues", "").strip().lower() == "true":
            out.append(Problem(eid, "end.outcome", "an end event that continues the dossier is not a refusal"))
    if ends and not any(v == "result" for v in outcomes.values()) and all(v is not None for v in outcomes.values()):
        out.append(Problem(meta.key or "process", "end.outcome", "no end event gives the dossier its result "
                                                                 "(outcome = result)"))
    return outcomes, out


def step_properties(meta: ProcedureMeta, out: list[Problem]) -> dict[str, RefusalChoice]:
    """The steps' readable `refusal` choices; problems for what cannot be read or names nothing."""
    choices: dict[str, RefusalChoice] = {}
    for step in meta.steps.values():
        props = meta.nodes[step.id].properties
        own = {f.name: f for f in step.form}
        choice, raw = step_choice(meta, step)
        reason = props.get("refusal_reason", "").strip()
        if reason and (reason not in own or own[reason].type != "text"):
            out.append(Problem(step.id, "step.refusal", f"refusal_reason {reason!r} is not a text field of this step"))
        if not raw:
            if reason:
                out.append(Problem(step.id, "step.refusal", "refusal_reason without refusal: say which choice of "
                                                            "the form refuses the dossier (refusal = field=value)"))
            continue
        if choice is None:
            out.append(Problem(step.id, "step.refusal", f"refusal {raw[:80]!r} is not a choice of the form: write "
                                                        "field=value, e.g. 'decision=refuse' or 'eligible=false'"))
            continue
        f = own.get(choice.field)
        if f is None or f.type not in ("bool", "choice"):
            out.append(Problem(step.id, "step.refusal", f"refusal reads {choice.field!r}, which is not a bool or "
                                                        "choice field of this step"))
            continue
        allowed = [w for w, _v in domain(f)]
        bad = [v for v in choice.values if v not in allowed]
        if bad:
            out.append(Problem(step.id, "step.refusal", f"refusal: {', '.join(bad)} is not a value of "
                                                        f"{choice.field} ({'|'.join(allowed)})"))
            continue
        if set(choice.values) >= set(allowed):
            out.append(Problem(step.id, "step.refusal", f"refusal {choice.text()}: every completion would be a "
                                                        "refusal"))
            continue
        if not reason:
            out.append(Problem(step.id, "step.refusal", "a refusal needs a reason: name the text field that holds "
                                                        "it in refusal_reason"))
        choices[step.id] = choice
    return choices
