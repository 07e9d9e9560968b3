"""Another agency's answer to a dossier: POST /messages (e.g. the tax office's notice of financial
obligations). The procedure waits for it at a message catch event; the engine decides who may deliver
it (the role and unit the catch event names), whether the dossier waits for it now, and whether the
data fits its form, and records every refusal in the dossier's chain (engine/runtime/messages.py).

The dossier is named by its code, which the other agency has from the referral (form 19), not by
landflow's id. The same `key` again answers the first delivery (200, `Idempotent-Replayed: true`) and
records nothing.
"""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from ..auth import current_officer, engine
from ..schemas.messages import DeliverySchema, MessageSchema

blp = Blueprint("messages", __name__, description="Messages from other agencies (e.g. the tax notice)")
REPLAYED = {"Idempotent-Replayed": {"schema": {"type": "string"},
                                    "description": "true when the key was seen before: the first delivery's answer"}}


@blp.route("/messages", methods=["POST"])
@blp.arguments(MessageSchema)
@blp.response(201, DeliverySchema)
@blp.alt_response(200, schema=DeliverySchema, headers=REPLAYED, description="the same key again: the first answer")
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def deliver(body: dict[str, Any]) -> Any:
    """Deliver a message the dossier waits for (officers of the role the procedure names, e.g. tax_office)."""
    delivery = engine().runtime.deliver_message(current_officer(), body["dossier"], body["message"], body["data"],
                                                body["key"])
    if delivery.repeated:
        return delivery.as_dict(), 200, {"Idempotent-Replayed": "true"}
    return delivery.as_dict()
