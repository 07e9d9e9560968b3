"""GET /units: the organisation's units (a dossier's commune is the code of a ward, commune or zone)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from engine import queries

from ..auth import engine
from ..schemas.org import UnitFilterSchema, UnitSchema

blp = Blueprint("units", __name__, description="Units of the organisation")


@blp.route("/units", methods=["GET"])
@blp.arguments(UnitFilterSchema, location="query")
@blp.response(200, UnitSchema(many=True))
def list_units(args: dict[str, Any]) -> list[Any]:
    return queries.units(engine().db, args.get("type"))
