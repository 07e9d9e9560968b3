"""The accountability signals table and the KPI dashboard (auditors and supervisors for the KPI).

Signals: filters by kind, unit, officer, day from, dossier code; newest first, keyset pages.
KPI: a period (local days, default the last 30), read with engine.kpi.kpi_report (unit and officer
rows, dossier-level rates) and engine.kpi_trends.signal_trend, drawn as server-side SVG charts:
on-time rate by unit, signals by kind over time, officer ranking. Facts of finished items are
brought up to date first, as `landflow kpi` does (the scheduler's sweep usually has done it).
"""

from __future__ import annotations

import contextlib
from datetime import date, timedelta
from typing import Any

from flask import render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError

from engine import queries
from engine.accountability import KINDS
from engine.digitisation import digitisation
from engine.kpi import KpiRow, RatingRules, kpi_report
from engine.kpi_facts import refresh_item_facts
from engine.kpi_trends import signal_trend
from engine.publicity import publicity
from engine.satisfaction import satisfaction

from . import charts
from .audit import local_start, parse_before, parse_day
from .collation import vi_key
from .common import directory, lf, names, officer_name, unit_name
from .delays import delay_table
from .i18n import number, pct, when
from .labels import RATING, SIGNAL, label
from .messages import signal_reason
from .pages import blueprint
from .session import signed_in, signed_in_account
from .tables import Column, Table, answer_csv

bp = blueprint("web_reports", __name__)
PAGE = 50
RATING_ORDER = {"excellent": 0, "good": 1, "completed": 2, "not_completed": 3, "not_rated": 4}


@bp.get("/audit/signals")
@signed_in()
def signals() -> Any:
    account = signed_in_account()
    engine = lf()
    args = request.args
    kind = args.get("kind") if args.get("kind") in KINDS else None
    unit = args.get("unit") if args.get("unit") in directory().units else None
    officer = (args.get("officer") or "").strip()[:80] or None
    since = parse_day(args.get("since"))
    dossier_id = None
    code = (args.get("dossier") or "").strip()[:60]
    scope = queries.Scope.of(account.officer())
    if code:
        found = queries.dossiers(engine.db, scope, engine.clock.now(), code=code, limit=1).rows
        dossier_id = found[0].id if found else -1
    before = parse_before(args.get("before"))
    page = queries.signals(engine.db, scope, kind=kind, unit=unit, officer=officer,
                           since=local_start(since) if since else None, dossier_id=dossier_id, before_id=before,
                           limit=PAGE)
    behind = queries.signal_events(engine.db, page.rows)
    steps = {f"{p.key}/{st.get('id')}": st.get("name") for p in queries.latest_procedures(engine.db)
             for st in p.meta.get("steps", [])}
    named = names(lambda s: steps.get(s or "", (s or "").rpartition("/")[2]))
    rows = [{"at": s.at, "kind": s.kind, "dossier": s.dossier_code or "", "dossier_id": s.dossier_id, "seq": s.seq,
             "officer": s.officer, "unit": s.unit,
             "reason": signal_reason(s.kind, s.reason, behind.get(s.id), named)} for s in page.rows]
    table = Table("signals", _("Accountability signals"), [
        Column("at", _("Time"), show=lambda v, r: when(v)),
        Column("kind", _("Signal"), text=lambda v: label(SIGNAL, v)),
        Column("dossier", _("Dossier"), show=lambda v, r: Markup('<a href="{}#replay">{}</a>').format(
            url_for("web_audit.timeline", dossier_id=r["dossier_id"], at=r["seq"]), v) if r["dossier_id"] else v),
        Column("seq", _("Event"), numeric=True), Column("officer", _("Officer"), text=officer_name),
        Column("unit", _("Unit"), text=unit_name), Column("reason", _("Reason")),
    ], rows, _("No signal matches."))
    csv = answer_csv([table])
    if csv is not None:
        return csv
    more = None
    if page.more and page.rows:
        kept: dict[str, Any] = {k: v for k, v in args.items() if k != "before"}
        more = url_for("web_reports.signals", **kept, before=page.rows[-1].id)
    units = sorted(((u.code, u.name) for u in directory().units.values()), key=lambda x: vi_key(x[1]))
    kinds = [(k, label(SIGNAL, k)) for k in KINDS]
    return render_template("signals.html", table=table, units=units, kinds=kinds, more=more, args=args)


