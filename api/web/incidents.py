"""The supervisors' page of procedure incidents: the dossiers a procedure's defect has stopped, each
with a form that moves it to a step of its procedure (an engine command, recorded in its chain).

Auditors and inspectors read the page; only supervisors see the forms (the engine decides anyway, and
records a refused move like any refusal).
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine.incident_reads import READERS, IncidentView, open_incidents
from engine.runtime import CommandRefused

from .common import lf, refusal_message, say
from .i18n import when
from .pages import blueprint
from .session import redirect_to, signed_in, signed_in_account

bp = blueprint("web_incidents", __name__)
CAUSE = {
    "procedure_error": _l("A condition or script of the procedure failed"),
    "loop": _l("The procedure loops without end"),
    "stuck": _l("The procedure leaves no step open (a join that can never fire, a wait for ever)"),
    "data_too_large": _l("The procedure's data grew past the size limit"),
}


def _steps(view: IncidentView) -> list[tuple[str, str]]:
    with lf().db.read() as s:
        meta = lf().procedures.get(s, view.procedure_version_id).meta
    return [(step.id, step.name) for step in meta.steps.values()]


@bp.get("/incidents")
@signed_in(*READERS)
def index() -> Any:
    account = signed_in_account()
    rows, _more = open_incidents(lf().db, limit=200)
    shown = [{"view": v, "cause": str(CAUSE.get(v.cause or "", v.cause or "")), "raised": when(v.raised_at),
              "steps": _steps(v)} for v in rows]
    return render_template("incidents.html", incidents=shown, may_move="supervisor" in account.roles)


@bp.post("/incidents/<id:dossier_id>/move")
@signed_in(*READERS)
def move(dossier_id: int) -> Any:
    officer = signed_in_account().officer()
    version: int | None
    try:
        version = int(request.form.get("version", ""))
    except ValueError:
        version = -1
    try:
        lf().runtime.move_to_step(officer, dossier_id, request.form.get("to_step", ""),
                                  request.form.get("reason", ""), expected_version=version)
    except CommandRefused as err:
        say(refusal_message(err), "error")
        return redirect_to("web_incidents.index")
    say(_("The dossier was moved to the chosen step; the incident is resolved."), "success")
    return redirect_to("web_incidents.index")
