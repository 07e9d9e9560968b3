"""Procedure incidents: the dossiers a procedure's defect has stopped, and a supervisor's way out.

GET /incidents lists the open ones (supervisors, auditors, inspectors). POST
/dossiers/{id}/move-to-step puts such a dossier at a step of its procedure (supervisors, with a
reason): an engine command recorded as a `moved` event in the dossier's chain, which replay and
`verify` re-run.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Response
from flask_smorest import Blueprint

from engine.incident_reads import READERS, open_incidents

from .. import pagination
from ..auth import current_officer, engine, require_role
from ..schemas.common import ETAG_HEADERS, PAGE_HEADERS
from ..schemas.dossiers import DossierSchema
from ..schemas.incidents import IncidentFilterSchema, IncidentSchema, MoveSchema
from .views import IF_MATCH, after_command, expected_version

blp = Blueprint("incidents", __name__, description="Procedure incidents (supervisors)")


@blp.route("/incidents", methods=["GET"])
@blp.arguments(IncidentFilterSchema, location="query")
@blp.response(200, IncidentSchema(many=True), headers=PAGE_HEADERS)
@blp.alt_response(400, response="BAD_REQUEST")
@blp.alt_response(403, response="FORBIDDEN")
def list_incidents(args: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Dossiers stopped by a procedure incident and not yet moved on, newest dossier first."""
    require_role(*READERS)
    cursor = pagination.decode(args.get("cursor"), (int,))
    rows, more = open_incidents(engine().db, cursor[0] if cursor else None, args["limit"])
    out = []
    for view in rows:
        row = asdict(view)
        row["dossier"] = row.pop("dossier_id")
        row["dossier_code"] = row.pop("code")
        out.append(row)
    return out, pagination.next_headers([out[-1]["dossier"]] if more else None)


@blp.route("/dossiers/<id:dossier_id>/move-to-step", methods=["POST"])
@blp.arguments(MoveSchema)
@blp.doc(parameters=[IF_MATCH])
@blp.response(200, DossierSchema, headers=ETAG_HEADERS)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(412, response="PRECONDITION_FAILED")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def move_to_step(body: dict[str, Any], dossier_id: int) -> tuple[Response, dict[str, str]]:
    """Resolve the dossier's procedure incident by putting it at a step (supervisors, with a reason)."""
    engine().runtime.move_to_step(current_officer(), dossier_id, body["to_step"], body.get("reason") or "",
                                  expected_version=expected_version())
    return after_command(dossier_id)
