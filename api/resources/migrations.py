"""Migrating running dossiers to a later version of their procedure (supervisors).

POST /procedures/{key}/migrations/plan is the dry run (changes nothing); POST /procedures/{key}/migrations
stores the plan as a run; POST /migrations/{id}/batch moves the next dossiers (one `migrated` event
each); GET /migrations/{id} is the progress. Refusals (not a supervisor, unknown version, a dossier
changed since the plan) are recorded by the engine.
"""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from engine.migration import runs

from ..auth import current_officer, engine
from ..schemas.migrations import BatchSchema, MigrationRequestSchema, PlanSchema, RunSchema

blp = Blueprint("migrations", __name__, description="Migration of running dossiers between versions")


def _plan(key: str, body: dict[str, Any]) -> runs.Plan:
    return runs.make(engine().runtime, current_officer(), key, body["from_version"], body["to_version"],
                     body.get("mapping") or {}, body.get("deadlines", "keep"))


@blp.route("/procedures/<string(maxlength=64):key>/migrations/plan", methods=["POST"])
@blp.arguments(MigrationRequestSchema)
@blp.response(200, PlanSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def plan(body: dict[str, Any], key: str) -> dict[str, Any]:
    """What migrating the running dossiers would do, dossier by dossier. Changes nothing."""
    return _plan(key, body).as_dict()


@blp.route("/procedures/<string(maxlength=64):key>/migrations", methods=["POST"])
@blp.arguments(MigrationRequestSchema)
@blp.response(201, RunSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def start(body: dict[str, Any], key: str) -> dict[str, Any]:
    """Plan again and store the movable dossiers as a run; batches then move them."""
    lf = engine()
    seen = body.get("seen")
    return runs.start(lf.runtime, current_officer(), _plan(key, body),
                      None if seen is None else {int(k): v for k, v in seen.items()}).as_dict()


@blp.route("/migrations/<id:run_id>/batch", methods=["POST"])
@blp.arguments(BatchSchema)
@blp.response(200, RunSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
def batch(body: dict[str, Any], run_id: int) -> dict[str, Any]:
    """Move the next dossiers of the run (each in its own transaction); returns the progress."""
    return runs.batch(engine().runtime, current_officer(), run_id, body["size"]).as_dict()


@blp.route("/migrations/<id:run_id>", methods=["GET"])
@blp.response(200, RunSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
def status(run_id: int) -> dict[str, Any]:
    """The run's progress and the dossiers it did not move, and why (supervisors)."""
    officer = current_officer()
    lf = engine()
    runs.guard(lf.runtime, officer, "migration_status")
    return runs.status(lf.runtime, run_id).as_dict()
