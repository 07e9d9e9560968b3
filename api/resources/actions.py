"""Actions on work items and dossiers. Each is one engine command; the engine decides and records.

Bodies are checked for shape only (types, lengths). Whether the action is allowed — owner, unit,
state, reason present, target legal — is the engine's decision, so that every refusal lands in the
dossier's history as `action_refused` (and in /signals as `unauthorised_attempt` when it was an act
outside one's unit, role or claim: docs/decisions/0050-refusal-categories.md). Only a dossier (or item)
the caller cannot read is decided here first (api/unseen.py): 404 as for a missing id, recorded in the
audit log, never in that dossier's history.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response
from flask_smorest import Blueprint
from marshmallow import Schema

from engine.org import Officer
from engine.runtime import Runtime

from ..auth import current_officer, engine
from ..schemas.common import ETAG_HEADERS
from ..schemas.dossiers import (
    ApologySchema,
    CompleteSchema,
    DossierSchema,
    EmptySchema,
    ReasonSchema,
    ReturnSchema,
    SupplementReceivedSchema,
    TransferSchema,
)
from ..slips.decision import step_of_item
from ..slips.issuer import issuer
from ..unseen import require_seen
from .views import IF_MATCH, after_command, expected_version

blp = Blueprint("actions", __name__, description="Actions on work items and dossiers")
Command = Callable[[Runtime, Officer, int, dict[str, Any], int | None], Any]

ITEM_ACTIONS: dict[str, tuple[type[Schema], Command, str]] = {
    "claim": (EmptySchema, lambda rt, o, i, b, v: rt.claim(o, i, expected_version=v),
              "Take a ready item (it is then yours alone)."),
    "release": (EmptySchema, lambda rt, o, i, b, v: rt.release(o, i, expected_version=v),
                "Give a claimed item back to the unit."),
    "complete": (CompleteSchema, lambda rt, o, i, b, v: rt.complete(o, i, b.get("data"), expected_version=v,
                                                                    signature=b.get("signature")),
                 "Finish the step with its form data (claims a ready item at once); a `signed` step needs the "
                 "officer's signature of the decision."),
    "return": (ReturnSchema, lambda rt, o, i, b, v: rt.return_(o, i, b["to_step"], b["reason"], expected_version=v),
               "Send the dossier back to a step it has been through, with a reason (signal `returned`)."),
    "transfer": (TransferSchema, lambda rt, o, i, b, v: rt.transfer(o, i, b["reason"], to_unit=b["to_unit"],
                                                                    to_officer=b["to_officer"], expected_version=v),
                 "Hand the item to another unit or officer, with a reason (signal `rerouted`, maybe `ping_pong`)."),
    "request-supplement": (ReasonSchema, lambda rt, o, i, b, v: rt.request_supplement(o, i, b["reason"],
                                                                                      expected_version=v),
                           "Ask the applicant for missing papers, listed in the reason; the clock pauses."),
}
DOSSIER_ACTIONS: dict[str, tuple[type[Schema], Command, str]] = {
    "receive-supplement": (SupplementReceivedSchema, lambda rt, o, d, b, v: rt.receive_supplement(
        o, d, b["note"], expected_version=v), "The applicant's supplement arrived (receiving desk); the clock runs."),
    "apologise": (ApologySchema, lambda rt, o, d, b, v: rt.apologise(o, d, b["reason"], b["new_due"],
                                                                     expected_version=v),
                  "Apologise for a late dossier with a new date (once)."),
    "stop": (ReasonSchema, lambda rt, o, d, b, v: rt.stop(o, d, b["reason"], expected_version=v),
             "Stop at the applicant's request (receiving desk)."),
    "cancel": (ReasonSchema, lambda rt, o, d, b, v: rt.cancel(o, d, b["reason"], expected_version=v),
               "Cancel (receiving desk or a supervisor)."),
}


def _route(path: str, name: str, schema: type[Schema], command: Command, doc: str, on_item: bool) -> None:
    action = name.split("_", 1)[1]  # the engine's name of the action: item_request_supplement -> request_supplement

    def view(body: dict[str, Any] | None, **ids: int) -> tuple[Response, dict[str, str]]:
        target = ids["item_id"] if on_item else ids["dossier_id"]
        officer = current_officer()
        require_seen(officer, "item" if on_item else "dossier", target, action)  # out of read scope: 404, no lock
        state = command(engine().runtime, officer, target, body or {}, expected_version())
        answer = after_command(state.id)  # its `last_seq` names this command's event, not the record's
        if action == "complete" and (body or {}).get("signature"):  # a signed decision: its record, soon
            step = step_of_item(engine(), target)
            if step is not None:
                issuer().submit(state.id, step)
        return answer

    view.__name__ = view.__qualname__ = name
    view.__doc__ = doc
    view = blp.alt_response(422, response="UNPROCESSABLE_ENTITY")(view)
    view = blp.alt_response(412, response="PRECONDITION_FAILED")(view)
    view = blp.alt_response(409, response="CONFLICT")(view)
    view = blp.alt_response(404, response="NOT_FOUND")(view)
    view = blp.alt_response(403, response="FORBIDDEN")(view)
    view = blp.alt_response(400, response="BAD_REQUEST")(view)
    view = blp.doc(parameters=[IF_MATCH])(view)
    view = blp.response(200, DossierSchema, headers=ETAG_HEADERS)(view)
    view = blp.arguments(schema, required=schema is not EmptySchema and schema is not CompleteSchema)(view)
    blp.route(path, methods=["POST"], endpoint=name)(view)


for _path, (_schema, _command, _doc) in ITEM_ACTIONS.items():
    _route(f"/work-items/<id:item_id>/{_path}", "item_" + _path.replace("-", "_"), _schema, _command, _doc, True)
for _path, (_schema, _command, _doc) in DOSSIER_ACTIONS.items():
    _route(f"/dossiers/<id:dossier_id>/{_path}", "dossier_" + _path.replace("-", "_"), _schema, _command, _doc, False)
