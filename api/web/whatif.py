"""The supervisor's what-if page: a candidate file against the version in force, before deploying.

The form takes a file (or the checked file the check page carries in a hidden field), the months of
history and a seed; the answer shows both versions side by side: on-time rate, late dossiers, load
per unit and week, and the steps where work waits (engine/whatif, docs/whatif.md). Charts are SVG
drawn here (api/web/charts.py); their numbers are in the tables beside them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import abort, render_template, request
from flask_babel import gettext as _

from engine import queries
from engine.policy import check_validate
from engine.runtime import CommandRefused
from engine.whatif import MAX_MONTHS, Variant, WhatIfRefused, WhatIfReport, what_if

from ..problems import status_of
from . import charts
from .common import lf, refusal_message, say, unit_name
from .i18n import number, pct, when
from .pages import blueprint
from .procedures import KEY, _in_force, _uploaded
from .session import signed_in, signed_in_account
from .tables import Column, Table

bp = blueprint("web_whatif", __name__)
REFUSED = {
    "invalid_file": lambda: _("The file does not pass the procedure check: check it first and fix its problems."),
    "other_procedure": lambda: _("The file is another procedure: what-if compares versions of the same procedure."),
    "unknown_procedure": lambda: _("This procedure is not deployed yet: there is no version in force to compare with."),
    "invalid_months": lambda: _("Choose between 1 and %(n)s months.", n=MAX_MONTHS),
    "invalid_until": lambda: _("The period cannot end after today."),
    "window_too_large": lambda: _("Too many dossiers in this period: choose fewer months."),
}


def _int(name: str, default: int, low: int, high: int) -> int | None:
    try:
        value = int(request.form.get(name, default))
    except ValueError:
        return None
    return value if low <= value <= high else None


def _carried() -> dict[str, Any]:
    """The checked file the check page hands over (hidden base64 fields), kept across a re-run."""
    if "bpmn_b64" not in request.form:
        return {"bpmn_b64": "", "dmn_b64": []}
    return {"bpmn_b64": request.form["bpmn_b64"], "dmn_b64": [t for t in request.form.getlist("dmn_b64") if t],
            "draft": request.form.get("draft", type=int)}  # which draft revision it is, when it came from one


def week_label(iso_week: str) -> str:
    """"2026-W10" as an officer reads it: "tuần 10/2026"."""
    year, _sep, week = iso_week.partition("-W")
    return _("week %(w)s/%(y)s", w=int(week), y=year) if week.isdigit() else iso_week


def _hours(minutes: float) -> str:
    return number(minutes / 60, 1)


def _side(v: Variant) -> dict[str, Any]:
    return {"simulated": len(v.ran), "on_time": len(v.ran) - len(v.late), "rate": v.on_time_rate,
            "late": len(v.late), "not_simulated": len(v.outcomes) - len(v.ran)}


def _steps_table(r: WhatIfReport) -> Table:
    names = {s.step: s.name for v in (r.in_force, r.candidate) for s in v.steps.values()}
    source = {"observed": _("observed"), "observed_other_units": _("observed in other units"),
              "limit": _("the step’s limit (no history)"), "default": _("one working hour (no history, no limit)"),
              "no_waits_observed": _("no answer observed: taken as immediate")}
    bottleneck = {s.step for s in r.candidate.bottlenecks}
    rows: list[Mapping[str, Any]] = []
    for step in sorted(names):
        a, b = r.in_force.steps.get(step), r.candidate.steps.get(step)
        either = b or a
        assert either is not None
        rows.append({"step": step, "name": names[step], "unit": unit_name(either.unit),
                     "wait_a": a.mean_wait if a else None, "wait_b": b.mean_wait if b else None,
                     "work_b": b.mean_work if b else None, "items_b": b.items if b else 0,
                     "source": source.get(either.source, ""), "bottleneck": step in bottleneck})

    def hours(key: str, title: str) -> Column:
        return Column(key, title, numeric=True, text=lambda v: None if v is None else round(v / 60, 2),
                      show=lambda v, r: "—" if v is None else _hours(v))

    return Table("whatif-steps", _("Steps: mean wait in the unit’s queue and work time (working hours)"), [
        Column("name", _("Step")), Column("unit", _("Unit")),
        hours("wait_a", _("Wait, version in force")), hours("wait_b", _("Wait, candidate")),
        hours("work_b", _("Work, candidate")), Column("items_b", _("Items"), numeric=True),
        Column("source", _("Durations from")),
        Column("bottleneck", _("Bottleneck"), show=lambda v, r: _("yes") if v else "",
               text=lambda v: "yes" if v else "no"),
        Column("step", _("Step id"), csv_only=True),
    ], rows, _("No step was reached."))


def _late_table(r: WhatIfReport) -> Table:
    day = lf().calendar.day_minutes
    rows: list[Mapping[str, Any]] = [{**o.as_dict(), "late_days": o.late_minutes / day} for o in r.candidate.late]
    return Table("whatif-late", _("Dossiers late with the candidate"), [
        Column("code", _("Dossier code")), Column("received_at", _("Received"), show=lambda v, r: when(v)),
        Column("due_at", _("Due"), show=lambda v, r: when(v)),
        Column("finished_at", _("Predicted finish"), show=lambda v, r: when(v)),
        Column("late_days", _("Late by (working days)"), numeric=True, text=lambda v: round(v, 2),
               show=lambda v, r: number(v, 1)),
    ], rows, _("No dossier would be late."))


def _load_table(r: WhatIfReport) -> Table:
    rows: list[Mapping[str, Any]] = []
    for unit in r.units:
        for week in r.weeks:
            a = r.in_force.load.get(unit, {}).get(week, 0)
            b = r.candidate.load.get(unit, {}).get(week, 0)
            if a or b:
                rows.append({"unit": unit_name(unit), "week": week_label(week), "in_force": a, "candidate": b})
    return Table("whatif-load", _("Load per unit and week (work items that reach the unit)"), [
        Column("unit", _("Unit")), Column("week", _("Week")),
        Column("in_force", _("Version in force"), numeric=True), Column("candidate", _("Candidate"), numeric=True),
    ], rows, _("No work item."))


def _charts(r: WhatIfReport) -> dict[str, Any]:
    a, b = r.in_force, r.candidate
    in_force = _("Version in force (v%(v)s)", v=a.version)
    rates = [charts.Bar(in_force, a.on_time_rate, pct(a.on_time_rate)),
             charts.Bar(_("Candidate"), b.on_time_rate, pct(b.on_time_rate),
                        "bad" if (b.on_time_rate or 0) < (a.on_time_rate or 0) else "")]
    waits = []
    names = {s.step: s.name for v in (a, b) for s in v.steps.values()}
    top = sorted(names, key=lambda s: -max(a.steps[s].mean_wait if s in a.steps else 0,
                                           b.steps[s].mean_wait if s in b.steps else 0))[:8]
    peak = max([1.0] + [v.steps[s].mean_wait for v in (a, b) for s in top if s in v.steps])
    for s in top:
        for v, tag in ((a, _("in force")), (b, _("candidate"))):
            w = v.steps[s].mean_wait if s in v.steps else None
            waits.append(charts.Bar(f"{names[s]} · {tag}", w, "—" if w is None else _("%(h)s h", h=_hours(w)),
                                    "bad" if v is b and s in r.new_bottlenecks else ""))
    weeks = r.weeks
    units = r.units

    def load(v: Variant, uid: str, title: str) -> Any:
        series = [(u, unit_name(u), [v.load.get(u, {}).get(w, 0) for w in weeks]) for u in units]
        return charts.stacked([week_label(w) for w in weeks], series,
                              uid=uid, title=title, description=_("Work items reaching each unit per week."))

    return {"rates": charts.hbars(rates, uid="w-rates", title=_("Predicted on-time rate"),
                                  description=_("Share of the period’s dossiers finished by their deadline.")),
            "waits": charts.hbars(waits, uid="w-waits", maximum=peak, title=_("Mean wait in the unit’s queue"),
                                  description=_("Working hours a step’s items wait before an officer works on them.")),
            "load_a": load(a, "w-load-a", _("Load per unit and week, version in force")),
            "load_b": load(b, "w-load-b", _("Load per unit and week, candidate"))}


@bp.route(f"/procedures/<{KEY}:key>/whatif", methods=["GET", "POST"])
@signed_in()
def whatif(key: str) -> Any:
    """Supervisors only, like checking a file; anyone else asking to run one is refused and recorded."""
    account = signed_in_account()
    versions = queries.procedure_versions(lf().db, key)
    if not versions:
        abort(404)
    current = _in_force(key) or versions[-1]  # what the prediction compares with (not a pending version)
    if request.method == "GET":
        if "supervisor" not in account.roles:
            abort(403)
        return render_template("whatif.html", key=key, current=current, report=None, months=6, seed=1,
                               max_months=MAX_MONTHS, **_carried())
    if check_validate(account.officer()) is not None:
        try:
            lf().runtime.validate(account.officer(), b"")  # raises the refusal, recorded
        except CommandRefused as err:
            status = status_of(err)
            return render_template("error.html", status=status, message=refusal_message(err)), status
    months, seed = _int("months", 6, 1, MAX_MONTHS), _int("seed", 1, 0, 2**31 - 1)
    bpmn, dmns = _uploaded()
    if months is None or seed is None or not bpmn.strip():
        say(_("Choose a BPMN file, between 1 and %(n)s months, and a whole-number seed.", n=MAX_MONTHS), "error")
        return render_template("whatif.html", key=key, current=current, report=None, months=months or 6,
                               seed=seed if seed is not None else 1, max_months=MAX_MONTHS, **_carried()), 422
    try:
        report = what_if(lf(), key, bpmn, dmns, months=months, seed=seed)
    except WhatIfRefused as err:
        say(REFUSED[err.code](), "error")
        return render_template("whatif.html", key=key, current=current, report=None, months=months, seed=seed,
                               max_months=MAX_MONTHS, **_carried()), 404 if err.code == "unknown_procedure" else 422
    steps, late, load = _steps_table(report), _late_table(report), _load_table(report)
    return render_template("whatif.html", key=key, current=current, report=report, months=months, seed=seed,
                           max_months=MAX_MONTHS, **_carried(), a=_side(report.in_force), b=_side(report.candidate),
                           steps=steps, late=late, load=load, charts=_charts(report),
                           bottlenecks=report.candidate.bottlenecks, new_bottlenecks=set(report.new_bottlenecks),
                           hours=_hours, one_day=timedelta(days=1))
