"""What-if before deploying: a candidate file against the version in force, on the last months' dossiers."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_smorest import Blueprint

from engine.definitions import DefinitionRefused
from engine.policy import check_validate
from engine.whatif import WhatIfRefused, what_if

from ..auth import current_officer, engine
from ..problems import ApiProblem
from ..schemas.procedures import BPMN_BODY
from ..schemas.whatif import WhatIfArgsSchema, WhatIfSchema
from .procedures import uploaded_files

blp = Blueprint("whatif", __name__, description="What-if: a redesign's predicted effect, before deploying")


def run(key: str, bpmn: bytes, dmns: list[bytes], months: int, seed: int, until: date | None = None) -> dict[str, Any]:
    """The report as a dict; the engine's refusals as problems (422, or 404 for an unknown procedure)."""
    try:
        return what_if(engine(), key, bpmn, dmns, months=months, seed=seed, until=until).as_dict()
    except WhatIfRefused as err:
        if err.problems:
            raise DefinitionRefused(err.problems) from None  # 422 listing every problem, as deploy does
        status = 404 if err.code == "unknown_procedure" else 422
        raise ApiProblem(status, err.code, err.detail) from None


@blp.route("/procedures/<string(maxlength=64):key>/whatif", methods=["POST"])
@blp.doc(requestBody=BPMN_BODY)
@blp.arguments(WhatIfArgsSchema, location="query")
@blp.response(200, WhatIfSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
@blp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def whatif(args: dict[str, Any], key: str) -> dict[str, Any]:
    """Run the dossiers received in the last `months` through the version in force and through the
    uploaded file (a candidate version of the same procedure), by simulation with the durations and
    unit capacity observed in that window; side by side: on-time rate, late dossiers, load per unit
    and week, bottleneck steps. Supervisors only (it costs the server work; refusals recorded).
    Deterministic for a seed. Method and limits: docs/whatif.md."""
    lf = engine()
    officer = current_officer()
    if check_validate(officer) is not None:
        lf.runtime.validate(officer, b"")  # raises the refusal, recorded, before the upload is read
    bpmn, dmns = uploaded_files()
    return run(key, bpmn, dmns, args["months"], args["seed"], args.get("until"))
