"""KPI reports (per officer, unit or procedure and period) and the "6 clear" completeness of procedures.

Who reads what is decided in engine/queries.py (`report_unit`): auditors and supervisors the whole
organisation (or one unit they name), unit heads their own unit; anyone else is refused (403) and the
attempt recorded. The numbers are engine/kpi.py's; this module only chooses the period, catches up
the KPI facts (the sweep does it every minute; a report must not miss the last minute's items) and
writes JSON or CSV.
"""

from __future__ import annotations

import contextlib
import csv
import io
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Response, request
from flask_smorest import Blueprint
from sqlalchemy.exc import IntegrityError

from engine.kpi import RatingRules, kpi_report, six_clear
from engine.kpi_facts import refresh_item_facts

from ..auth import engine
from ..disposition import content_disposition
from ..problems import ApiProblem
from ..schemas.reports import DossierKpiSchema, KpiArgsSchema, KpiReportSchema, KpiRowSchema, SixClearSchema
from .views import report_unit

blp = Blueprint("reports", __name__, description="KPI and '6 clear' reports (auditors, supervisors, unit heads)")
ROW_COLUMNS = tuple(KpiRowSchema().fields)
DOSSIER_COLUMNS = tuple(DossierKpiSchema().fields)
CSV = "text/csv"


def period(args: dict[str, Any], default_from: date | None = None,
           default_to: date | None = None) -> tuple[datetime | None, datetime | None]:
    """[from 00:00, to 00:00) in the calendar's zone; a missing bound takes its default (None: open)."""
    tz = engine().calendar.tz
    first, last = args.get("from_", default_from), args.get("to", default_to)
    if first is not None and last is not None and last <= first:
        raise ApiProblem(422, "invalid_request", f"the period must end after it starts ({first} → {last})")
    return (datetime.combine(first, time(0), tz) if first else None,
            datetime.combine(last, time(0), tz) if last else None)


def catch_up_facts() -> None:
    """KPI facts of items closed since the last sweep. Two readers at once may race to add the same
    fact: the loser's insert fails on the key, and the winner's rows are what it wanted."""
    lf = engine()
    with contextlib.suppress(IntegrityError):
        refresh_item_facts(lf.db, lf.calendar, lf.clock.now())


def wants_csv(args: dict[str, Any]) -> bool:
    if "format" in args:
        return bool(args["format"] == "csv")
    return request.accept_mimetypes.best_match(["application/json", CSV]) == CSV


def _cell(value: Any) -> Any:
    """A CSV cell; text that a spreadsheet would run as a formula is quoted with a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_response(rows: list[dict[str, Any]], columns: tuple[str, ...], filename: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return Response(out.getvalue(), mimetype=CSV,
                    headers={"Content-Disposition": content_disposition(filename)})


@blp.route("/reports/kpi", methods=["GET"])
@blp.arguments(KpiArgsSchema, location="query")
@blp.response(200, KpiReportSchema)
@blp.alt_response(200, schema={"type": "string"}, content_type=CSV, success=True,
                  description="the KPI report; as CSV with `format=csv` or `Accept: text/csv`",
                  headers={"Content-Disposition": {"schema": {"type": "string"},
                                                   "description": "CSV only: the file name"}})
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def kpi(args: dict[str, Any]) -> Any:
    """KPI per officer, unit or procedure for a period of local days [from, to): handled items, on-time
    rate, working time used against the SLA, overdue open items, returns, re-routings, ping-pongs,
    repeat supplement requests, refused attempts, idle claims, apologies, escalations and the rating
    level (config/kpi.toml); at dossier level the late rate and the Decision 766 points.

    Auditors and supervisors: everything, or `unit=`; unit heads: their own unit. `format=csv` (or
    `Accept: text/csv`) gives the rows as CSV (`table=dossiers`: the dossier level)."""
    lf = engine()
    unit = report_unit("kpi", "read_kpi", args.get("unit"))
    now = lf.clock.now()
    today = now.astimezone(lf.calendar.tz).date()
    start, end = period(args, date(today.year, 1, 1), today + timedelta(days=1))
    assert start is not None and end is not None
    catch_up_facts()
    with lf.db.read() as s:
        report = kpi_report(s, args["group_by"], start, end, now, RatingRules.load(lf.settings.kpi_file), unit)
    rows = [r.as_dict() for r in report.rows]
    dossiers = [d.as_dict() for d in report.dossiers]
    if wants_csv(args):
        table = args["table"]
        name = f"kpi-{args['group_by'] if table == 'rows' else 'dossiers'}-{start.date()}-{end.date()}" + \
            (f"-{unit}" if unit else "") + ".csv"
        if table == "rows":
            return csv_response(rows, ROW_COLUMNS, name)
        return csv_response(dossiers, DOSSIER_COLUMNS, name)
    overall = report.dossiers[-1]
    return {"group_by": report.group_by, "from_": start, "to": end, "unit": unit, "generated_at": now,
            "rows": rows, "dossiers": dossiers, "late_rate": overall.late_rate, "points_766": overall.points_766}


@blp.route("/reports/six-clear", methods=["GET"])
@blp.response(200, SixClearSchema(many=True))
def six_clear_report() -> list[dict[str, Any]]:
    """The "6 clear" completeness (Directive 04/CT-UBND) of the latest version of each deployed
    procedure: per step people, work, results, authority, progress, responsibility. It describes
    procedures, which every officer reads, so every signed-in officer may read it."""
    with engine().db.read() as s:
        return six_clear(s)
