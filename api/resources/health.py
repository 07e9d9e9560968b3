"""GET /health: is the server up and its database reachable (for load balancers and `make run`).
GET /ping: the app answers, touching nothing (the floor `bench http` measures commands against)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from engine import queries

from ..auth import engine, public
from ..problems import ApiProblem

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


class PingSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(("ok",)))


@blp.route("/ping", methods=["GET"])
@blp.response(200, PingSchema)
@blp.doc(security=[])
@public
def ping() -> dict[str, Any]:
    """The app's own floor: routing, the auth hook, a schema and JSON, no database."""
    return {"status": "ok"}
