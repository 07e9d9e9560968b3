"""One blueprint per resource, all under /api/v1."""

from __future__ import annotations

from flask_smorest import Api

from . import (
    actions,
    audit,
    auth,
    decisions,
    dossiers,
    health,
    history,
    incidents,
    officers,
    procedures,
    reports,
    signals,
    units,
    worklist,
)

MODULES = (health, auth, units, procedures, dossiers, actions, decisions, history, worklist, signals, reports, audit,
           officers, incidents)


def register(api: Api) -> None:
    for module in MODULES:
        api.register_blueprint(module.blp, url_prefix="/api/v1")
