"""Dossiers: receive one (open), list them, read one with its work items and ETag."""

from __future__ import annotations

from typing import Any

from flask import Response, request, url_for
from flask_smorest import Blueprint

from engine import queries
from engine.communes import exact_commune, find_communes

from .. import pagination
from ..auth import current_officer, engine
from ..problems import ApiProblem
from ..schemas.common import ETAG_HEADERS, PAGE_HEADERS
from ..schemas.dossiers import DossierFilterSchema, DossierSchema, DossierSummarySchema, OpenDossierSchema
from .views import after_command, dossier_response, etag, summary_dict, visible_dossier

blp = Blueprint("dossiers", __name__, description="Dossiers")


@blp.before_request
def refuse_unknown_parameters() -> None:
    """A query parameter the dossier list does not know is a 400 before anything else (values are still
    checked by the schema, 422): `?applicant=XYZ` once silently answered every dossier."""
    if request.endpoint == "dossiers.list_dossiers" and request.method == "GET":
        known = set(DossierFilterSchema().fields)
        unknown = sorted(set(request.args) - known)
        if unknown:
            raise ApiProblem(400, "unknown_parameter", f"unknown query parameter(s): {', '.join(unknown)}; "
                             f"known: {', '.join(sorted(known))}")


@blp.route("/dossiers", methods=["POST"])
@blp.arguments(OpenDossierSchema)
@blp.response(201, DossierSchema, headers={**ETAG_HEADERS, "Location": {"schema": {"type": "string"}}})
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def open_dossier(body: dict[str, Any]) -> tuple[Response, int, dict[str, str]]:
    """Receive a dossier at the caller's one-stop desk: code, deadlines and first step are decided."""
    lf = engine()
    state = lf.runtime.open(current_officer(), body["procedure"], commune_code(body["commune"]), body["applicant"],
                            body["parcel"], body["data"], version=body.get("version"),
                            reception=body.get("reception"))
    data, headers = after_command(state.id)
    headers["Location"] = url_for("dossiers.get_dossier", dossier_id=state.id)
    return data, 201, headers


def commune_code(given: str | None) -> str | None:
    """A unit code as given, or the one current ward, commune or special zone with that name (marks and
    case ignored). An old or partial name is not guessed: 422 with what it could mean (the reception
    page offers the same matches to choose from)."""
    lf = engine()
    directory = lf.directory.get()
    if given is None or given in directory.units:
        return given
    code = exact_commune(given, directory)
    if code is not None:
        return code
    localities = lf.runtime.successors.localities() if lf.runtime.successors else None
    hints = [f"{m.code} {m.name}" + (f" ({m.note})" if m.note else "") for m in find_communes(given, directory,
                                                                                         localities)[:5]]
    raise ApiProblem(422, "invalid_data", f"commune {given!r} names no single current unit"
                     + (f"; it may be: {'; '.join(hints)}" if hints else ""))


@blp.route("/dossiers", methods=["GET"])
@blp.arguments(DossierFilterSchema, location="query")
@blp.response(200, DossierSummarySchema(many=True), headers=PAGE_HEADERS)
@blp.alt_response(400, response="BAD_REQUEST")
def list_dossiers(args: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Newest first, within the caller's read scope (docs/api.md, 'Read scopes'). A parameter this list
    does not know is a 400: `?applicant=XYZ` once silently answered every dossier."""
    lf = engine()
    cursor = pagination.decode(args.get("cursor"), (int,))
    now = lf.clock.now()
    page = queries.dossiers(lf.db, queries.Scope.of(current_officer()), now, status=args.get("status"),
                            unit=args.get("unit"), procedure=args.get("procedure"), overdue=args.get("overdue"),
                            code=args.get("code"), before_id=cursor[0] if cursor else None, limit=args["limit"],
                            applicant=args.get("applicant"), id_number=args.get("id_number"), phone=args.get("phone"),
                            parcel=args.get("parcel"))
    rows = [summary_dict(d, now) for d in page.rows]
    return rows, pagination.next_headers([rows[-1]["id"]] if page.more else None)


@blp.route("/dossiers/<id:dossier_id>", methods=["GET"])
@blp.response(200, DossierSchema, headers=ETAG_HEADERS)
@blp.alt_response(404, response="NOT_FOUND")
def get_dossier(dossier_id: int) -> tuple[Response, dict[str, str]]:
    view = visible_dossier(dossier_id)
    return dossier_response(view, engine().clock.now()), etag(view.version)
