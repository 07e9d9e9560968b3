"""One blueprint per resource, all under /api/v1."""

from __future__ import annotations

from flask_smorest import Api

from . import (
    accountability,
    actions,
    audit,
    auth,
    decisions,
    dossiers,
    health,
    history,
    officers,
    procedures,
    reports,
    signals,
    units,
    worklist,
)

MODULES = (health, auth, units, procedures, dossiers, actions, decisions, history, worklist, signals, reports, audit,
           officers, accountability)


def register(api: Api) -> None:
    for module in MODULES:
        api.register_blueprint(module.blp, url_prefix="/api/v1")
