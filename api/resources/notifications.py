"""The notifications that did not reach the applicant: failed, or still unsent long after their event.

A desk officer sees their own desk's; supervisors and auditors any desk's, or all. Never the address:
the desk reads it in the dossier.
"""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from engine.notifications import outbox

from ..auth import engine, require_role
from ..schemas.notifications import NotificationFilterSchema, NotificationTroubleSchema

blp = Blueprint("notifications", __name__, description="Notifications to applicants that failed or are late")
READERS = ("one_stop_desk", "supervisor", "auditor", "inspector")


@blp.route("/notifications/troubles", methods=["GET"])
@blp.arguments(NotificationFilterSchema, location="query")
@blp.response(200, NotificationTroubleSchema(many=True))
@blp.alt_response(400, response="BAD_REQUEST")
@blp.alt_response(403, response="FORBIDDEN")
def troubles(args: dict[str, Any]) -> list[dict[str, Any]]:
    """Failed and late notifications, newest first."""
    officer = require_role(*READERS)
    unit = args.get("unit")
    if not officer.roles & {"supervisor", "auditor", "inspector"}:
        unit = officer.unit
    lf = engine()
    found = outbox.troubles(lf.db, unit, lf.clock.now(), lf.settings.notify_late_minutes, args["limit"])
    return [{"id": t.id, "dossier": t.dossier_id, "dossier_code": t.code, "kind": t.kind, "channel": t.channel,
             "state": t.state, "attempts": t.attempts, "created_at": t.created_at, "error": t.last_error}
            for t in found]