def _tone(rate: float | None) -> str:
    if rate is None:
        return ""
    return "good" if rate >= 0.95 else "warn" if rate >= 0.8 else "bad"


def kpi_columns(first: str, code: str) -> list[Column]:
    return [
        Column("key", code, csv_only=True),
        Column("name", first, show=lambda v, r: Markup("{} <small class=\"code\">{}</small>").format(v, r["key"])),
        Column("handled", _("Handled"), numeric=True), Column("on_time", _("On time"), numeric=True),
        Column("on_time_rate", _("On-time rate"), numeric=True, text=lambda v: v, show=lambda v, r: pct(v)),
        Column("sla_use", _("Time used / allowed"), numeric=True, text=lambda v: v, show=lambda v, r: pct(v)),
        Column("used_minutes", _("Working minutes used"), numeric=True, csv_only=True),
        Column("allowed_minutes", _("Working minutes allowed"), numeric=True, csv_only=True),
        Column("overdue_open", _("Overdue open"), numeric=True),
        Column("returns", _("Returns"), numeric=True), Column("reroutes", _("Re-routings"), numeric=True),
        Column("ping_pongs", _("Ping-pongs"), numeric=True),
        Column("repeat_supplements", _("Repeat supplements"), numeric=True, csv_only=True),
        Column("refused_attempts", _("Refused attempts"), numeric=True),
        Column("idle_claims", _("Idle claims"), numeric=True, csv_only=True),
        Column("apologies", _("Apologies"), numeric=True, csv_only=True),
        Column("escalations", _("Escalations"), numeric=True, csv_only=True),
        Column("confirmed_shirking", _("Shirking confirmed"), numeric=True),
        Column("justified", _("Signals justified"), numeric=True, csv_only=True),
        Column("rating", _("Rating"), text=lambda v: label(RATING, v)),
    ]


def _person(username: str) -> str:
    o = directory().officers.get(username)
    return o.name if o is not None else username


def _kpi_rows(rows: list[KpiRow], name: Any) -> list[dict[str, Any]]:
    return [{**r.as_dict(), "name": name(r.key)} for r in rows]


