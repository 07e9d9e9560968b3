"""The decision document to sign before completing a `signed` step (README, 'Signing a decision').

GET takes the form data as a JSON object in the query (`data=`), POST in the body: the same data the
client will send to `complete`. The engine answers with the exact document it will check
(engine/runtime/decisions.py); only the officer who may complete the item gets it.
"""

from __future__ import annotations

import json
from typing import Any

from flask_smorest import Blueprint

from ..auth import current_officer, engine
from ..problems import ApiProblem
from ..schemas.reports import DecisionBodySchema, DecisionQuerySchema, DecisionSchema
from ..unseen import require_seen

blp = Blueprint("decisions", __name__, description="Decision documents to sign (officers)")


def draft(item_id: int, data: Any, signed_at: str | None) -> dict[str, Any]:
    lf = engine()
    officer = current_officer()
    require_seen(officer, "item", item_id, "prepare_decision")
    d = lf.runtime.prepare_decision(officer, item_id, data, signed_at)
    return {"dossier": d.dossier_id, "dossier_code": d.dossier_code, "item": d.item, "work_item": d.item_id,
            "step": d.step, "step_name": d.step_name, "signed": d.signed, "officer": d.officer,
            "public_key": d.public_key, "signed_at": d.signed_at, "valid_until": d.valid_until, "data": d.data,
            "document": d.document, "sha256": d.sha256}


def _decision_doc(view: Any) -> Any:
    for status, name in ((404, "NOT_FOUND"), (403, "FORBIDDEN"), (409, "CONFLICT"), (422, "UNPROCESSABLE_ENTITY")):
        view = blp.alt_response(status, response=name)(view)
    return blp.response(200, DecisionSchema)(view)


@blp.route("/work-items/<id:item_id>/decision", methods=["GET"])
@blp.arguments(DecisionQuerySchema, location="query")
@blp.alt_response(414, response="REQUEST_URI_TOO_LONG")  # a URL over 8000 characters (api/bodies.py): use POST
@_decision_doc
def get_decision(args: dict[str, Any], item_id: int) -> dict[str, Any]:
    """The canonical decision document you sign to complete this item with `data` (a JSON object in
    the query), at `signed_at` (default now). Sign `document`'s UTF-8 bytes with your certificate's key
    (on your token, through the local agent) and send `{data, signature: {signed_at, value}}` to complete
    within `valid_until`."""
    try:
        data = json.loads(args["data"])
    except (ValueError, RecursionError):
        raise ApiProblem(422, "invalid_request", "data must be a JSON object, e.g. {\"eligible\": true}") from None
    if not isinstance(data, dict):
        raise ApiProblem(422, "invalid_request", "data must be a JSON object, e.g. {\"eligible\": true}")
    return draft(item_id, data, args.get("signed_at"))


@blp.route("/work-items/<id:item_id>/decision", methods=["POST"])
@blp.arguments(DecisionBodySchema, required=False)
@_decision_doc
def post_decision(body: dict[str, Any] | None, item_id: int) -> dict[str, Any]:
    """As GET, with `{data, signed_at}` in the body: the same document, nothing changes."""
    body = body or {}
    return draft(item_id, body.get("data") or {}, body.get("signed_at"))
