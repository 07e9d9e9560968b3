"""Refusals drawn in the diagram: a step whose form lets its owner decline the dossier.

Some refusals are decisions the law gives a step and the supervisor draws them (refused at reception,
not eligible, the successor unit of a transitional dossier does not accept it). Drawn or not, a
refusal is an act of responsibility the directive asks to watch, so it must leave the same
`returned` signal as the engine's `return` command and carry a reason.

Step properties (engine/definitions/refusals.py, where lint checks them against the drawing):
- `refusal`: the choice of the step's form that refuses, `field=value` (`decision=refuse`,
  `eligible=false`): only that choice is a refusal, an "eligible" completion is not;
- `refusal_reason`: the text field of the same form that must hold the reason when it does.
Versions deployed before the choice syntax wrote `refusal` as a condition (`not accepted`); a
running dossier of such a version is still judged by its condition.
"""

from __future__ import annotations

from typing import Any

from ..definitions.model import ProcedureMeta, StepMeta
from ..definitions.refusals import domain, step_choice
from ..errors import Invalid
from ..expressions import ExpressionError, evaluate
from .incidents import ProcedureIncident


def refusal_of(meta: ProcedureMeta, step: StepMeta, clean: dict[str, Any]) -> str | None:
    """The reason when this completion refuses the dossier, else None (refused without a reason → invalid)."""
    choice, raw = step_choice(meta, step)
    if not raw:
        return None
    form = {f.name: f for f in step.form}
    readable = choice is not None and choice.field in form and \
        set(choice.values) <= {w for w, _v in domain(form[choice.field])}
    if choice is not None and readable:
        refused = clean.get(choice.field) in choice.typed(form[choice.field])
    else:  # a version deployed before the choice syntax
        try:
            refused = bool(evaluate(raw, {f.name: None for f in step.form} | clean))
        except (ExpressionError, TypeError, ValueError, KeyError, NameError) as err:
            raise ProcedureIncident("procedure_error", step.id, f"the refusal condition fails: {err}") from None
    if not refused:
        return None
    field = meta.nodes[step.id].properties.get("refusal_reason", "").strip()
    reason = str(clean.get(field) or "").strip() if field else ""
    if field and not reason:
        raise Invalid("missing_reason", f"refusing the dossier needs a reason in '{field}'")
    return reason or raw
