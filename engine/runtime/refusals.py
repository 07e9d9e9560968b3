"""Refusals drawn in the diagram: a step whose form lets its owner decline the dossier.

Some refusals are decisions the law gives a step and the supervisor draws them (the successor unit
of a transitional dossier does not accept it: `accepted = false` loops back to the provincial
decision). Drawn or not, a refusal is an act of responsibility the directive asks to watch, so it
must leave the same `returned` signal as the engine's `return` command and carry a reason.

Step properties:
- `refusal`: a condition over the step's form fields (safe expression language), true when the
  completion refuses the dossier, e.g. `not accepted`;
- `refusal_reason`: the text field of the same form that must hold the reason when it does.
"""

from __future__ import annotations

from typing import Any

from ..definitions.model import ProcedureMeta, StepMeta
from ..expressions import ExpressionError, evaluate
from .errors import refuse
from .incidents import ProcedureIncident


def refusal_of(meta: ProcedureMeta, step: StepMeta, clean: dict[str, Any]) -> str | None:
    """The reason when this completion refuses the dossier, else None (refused without a reason → invalid)."""
    node = meta.nodes.get(step.id)
    condition = node.properties.get("refusal", "").strip() if node else ""
    if not condition:
        return None
    names = {f.name: None for f in step.form} | clean
    try:
        refused = bool(evaluate(condition, names))
    except (ExpressionError, TypeError, ValueError, KeyError, NameError) as err:
        raise ProcedureIncident("procedure_error", step.id, f"the refusal condition fails: {err}") from None
    if not refused:
        return None
    field = node.properties.get("refusal_reason", "").strip() if node else ""
    reason = str(clean.get(field) or "").strip() if field else ""
    if field and not reason:
        raise refuse("invalid", "missing_reason", f"refusing the dossier needs a reason in '{field}'")
    return reason or condition