@bp.get("/audit/kpi")
@signed_in("auditor", "supervisor", "inspector", "unit_head")
def kpi() -> Any:
    engine = lf()
    unit = queries.report_unit(signed_in_account().officer(), "kpi")  # a unit head: their own unit
    now = engine.clock.now()
    tz = engine.calendar.tz
    today = now.astimezone(tz).date()
    last = parse_day(request.args.get("to")) or today
    first = parse_day(request.args.get("from")) or last - timedelta(days=29)
    if first > last:
        first, last = last, first
    first = max(first, last - timedelta(days=3 * 366))
    start, end = local_start(first), local_start(last + timedelta(days=1))
    with contextlib.suppress(IntegrityError):  # the sweep added the same facts at the same moment: they are there
        refresh_item_facts(engine.db, engine.calendar, now)
    rules = RatingRules.load(engine.settings.kpi_file)
    with engine.db.read() as s:
        by_unit = kpi_report(s, "unit", start, end, now, rules, unit)
        by_officer = kpi_report(s, "officer", start, end, now, rules, unit)
        trend = signal_trend(s, tz, first, last, unit=unit)
        causes = delay_table(s, engine, "officer" if unit else "unit", start, end, now, unit)
        digitised = [r for r in digitisation(s, start, end) if unit is None or r.key == unit]
        rated = [r for r in satisfaction(s, start, end, now) if unit is None or r.key == unit]
        told = [r for r in publicity(s, start, end, now) if unit is None or r.key == unit]
    units = Table("kpi-units", _("KPI by unit"), kpi_columns(_("Unit"), _("Unit code")),
                  _kpi_rows(sorted((r for r in by_unit.rows if r.key != "-"), key=lambda r: vi_key(unit_name(r.key))),
                            unit_name), _("No work in this period."))
    ranked = sorted((r for r in by_officer.rows if r.key not in ("-", "system")),
                    key=lambda r: (RATING_ORDER.get(r.rating, 9), -(r.on_time_rate or 0), -r.handled, r.key))
    officers = Table("kpi-officers", _("Officer ranking"), [Column("rank", "#", numeric=True)] + kpi_columns(
        _("Officer"), _("Username")),
        [{**row, "rank": n} for n, row in enumerate(_kpi_rows(ranked, _person), start=1)],
        _("No work in this period."))
    desks = Table("kpi-dossiers", _("Dossiers by receiving desk"), [
        Column("key", _("Unit code"), csv_only=True),
        Column("name", _("Desk"), show=lambda v, r: Markup("{} <small class=\"code\">{}</small>").format(v, r["key"])),
        Column("to_process", _("To process"), numeric=True),
        Column("done", _("Done"), numeric=True), Column("done_on_time", _("Done on time"), numeric=True),
        Column("late_done", _("Done late"), numeric=True),
        Column("late_in_progress", _("Late in progress"), numeric=True),
        Column("late_rate", _("Late rate"), numeric=True, text=lambda v: v, show=lambda v, r: pct(v)),
        Column("points_766", _("Points (766, of 20)"), numeric=True),
    ], [{**d.as_dict(), "name": unit_name(d.key) if d.key != "all" else _("All")} for d in by_unit.dossiers])
    label_of = {k: label(SIGNAL, k) for k in KINDS}
    kinds = [k for k in KINDS if trend.total(k)]
    periods = [s.strftime("%d/%m") for s in trend.starts]
    trend_table = Table("signals-by-period", _("Signals by kind and period"), [
        Column("period", _("Period from")), *[Column(k, label_of[k], numeric=True) for k in kinds],
        Column("total", _("Total"), numeric=True)],
        [{"period": s.strftime("%d/%m/%Y"), **{k: trend.counts[k][i] for k in kinds},
          "total": sum(trend.counts[k][i] for k in kinds)} for i, s in enumerate(trend.starts)])
    digit_table = digitisation_table(digitised)
    rated_table = satisfaction_table(rated)
    told_table = publicity_table(told)
    csv = answer_csv([units, officers, desks, trend_table, causes, digit_table, rated_table, told_table])
    if csv is not None:
        return csv
    unit_bars = [charts.Bar(f"{unit_name(r.key)}", r.on_time_rate, pct(r.on_time_rate), _tone(r.on_time_rate))
                 for r in sorted((r for r in by_unit.rows if r.key != "-" and r.handled),
                                 key=lambda r: (-(r.on_time_rate or 0), r.key))]
    officer_bars = [charts.Bar(officer_name(r.key), r.on_time_rate, f"{pct(r.on_time_rate)} · {r.handled}",
                               _tone(r.on_time_rate)) for r in ranked[:15]]
    overall = by_unit.dossiers[-1]
    charts_ = {
        "units": charts.hbars(unit_bars, uid="c-units", title=_("On-time rate by unit"),
                              description=_("Share of work items handled by their due time, per unit.")),
        "trend": charts.stacked(periods, [(k, label_of[k], trend.counts[k]) for k in kinds], uid="c-trend",
                                title=_("Signals by kind over time"),
                                description=_("Accountability signals per period, stacked by kind.")),
        "officers": charts.hbars(officer_bars, uid="c-officers", title=_("Officer ranking (first 15)"),
                                 description=_("On-time rate and items handled of the best-rated officers.")),
    }
    return render_template("kpi.html", first=first, last=last, units=units, officers=officers, desks=desks,
                           trend=trend_table, charts=charts_, overall=overall, trend_days=trend.days,
                           six_clear=by_unit.six_clear, today=date.today(), unit=unit, causes=causes,
                           digitisation=digit_table, satisfaction=rated_table, publicity=told_table)


