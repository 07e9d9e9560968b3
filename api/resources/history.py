"""A dossier's history: its events, its state as of any event (replay), and the integrity check."""

from __future__ import annotations

import json
from typing import Any

from flask import request
from flask_smorest import Blueprint

from engine import queries
from engine.history import replay, verify

from ..auth import engine
from ..schemas.common import PAGE_HEADERS
from ..schemas.dossiers import EventArgsSchema, EventSchema, ReplayArgsSchema, ReplaySchema, VerifySchema
from .views import visible_dossier

blp = Blueprint("history", __name__, description="Event log, replay and verification (auditors)")


@blp.route("/dossiers/<id:dossier_id>/events", methods=["GET"])
@blp.arguments(EventArgsSchema, location="query")
@blp.response(200, EventSchema(many=True), headers=PAGE_HEADERS)
@blp.alt_response(404, response="NOT_FOUND")
def events(args: dict[str, Any], dossier_id: int) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The hash-chained events in order; `payload` is the canonical JSON that was hashed, parsed."""
    visible_dossier(dossier_id)
    page = queries.events(engine().db, dossier_id, args["after"], args["limit"])
    rows = [{"seq": e.seq, "type": e.type, "actor": e.actor, "unit": e.unit, "step": e.step, "at": e.at,
             "payload": json.loads(e.payload), "prev_hash": e.prev_hash, "hash": e.hash} for e in page.rows]
    headers = {}
    if page.more:  # the events' cursor is the plain seq, passed back as `after`
        last = rows[-1]["seq"]
        headers = {"X-Next-Cursor": str(last),
                   "Link": f'<{request.base_url}?after={last}&limit={args["limit"]}>; rel="next"'}
    return rows, headers


@blp.route("/dossiers/<id:dossier_id>/replay", methods=["GET"])
@blp.arguments(ReplayArgsSchema, location="query")
@blp.response(200, ReplaySchema)
@blp.alt_response(404, response="NOT_FOUND")
def replay_dossier(args: dict[str, Any], dossier_id: int) -> dict[str, Any]:
    """The dossier rebuilt from its events up to `at` (default: all) — what an auditor saw then."""
    visible_dossier(dossier_id)
    lf = engine()
    with lf.db.read() as s:
        r = replay(s, lf.procedures, dossier_id, args.get("at"))
    st = r.state
    items = [{"ordinal": i.ordinal, "step": i.step, "name": i.name, "role": i.role, "unit": i.unit,
              "assignee": i.assignee, "state": i.state, "due": i.due_at, "outcome": i.outcome}
             for i in sorted(st.items.values(), key=lambda x: x.ordinal)]
    return {"dossier": dossier_id, "as_of_seq": st.last_seq, "at": r.at, "problems": r.problems,
            "state": {"code": st.code, "procedure": st.procedure, "status": st.status, "version": st.version,
                      "due": st.due_at, "statutory_due": st.statutory_due_at, "paused_at": st.paused_at,
                      "supplement_since": st.supplement_since, "work_items": items}}


@blp.route("/dossiers/<id:dossier_id>/verify", methods=["GET"])
@blp.response(200, VerifySchema)
@blp.alt_response(404, response="NOT_FOUND")
def verify_dossier(dossier_id: int) -> dict[str, Any]:
    """Check the hash chain and that replaying the events gives the stored projections and snapshot."""
    visible_dossier(dossier_id)
    lf = engine()
    with lf.db.read() as s:
        return verify(s, lf.procedures, dossier_id, lf.blobs).as_dict()
