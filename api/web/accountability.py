"""Pages of reviews and absences: the inbox, a review (explanation and verdict forms), opening a
review of a signal, and absences with a deputy. The engine decides and records every act
(engine/reviews.py, engine/absences.py); a refusal comes back on the same page in the officer's words.

The inbox: for a unit head, their unit's escalations, explanations due and reviews to decide; for an
inspector, those of every unit; for every officer, the explanations they owe.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select

from engine import reviews as rv
from engine.absences import Absences
from engine.org import Officer
from engine.runtime import CommandRefused
from engine.store import AbsenceRow, ReviewRow

from ..problems import status_of
from .audit import parse_day
from .common import directory, lf, officer_name, say, unit_name
from .i18n import day, when
from .labels import REFUSAL, SIGNAL, label
from .pages import blueprint
from .session import redirect_to, signed_in, signed_in_account
from .tables import Column, Table

bp = blueprint("web_accountability", __name__)
STATE = {"open": _l("Awaiting explanation"), "explained": _l("Explained, awaiting verdict"),
         "decided": _l("Decided")}
VERDICT = {"justified": _l("Justified"), "shirking_confirmed": _l("Shirking confirmed")}
CAUSE = {"applicant": _l("the applicant"), "other_agency": _l("another agency"),
         "system_data": _l("the system or its data"), "legal": _l("a legal reason")}
ENTRY = {"review_opened": _l("Review opened"), "review_explained": _l("Explanation given"),
         "review_escalated": _l("Explanation overdue, escalated"), "review_decided": _l("Verdict recorded")}
# wording specific to reviews and absences; every other code as labels.REFUSAL words it
REFUSALS = {
    "overlapping_absence": _l("This officer is already absent on some of these days."),
    "deputy_absent": _l("The deputy is absent on some of these days."),
    "illegal_target": _l("The deputy must be another officer of the same unit holding the same roles."),
    "invalid_data": _l("Check the dates: the last day may not be before the first, nor in the past."),
    "missing_reason": _l("Write the reason."),
}


def refused(err: CommandRefused) -> str:
    meaning = REFUSALS.get(err.code) or REFUSAL.get(err.code)
    return str(meaning) if meaning is not None else err.message


def is_head(officer: Officer) -> bool:
    return "unit_head" in officer.roles


def is_inspector(officer: Officer) -> bool:
    return rv.INSPECTOR in officer.roles


def may_decide(officer: Officer, row: ReviewRow) -> bool:
    return (is_inspector(officer) or (is_head(officer) and officer.unit == row.unit)) and \
        officer.username not in (row.officer, row.explained_by)


def may_explain(officer: Officer, row: ReviewRow) -> bool:
    if row.officer is not None:
        return officer.username == row.officer
    return is_head(officer) and officer.unit == row.unit


def _review_table(name: str, caption: str, rows: list[ReviewRow], codes: dict[int | None, str | None],
                  empty: str) -> Table:
    data = [{"id": r.id, "kind": r.signal_kind, "dossier": codes.get(r.signal_dossier_id) or "",
             "officer": r.officer, "unit": r.unit, "state": r.state, "due": r.explanation_due,
             "verdict": r.verdict or ""} for r in rows]
    return Table(name, caption, [
        Column("id", _("Review"), numeric=True, show=lambda v, r: Markup('<a href="{}">#{}</a>').format(
            url_for("web_accountability.review", review_id=v), v)),
        Column("kind", _("Signal"), text=lambda v: label(SIGNAL, v)),
        Column("dossier", _("Dossier")),
        Column("officer", _("Officer"), text=officer_name), Column("unit", _("Unit"), text=unit_name),
        Column("state", _("State"), text=lambda v: label(STATE, v)),
        Column("due", _("Explain by"), show=lambda v, r: when(v)),
        Column("verdict", _("Verdict"), text=lambda v: label(VERDICT, v) if v else ""),
    ], data, empty)


@bp.get("/accountability")
@signed_in()
def inbox() -> Any:
    officer = signed_in_account().officer()
    engine = lf()
    now = engine.clock.now()
    head, inspector = is_head(officer), is_inspector(officer)
    unit = None if inspector else officer.unit
    with engine.db.read() as s:
        mine = [r for r in rv.reviews(s, officer, state="open", about=officer.username)]
        due: list[ReviewRow] = []
        to_decide: list[ReviewRow] = []
        escalations = []
        if head or inspector:
            scoped = [r for r in rv.reviews(s, officer, unit=unit, limit=500) if r.state != "decided"]
            due = [r for r in scoped if r.state == "open" and r.officer != officer.username]
            to_decide = [r for r in scoped if may_decide(officer, r) and
                         (r.state == "explained" or r.explanation_due <= now)]
            for sig in rv.inbox_escalations(s, unit, now - timedelta(days=30)):
                key = rv.SignalKey(sig.dossier_id, sig.seq, sig.kind)
                review = rv.review_of(s, key)
                escalations.append({"at": sig.at, "dossier": rv.dossier_code(s, sig.dossier_id) or "",
                                    "dossier_id": sig.dossier_id, "seq": sig.seq, "officer": sig.officer,
                                    "unit": sig.unit, "review": review.id if review else None})
        codes = {r.signal_dossier_id: rv.dossier_code(s, r.signal_dossier_id) for r in mine + due + to_decide}
    tables = [_review_table("owed", _("Explanations I owe"), mine, codes, _("You owe no explanation."))]
    if head or inspector:
        tables.append(_review_table("to-decide", _("Reviews to decide"), to_decide, codes, _("No review to decide.")))
        tables.append(_review_table("due", _("Explanations due"), due, codes, _("No explanation is awaited.")))
        tables.append(Table("escalations", _("Escalations (last 30 days)"), [
            Column("at", _("Time"), show=lambda v, r: when(v)),
            Column("dossier", _("Dossier"), show=lambda v, r: Markup('<a href="{}">{}</a>').format(
                url_for("web_audit.timeline", dossier_id=r["dossier_id"], at=r["seq"]), v) if r["dossier_id"] else v),
            Column("officer", _("Officer"), text=officer_name), Column("unit", _("Unit"), text=unit_name),
            Column("review", _("Review"), show=lambda v, r: Markup('<a href="{}">#{}</a>').format(
                url_for("web_accountability.review", review_id=v), v) if v else Markup('<a href="{}">{}</a>').format(
                url_for("web_accountability.new_review", dossier=r["dossier_id"] or "", seq=r["seq"], kind="escalated"),
                _("Open a review"))),
        ], escalations, _("No escalation.")))
    return render_template("inbox.html", tables=tables, head=head, inspector=inspector)


@bp.route("/accountability/reviews/new", methods=["GET", "POST"])
@signed_in("unit_head", "inspector")
def new_review() -> Any:
    officer = signed_in_account().officer()
    source = request.form if request.method == "POST" else request.args
    try:
        raw = source.get("dossier", "")
        key = rv.SignalKey(int(raw) if raw else None, int(source.get("seq", "")), source.get("kind", ""))
    except ValueError:
        abort(404)
    engine = lf()
    if request.method == "POST":
        try:
            row = rv.Reviews.of(engine).open(officer, key, request.form.get("note", ""))
        except CommandRefused as err:
            say(refused(err), "error")
            page = render_template("review_new.html", key=key, signal=_signal(key), note=request.form.get("note", ""))
            return page, status_of(err)
        say(_("Review #%(n)s opened; the officer has until %(due)s to explain.", n=row.id,
              due=when(row.explanation_due)))
        return redirect_to("web_accountability.review", review_id=row.id)
    signal = _signal(key)
    if signal is None:
        abort(404)
    return render_template("review_new.html", key=key, signal=signal, note="")


def _signal(key: rv.SignalKey) -> dict[str, Any] | None:
    from engine.store import SignalRow

    with lf().db.read() as s:
        on = SignalRow.dossier_id.is_(None) if key.dossier_id is None else SignalRow.dossier_id == key.dossier_id
        sig = s.scalar(select(SignalRow).where(on, SignalRow.seq == key.seq, SignalRow.kind == key.kind))
        if sig is None:
            return None
        return {"kind": label(SIGNAL, sig.kind), "at": when(sig.at), "officer": officer_name(sig.officer),
                "unit": unit_name(sig.unit), "reason": sig.reason or "", "dossier": rv.dossier_code(s, sig.dossier_id)}


@bp.route("/accountability/reviews/<int:review_id>", methods=["GET", "POST"])
@signed_in()
def review(review_id: int) -> Any:
    officer = signed_in_account().officer()
    engine = lf()
    status = 200
    if request.method == "POST":
        reviews = rv.Reviews.of(engine)
        try:
            if request.form.get("act") == "explain":
                reviews.explain(officer, review_id, request.form.get("explanation", ""))
                say(_("Your explanation is recorded."))
            else:
                reviews.decide(officer, review_id, request.form.get("verdict", ""), request.form.get("reason", ""),
                               request.form.get("cause") or None)
                say(_("The verdict is recorded."))
            return redirect_to("web_accountability.review", review_id=review_id)
        except CommandRefused as err:
            say(refused(err), "error")
            status = status_of(err)
    with engine.db.read() as s:
        row = s.get(ReviewRow, review_id)
        if row is None or not rv.may_read(officer, row):
            abort(404)
        entries = [{"seq": e.seq, "type": label(ENTRY, e.type), "actor": officer_name(e.actor), "at": when(e.at),
                    "hash": e.hash[:16]} for e in rv.entries(s, row)]
        code = rv.dossier_code(s, row.signal_dossier_id)
    now = engine.clock.now()
    return render_template(
        "review.html", r=row, code=code, entries=entries, kind=label(SIGNAL, row.signal_kind),
        state=label(STATE, row.state), verdict=label(VERDICT, row.verdict) if row.verdict else "",
        cause=label(CAUSE, row.cause) if row.cause else "", causes=list(CAUSE.items()),
        can_explain=row.state == "open" and may_explain(officer, row),
        can_decide=row.state != "decided" and may_decide(officer, row) and
        (row.state == "explained" or row.explanation_due <= now),
        form=request.form, officer_name=officer_name), status


@bp.route("/accountability/absences", methods=["GET", "POST"])
@signed_in("unit_head", "admin")
def absences() -> Any:
    officer = signed_in_account().officer()
    engine = lf()
    status = 200
    if request.method == "POST":
        first, last = parse_day(request.form.get("from")), parse_day(request.form.get("to"))
        if first is None or last is None:
            say(str(REFUSALS["invalid_data"]), "error")
            status = 422
        else:
            try:
                Absences(engine).record(officer, request.form.get("officer", ""), request.form.get("deputy", ""),
                                        first, last, request.form.get("reason", ""))
                say(_("The absence is recorded; the officer's open items go to the deputy while it lasts."))
                return redirect_to("web_accountability.absences")
            except CommandRefused as err:
                say(refused(err), "error")
                status = status_of(err)
    now = engine.clock.now()
    admin = "admin" in officer.roles
    with engine.db.read() as s:
        q = select(AbsenceRow).where(AbsenceRow.ends_at > now).order_by(AbsenceRow.starts_at)
        if not admin:
            q = q.where(AbsenceRow.unit == officer.unit)
        rows = [{"officer": a.officer, "deputy": a.deputy, "unit": a.unit, "from": a.starts_at,
                 "to": a.ends_at - timedelta(days=1), "reason": a.reason} for a in s.scalars(q)]
    table = Table("absences", _("Absences not yet over"), [
        Column("officer", _("Absent officer"), text=officer_name), Column("deputy", _("Deputy"), text=officer_name),
        Column("unit", _("Unit"), text=unit_name),
        Column("from", _("First day"), show=lambda v, r: day(v)),
        Column("to", _("Last day"), show=lambda v, r: day(v)),
        Column("reason", _("Reason")),
    ], rows, _("No absence recorded."))
    people = sorted((o for o in directory().officers.values() if o.active and (admin or o.unit == officer.unit)),
                    key=lambda o: o.name)
    today = now.astimezone(engine.calendar.tz).date()
    return render_template("absences.html", table=table, people=people, form=request.form,
                           today=today, default_last=today + timedelta(days=1), date=date), status
