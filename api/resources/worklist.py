"""GET /worklist: the work items the caller may act on, soonest deadline first."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_smorest import Blueprint

from engine import queries
from engine.jsoncanon import iso, parse_iso

from .. import pagination
from ..auth import current_officer, engine
from ..problems import ApiProblem
from ..schemas.common import PAGE_HEADERS
from ..schemas.dossiers import WorklistArgsSchema, WorkSchema
from .views import item_dict

blp = Blueprint("worklist", __name__, description="The caller's worklist")


def _after(cursor: str | None) -> tuple[datetime | None, int] | None:
    key = pagination.decode(cursor, (str, int))
    if key is None:
        return None
    try:
        return (parse_iso(key[0]) if key[0] else None), key[1]
    except ValueError:
        raise ApiProblem(400, "invalid_cursor", "the cursor is not one this server gave out") from None


@blp.route("/worklist", methods=["GET"])
@blp.arguments(WorklistArgsSchema, location="query")
@blp.response(200, WorkSchema(many=True), headers=PAGE_HEADERS)
@blp.alt_response(400, response="BAD_REQUEST")
def worklist(args: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Items reserved for or claimed by the caller, and ready items of the caller's unit and roles."""
    page = queries.worklist(engine().db, current_officer(), after=_after(args.get("cursor")), limit=args["limit"])
    rows = []
    for w in page.rows:
        row = item_dict(w.item)
        row.update(dossier=w.dossier_id, dossier_code=w.dossier_code, procedure=w.procedure,
                   dossier_status=w.dossier_status, dossier_due=w.dossier_due,
                   applicant_name=w.applicant_name)
        rows.append(row)
    last = page.rows[-1].item if page.rows and page.more else None
    return rows, pagination.next_headers([iso(last.due) if last.due else "", last.id] if last else None)