def publicity_table(rows: list[Any]) -> Table:
    """Decision 766 group 1 as landflow can know it (engine/publicity.py): the applicant told, verifiably."""
    def rate(name: str, title: str) -> Column:
        return Column(name, title, numeric=True, text=lambda v: v, show=lambda v, r: pct(v))

    return Table("kpi-publicity", _("Publicity to the applicant (Decision 766, group 1: what landflow holds)"), [
        Column("key", _("Unit code"), csv_only=True),
        Column("name", _("Desk")),
        Column("dossiers", _("Received"), numeric=True),
        Column("receipts", _("Receipts issued"), numeric=True),
        rate("receipt_rate", _("Share with a receipt")),
        Column("delayed", _("Appointment missed or moved"), numeric=True),
        Column("announced", _("Told with an apology"), numeric=True),
        rate("announced_rate", _("Delays announced")),
        Column("papers", _("Slips and results issued"), numeric=True),
        Column("verifiable", _("Under a signed checkpoint"), numeric=True),
        rate("verifiable_rate", _("Provable by anyone")),
    ], [{**r.as_dict(), "name": unit_name(r.key) if r.key != "all" else _("All")} for r in rows],
        _("No dossier received in this period."))


def satisfaction_table(rows: list[Any]) -> Table:
    """Decision 766 group 5 per receiving desk (engine/satisfaction.py): the applicants' ratings."""
    return Table("kpi-satisfaction", _("Applicants' satisfaction (Decision 766, group 5)"), [
        Column("key", _("Unit code"), csv_only=True),
        Column("name", _("Desk")),
        Column("dossiers", _("Received"), numeric=True),
        Column("rated", _("Rated"), numeric=True),
        Column("very_satisfied", _("Very satisfied"), numeric=True),
        Column("satisfied", _("Satisfied"), numeric=True),
        Column("not_satisfied", _("Not satisfied"), numeric=True),
        Column("satisfied_rate", _("Satisfied, of those who rated"), numeric=True, text=lambda v: v,
               show=lambda v, r: pct(v)),
        Column("index_54", _("Satisfaction in handling (late or not satisfied left out)"), numeric=True,
               text=lambda v: v, show=lambda v, r: pct(v)),
        Column("points", _("Points (of 6)"), numeric=True, text=lambda v: v, show=lambda v, r: number(v, 2)),
    ], [{**r.as_dict(), "name": unit_name(r.key) if r.key != "all" else _("All")} for r in rows],
        _("No dossier received in this period."))


def digitisation_table(rows: list[Any]) -> Table:
    """Decision 766 group 4 per receiving desk (engine/digitisation.py: indicators 4.1 and 4.2 measured)."""
    def ind(row: Any, code: str) -> Any:
        return next(i for i in row.indicators if i.code == code)

    return Table("kpi-digitisation", _("Digitisation (Decision 766, group 4)"), [
        Column("key", _("Unit code"), csv_only=True),
        Column("name", _("Desk")),
        Column("received", _("Received"), numeric=True),
        Column("digitised_rate", _("Dossiers digitised"), numeric=True, text=lambda v: v, show=lambda v, r: pct(v)),
        Column("finished", _("Finished with result"), numeric=True),
        Column("e_result_rate", _("Electronic results"), numeric=True, text=lambda v: v,
               show=lambda v, r: pct(v)),
        Column("points", _("Points measured (of 10)"), numeric=True, text=lambda v: v, show=lambda v, r: number(v, 2)),
    ], [{"key": r.key, "name": unit_name(r.key) if r.key != "all" else _("All"),
         "received": ind(r, "4.2").denominator, "digitised_rate": ind(r, "4.2").rate,
         "finished": ind(r, "4.1").denominator, "e_result_rate": ind(r, "4.1").rate, "points": r.points}
        for r in rows], _("No dossier received in this period."))
