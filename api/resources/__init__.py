"""One blueprint per resource, all under /api/v1."""

from __future__ import annotations

from flask_smorest import Api

from . import (
    accountability,
    actions,
    audit,
    auth,
    certificates,
    decisions,
    documents,
    dossiers,
    drafts,
    health,
    history,
    incidents,
    messages,
    migrations,
    notifications,
    officers,
    procedures,
    public,
    reports,
    signals,
    slips,
    units,
    whatif,
    worklist,
)

MODULES = (health, auth, units, drafts, procedures, dossiers, actions, decisions, documents, slips, history, worklist,
           signals, reports, audit, officers, accountability, public, incidents,
           notifications, whatif, certificates, migrations, messages)


def register(api: Api) -> None:
    for module in MODULES:
        api.register_blueprint(module.blp, url_prefix="/api/v1")
