"""GET /signals: accountability signals (returns, re-routings, ping-pong, refused attempts, lateness)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask_smorest import Blueprint

from engine import queries

from .. import pagination
from ..auth import current_officer, engine
from ..schemas.common import PAGE_HEADERS
from ..schemas.signals import SignalFilterSchema, SignalSchema

blp = Blueprint("signals", __name__, description="Accountability signals")


@blp.route("/signals", methods=["GET"])
@blp.arguments(SignalFilterSchema, location="query")
@blp.response(200, SignalSchema(many=True), headers=PAGE_HEADERS)
@blp.alt_response(400, response="BAD_REQUEST")
def list_signals(args: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Newest first; auditors and supervisors see all, others their unit's and their own."""
    cursor = pagination.decode(args.get("cursor"), (int,))
    page = queries.signals(engine().db, queries.Scope.of(current_officer()), kind=args.get("kind"),
                           unit=args.get("unit"), officer=args.get("officer"), since=args.get("since"),
                           dossier_id=args.get("dossier"), before_id=cursor[0] if cursor else None,
                           limit=args["limit"])
    rows = []
    for sig in page.rows:
        row = asdict(sig)
        row["dossier"] = row.pop("dossier_id")
        rows.append(row)
    return rows, pagination.next_headers([rows[-1]["id"]] if page.more else None)
