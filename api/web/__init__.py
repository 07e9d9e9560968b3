"""The server-rendered pages for officers, supervisors and auditors (README, "Web pages").

Flask + Jinja, one blueprint per audience (sign-in, officer, actions, procedures, audit, reports),
templates and static files under api/web/, catalogs under api/translations/. Pages call the engine
directly (commands, queries, replay, lint, KPI), never the HTTP API. Nothing is loaded from outside
landflow: no CDN, no web font, a few lines of local JavaScript that the pages work without.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from config.settings import Settings
from engine.incident_reads import READERS

from .. import problems
from . import (
    accountability,
    actions,
    audit,
    csrf,
    headers,
    i18n,
    incidents,
    message_page,
    migrations,
    modeler,
    officer,
    papers,
    procedures,
    proof,
    public,
    reception,
    reports,
    session,
    signin,
    signing_page,
    whatif,
)
from .common import directory
from .labels import DEADLINE, STATUS

BLUEPRINTS = (signin.bp, officer.bp, actions.bp, reception.bp, papers.bp, procedures.bp, audit.bp, reports.bp,
              accountability.bp, public.bp, proof.bp, incidents.bp, whatif.bp, signing_page.bp, modeler.bp,
              migrations.bp, message_page.bp)
log = logging.getLogger("landflow.web")


def nav() -> list[tuple[str, str, str]]:
    """(endpoint, label, path prefix) of the pages this officer's roles open."""
    account = session.current_account()
    if account is None:
        return []
    roles = set(account.roles)
    out: list[tuple[str, str, str]] = []
    if roles & directory().step_roles():
        out.append(("web_officer.worklist", _("Worklist"), "/worklist"))
    if "one_stop_desk" in roles:
        out.append(("web_reception.start", _("Receive a dossier"), "/reception"))
    out.append(("web_audit.search", _("Dossiers"), "/audit/dossiers"))
    out.append(("web_procedures.index", _("Procedures"), "/procedures"))
    out.append(("web_reports.signals", _("Signals"), "/audit/signals"))
    if roles & {"auditor", "supervisor", "inspector", "unit_head"}:
        out.append(("web_reports.kpi", _("KPI"), "/audit/kpi"))
    out.append(("web_accountability.inbox", _("Reviews"), "/accountability"))
    if roles & READERS:
        out.append(("web_incidents.index", _("Incidents"), "/incidents"))
    if "tax_office" in roles:  # the agency whose answers procedures wait for (message events)
        out.append(("web_messages.index", _("Answers to dossiers"), "/messages"))
    return out


def _is_page(path: str) -> bool:
    return not path.startswith("/api/")


def _wants_page() -> bool:
    """An error of a page view, or of an unknown address a browser asked for, is an HTML page; any other
    client (curl, scripts) keeps getting problem+json, as before the pages existed."""
    if not _is_page(request.path):
        return False
    names = {bp.name for bp in BLUEPRINTS}
    return request.blueprint in names or "text/html" in request.headers.get("Accept", "")


def _error_page(status: int, message: str) -> Response:
    resp = Response(render_template("error.html", status=status, message=message), status=status,
                    mimetype="text/html")
    return headers.apply(resp)


MESSAGES = {
    400: _l("The request was not understood."),
    403: _l("Your roles do not open this page."),
    404: _l("This page does not exist, or what it shows is not yours to read."),
    405: _l("This page does not take that kind of request."),
    413: _l("The upload is too large."),
    414: _l("The address (URL) is too long."),
    429: _l("Too many failed sign-ins for this username; wait a minute and try again."),
}


def init_app(app: Flask, settings: Settings) -> None:
    session.init_app(app, settings)
    i18n.init_app(app, settings)
    if settings.proxies:
        n = settings.proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    # the check page carries the uploaded BPMN back in a form field when the supervisor deploys it
    app.config["MAX_FORM_MEMORY_SIZE"] = settings.max_bpmn_bytes * 4
    for bp in BLUEPRINTS:
        app.register_blueprint(bp)

    @app.context_processor
    def page_context() -> dict[str, Any]:
        if not _is_page(request.path):
            return {}
        return {"csrf_token": csrf.token, "account": session.current_account(), "nav": nav(),
                "lang": i18n.locale(), "status_label": lambda c: STATUS.get(c, c),
                "deadline_label": lambda c: DEADLINE.get(c, c), "unit_name": _unit_name}

    def http_error(err: HTTPException) -> Response:
        """Pages get an HTML page for Flask's own errors; the API keeps problem+json."""
        if not _wants_page():
            return problems.from_http(err)
        status = err.code or 500
        if status == 400 and err.description in ("csrf", "csrf_origin"):
            message = _("The form has expired or did not come from this site; nothing was changed. "
                        "Reload the page and try again.")
        elif status == 400 and err.description == "out_of_range":
            message = _("A date or a page number in the address is out of range: dates from 01/01/2000 to "
                        "31/12/2100 are taken. Nothing was changed.")
        else:
            message = str(MESSAGES.get(status, _l("Something went wrong.")))
        return _error_page(status, message)

    def internal(err: Exception) -> Response:
        if not _wants_page():
            return problems.internal_problem(err)
        incident = uuid.uuid4().hex[:12]
        log.exception("unhandled error on a page (incident %s)", incident)
        return _error_page(500, _("Something went wrong; the server log has the details under incident "
                                  "%(incident)s.", incident=incident))

    def unavailable(err: Exception) -> Response:
        """The database is down or locked: 503 for pages too (an HTML page), never a 500."""
        if not _wants_page():
            return problems.from_database(err)
        resp = _error_page(503, _("The database is not answering or is busy; nothing was changed. "
                                  "Try again in a moment."))
        resp.headers["Retry-After"] = "5"
        return resp

    def driver_error(err: Exception) -> Response:
        return unavailable(err) if problems.is_unavailable(err) else internal(err)

    app.register_error_handler(HTTPException, http_error)
    for cls in problems.UNAVAILABLE:
        app.register_error_handler(cls, unavailable)
    app.register_error_handler(DBAPIError, driver_error)
    app.register_error_handler(Exception, internal)


def _unit_name(code: str | None) -> str:
    from .common import unit_name

    return unit_name(code)
