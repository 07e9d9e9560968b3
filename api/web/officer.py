"""The officer's pages: the worklist and the dossier page (actions are in api/web/actions.py)."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup, escape

from engine import desk, queries
from engine.jsoncanon import iso, parse_iso

from .. import pagination
from ..problems import ApiProblem
from . import dossier_page
from .common import lf, officer_name, unit_name
from .i18n import time_left, when
from .labels import DEADLINE, ITEM_STATE, label
from .notices import dossier_notices, troubles_table
from .pages import blueprint
from .session import signed_in, signed_in_account
from .tables import Column, Table, answer_csv

bp = blueprint("web_officer", __name__)
PAGE = 50


def procedure_names() -> dict[str, str]:
    return {p.key: p.name for p in queries.latest_procedures(lf().db)}


def _cursor(text: str | None) -> tuple[Any, int] | None:
    try:
        key = pagination.decode(text or None, (str, int))
    except ApiProblem:
        return None
    if key is None:
        return None
    try:
        return (parse_iso(key[0]) if key[0] else None), key[1]
    except ValueError:
        return None


def badge(status: str, text: str = "") -> Markup:
    words = label(DEADLINE, status)
    return Markup('<span class="badge deadline-{}">{}</span>{}').format(
        status, words, Markup(' <span class="muted">{}</span>').format(text) if text else "")


@bp.get("/worklist")
@signed_in()
def worklist() -> Any:
    account = signed_in_account()
    engine = lf()
    names = procedure_names()
    procedure = request.args.get("procedure") or None
    state = request.args.get("state") or None
    code = (request.args.get("code") or "").strip()[:60] or None
    if procedure is not None and procedure not in names:
        procedure = None
    if state not in (None, "ready", "claimed"):
        state = None
    page = queries.worklist(engine.db, account.officer(), after=_cursor(request.args.get("cursor")), limit=PAGE,
                            procedure=procedure, state=state, code=code)
    now = engine.clock.now()
    soon = engine.calendar.minutes(engine.settings.due_soon)
    back = desk.sent_back(engine.db, [(w.dossier_id, w.item.ordinal) for w in page.rows])
    rows = []
    for w in page.rows:
        left = time_left(engine.calendar, w.item.due, now, soon)
        holder = ""
        if w.item.assignee == account.username:
            holder = _("claimed by you") if w.item.state == "claimed" else _("transferred to you")
        sent = back.get((w.dossier_id, w.item.ordinal))
        note = _("sent back by %(who)s: %(why)s", who=officer_name(sent.actor), why=sent.reason) if sent else ""
        rows.append({"code": w.dossier_code, "dossier": w.dossier_id, "procedure": names.get(w.procedure, w.procedure),
                     "applicant": w.applicant_name, "step": w.item.name, "note": note,
                     "state": w.item.state, "holder": holder, "unit": unit_name(w.item.unit),
                     "due": w.item.due, "left": left.phrase, "deadline": left.status})
    table = Table("worklist", _("Work items"), [
        Column("code", _("Dossier"), show=lambda v, r: Markup('<a href="{}">{}</a>').format(
            url_for("web_officer.dossier", dossier_id=r["dossier"]), v)),
        Column("applicant", _("Applicant")),
        Column("procedure", _("Procedure")),
        Column("step", _("Step"), show=lambda v, r: escape(v) + (Markup('<br><small class="sent-back">{}</small>')
                                                                 .format(r["note"]) if r["note"] else "")),
        Column("state", _("State"), text=lambda v: label(ITEM_STATE, v),
               show=lambda v, r: escape(label(ITEM_STATE, v)) + (Markup("<br><small>{}</small>").format(r["holder"])
                                                                 if r["holder"] else "")),
        Column("unit", _("Unit")),
        Column("due", _("Due"), text=lambda v: v, show=lambda v, r: Markup("{}<br><small>{}</small>").format(
            when(v), r["left"])),
        Column("deadline", _("Deadline"), text=lambda v: label(DEADLINE, v), show=lambda v, r: badge(v)),
    ], rows, empty=_("Nothing waiting for you."))
    csv = answer_csv([table])
    if csv is not None:
        return csv
    more = None
    if page.more and page.rows:
        last = page.rows[-1].item
        kept: dict[str, Any] = {k: v for k, v in request.args.items() if k != "cursor"}
        more = url_for("web_officer.worklist", **kept,
                       cursor=pagination.encode([iso(last.due) if last.due else "", last.id]))
    waiting, collecting = desk_tables(account, names) if "one_stop_desk" in account.roles else (None, None)
    notices = troubles_table(account.unit) if "one_stop_desk" in account.roles else None
    return render_template("worklist.html", table=table, names=names, procedure=procedure, state=state,
                           code=code or "", more=more, waiting=waiting, collecting=collecting, notices=notices)


def handback_steps() -> dict[str, set[str]]:
    """Per procedure (latest versions), the steps marked `handback`: handing the result to the applicant."""
    out: dict[str, set[str]] = {}
    for p in queries.latest_procedures(lf().db):
        steps: set[str] = set()
        for node in p.meta.get("nodes", []):
            if len(node) > 4 and isinstance(node[4], dict) and node[4].get("handback") == "true":
                steps.add(node[0])
        if steps:
            out[p.key] = steps
    return out


def desk_tables(account: Any, names: dict[str, str]) -> tuple[Table, Table]:
    """The desk's two other piles: dossiers waiting for the applicant's papers, results to hand back."""
    engine = lf()
    waiting = [{"code": w.code, "dossier": w.id, "procedure": names.get(w.procedure, w.procedure),
                "applicant": w.applicant, "since": w.since, "asked": w.asked, "by": officer_name(w.asked_by)}
               for w in desk.awaiting_supplement(engine.db, account.unit)]
    link = lambda v, r: Markup('<a href="{}">{}</a>').format(  # noqa: E731
        url_for("web_officer.dossier", dossier_id=r["dossier"]), v)
    t1 = Table("awaiting-supplement", _("Waiting for the applicant's supplement"), [
        Column("code", _("Dossier"), show=link), Column("applicant", _("Applicant")),
        Column("procedure", _("Procedure")), Column("asked", _("Papers asked for")),
        Column("by", _("Asked by")), Column("since", _("Since"), show=lambda v, r: when(v)),
    ], waiting, empty=_("No dossier is waiting for a supplement."))
    ready = [{"code": code, "dossier": did, "procedure": names.get(proc, proc), "applicant": who, "since": since}
             for did, code, proc, who, since in desk.awaiting_collection(engine.db, account.unit, handback_steps())]
    t2 = Table("awaiting-collection", _("Results awaiting collection"), [
        Column("code", _("Dossier"), show=link), Column("applicant", _("Applicant")),
        Column("procedure", _("Procedure")), Column("since", _("Ready since"), show=lambda v, r: when(v)),
    ], ready, empty=_("No result is waiting to be handed back."))
    return t1, t2


@bp.get("/dossiers/<id:dossier_id>")
@signed_in()
def dossier(dossier_id: int) -> Any:
    account = signed_in_account()
    page = dossier_page.build(account, dossier_id)
    if page is None:
        abort(404)
    return render_template("dossier.html", **dossier_page.describe(page), notices=dossier_notices(dossier_id))
