"""GET /health: is the server up and its database reachable (for load balancers and `make run`).
GET /health/live: the process answers (touching nothing: a restart is the cure when it does not).
GET /health/ready: the database answers, its schema is at the code's migration head, and a scheduler
has beaten recently (engine/health.py); 503 with every check's answer otherwise.
GET /ping: the app answers, touching nothing (the floor `bench http` measures commands against)."""

from __future__ import annotations

from typing import Any

from flask import Response, json
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from engine import queries
from engine.health import readiness

from ..auth import engine, public
from ..problems import PROBLEM_JSON, ApiProblem

blp = Blueprint("health", __name__, description="Liveness")


class HealthSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(("ok",)))
    database = fields.String(required=True, validate=validate.OneOf(("sqlite", "postgresql")))


@blp.route("/health", methods=["GET"])
@blp.response(200, HealthSchema)
@blp.doc(security=[])
@public
def health() -> dict[str, Any]:
    lf = engine()
    if not queries.ping(lf.db):
        raise ApiProblem(503, "database_unavailable", "the database does not answer", {"Retry-After": "5"})
    return {"status": "ok", "database": lf.db.dialect}


class LiveSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(("alive",)))


@blp.route("/health/live", methods=["GET"])
@blp.response(200, LiveSchema)
@blp.doc(security=[])
@public
def live() -> dict[str, Any]:
    """Liveness: the process answers requests. Touches no database: a database outage is not cured by
    restarting the web processes, so it must not fail liveness."""
    return {"status": "alive"}


class CheckSchema(Schema):
    ok = fields.Boolean(required=True)
    detail = fields.String()


class ReadySchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(("ready", "not_ready")))
    checks = fields.Dict(keys=fields.String(), values=fields.Dict(), required=True,
                         metadata={"description": "database, migrations, scheduler: each {ok, detail?, ...}"})


@blp.route("/health/ready", methods=["GET"])
@blp.response(200, ReadySchema)
@blp.alt_response(503, description="not ready: a problem+json whose `checks` says which check failed")
@blp.doc(security=[])
@public
def ready() -> Any:
    """Readiness: database reachable, migrations current, scheduler heartbeat recent."""
    lf = engine()
    result = readiness(lf.db, lf.settings.scheduler_stale_seconds)
    if result.ready:
        return {"status": "ready", "checks": result.checks}
    failed = ", ".join(name for name, check in result.checks.items() if not check["ok"])
    body = {"type": "urn:landflow:problem:not_ready", "title": "Service Unavailable", "status": 503,
            "detail": f"not ready: {failed}", "code": "not_ready",
            "checks": result.checks}
    return Response(json.dumps(body, ensure_ascii=False), status=503, mimetype=PROBLEM_JSON,
                    headers={"Retry-After": "5"})


class PingSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(("ok",)))


@blp.route("/ping", methods=["GET"])
@blp.response(200, PingSchema)
@blp.doc(security=[])
@public
def ping() -> dict[str, Any]:
    """The app's own floor: routing, the auth hook, a schema and JSON, no database."""
    return {"status": "ok"}
