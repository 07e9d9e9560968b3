"""Reviews of signals (explanation → verdict), absences with a deputy, and delay causes.

The engine decides and records (engine/reviews.py, engine/absences.py): a refusal is an
`action_refused` entry of the audit log and answers problem+json with its stable `code`.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from flask_smorest import Blueprint
from sqlalchemy import select

from engine import reviews as rv
from engine.absences import Absences, absence_values
from engine.delay_causes import delay_causes
from engine.store import AbsenceRow, ReviewRow

from ..auth import current_officer, engine
from ..problems import ApiProblem
from ..schemas.accountability import (
    AbsenceInSchema,
    AbsenceSchema,
    DelayArgsSchema,
    DelayReportSchema,
    ExplanationSchema,
    ReviewFilterSchema,
    ReviewOpenSchema,
    ReviewSchema,
    VerdictSchema,
)
from .reports import catch_up_facts, period
from .views import report_unit

blp = Blueprint("accountability", __name__,
                description="Reviews of signals (explanation and verdict), absences, delay causes")


def review_dict(s: Any, row: ReviewRow, with_entries: bool = False) -> dict[str, Any]:
    out = rv.row_values(row)
    out["signal_dossier"] = out.pop("signal_dossier_id")
    out["signal_dossier_code"] = rv.dossier_code(s, row.signal_dossier_id)
    if with_entries:
        out["entries"] = [{"seq": e.seq, "type": e.type, "actor": e.actor, "at": e.at, "hash": e.hash,
                           "payload": json.loads(e.payload)} for e in rv.entries(s, row)]
    return out


def _readable(review_id: int) -> dict[str, Any]:
    officer = current_officer()
    with engine().db.read() as s:
        row = s.get(ReviewRow, review_id)
        if row is None or not rv.may_read(officer, row):
            raise ApiProblem(404, "not_found", f"review {review_id} does not exist or is not yours to read")
        return review_dict(s, row, with_entries=True)


@blp.route("/reviews", methods=["GET"])
@blp.arguments(ReviewFilterSchema, location="query")
@blp.response(200, ReviewSchema(many=True))
def list_reviews(args: dict[str, Any]) -> list[dict[str, Any]]:
    """Newest first. Inspectors, auditors and supervisors read every review; a unit head those of their
    unit; an officer those about them."""
    with engine().db.read() as s:
        rows = rv.reviews(s, current_officer(), state=args.get("state"), unit=args.get("unit"),
                          about=args.get("officer"), limit=args["limit"])
        return [review_dict(s, r) for r in rows]


@blp.route("/reviews", methods=["POST"])
@blp.arguments(ReviewOpenSchema)
@blp.response(201, ReviewSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def open_review(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Open a review of one signal (the head of the unit it is about, or an inspector). The officer
    concerned then has `LANDFLOW_EXPLANATION_LIMIT` of working time to explain."""
    key = rv.SignalKey(body["dossier"], body["seq"], body["kind"])
    row = rv.Reviews.of(engine()).open(current_officer(), key, body["note"])
    return _readable_after(row.id), 201


def _readable_after(review_id: int) -> dict[str, Any]:
    with engine().db.read() as s:
        row = s.get(ReviewRow, review_id)
        assert row is not None
        return review_dict(s, row, with_entries=True)


@blp.route("/reviews/<id:review_id>", methods=["GET"])
@blp.response(200, ReviewSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_review(review_id: int) -> dict[str, Any]:
    """One review with its entries in the audit log (hash-chained)."""
    return _readable(review_id)


@blp.route("/reviews/<id:review_id>/explanation", methods=["POST"])
@blp.arguments(ExplanationSchema)
@blp.response(200, ReviewSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def explain(body: dict[str, Any], review_id: int) -> dict[str, Any]:
    """The explanation (giải trình) of the officer concerned; once, before the verdict."""
    rv.Reviews.of(engine()).explain(current_officer(), review_id, body["explanation"])
    return _readable_after(review_id)


@blp.route("/reviews/<id:review_id>/verdict", methods=["POST"])
@blp.arguments(VerdictSchema)
@blp.response(200, ReviewSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def decide(body: dict[str, Any], review_id: int) -> dict[str, Any]:
    """The verdict of the unit's head or an inspector: `justified` with its cause, or
    `shirking_confirmed`; with a reason; after the explanation or its limit."""
    rv.Reviews.of(engine()).decide(current_officer(), review_id, body["verdict"], body["reason"], body["cause"])
    return _readable_after(review_id)


@blp.route("/absences", methods=["GET"])
@blp.response(200, AbsenceSchema(many=True))
def list_absences() -> list[dict[str, Any]]:
    """Absences not yet over; a unit head and an ordinary officer see their unit's."""
    lf = engine()
    officer = current_officer()
    with lf.db.read() as s:
        q = select(AbsenceRow).where(AbsenceRow.ends_at > lf.clock.now()).order_by(AbsenceRow.starts_at)
        if not (rv.sees_all(officer) or "admin" in officer.roles):
            q = q.where(AbsenceRow.unit == officer.unit)
        return [absence_values(a) for a in s.scalars(q)]


@blp.route("/absences", methods=["POST"])
@blp.arguments(AbsenceInSchema)
@blp.response(201, AbsenceSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def record_absence(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Record an officer's absence (the unit's head or an admin) with a deputy of the same unit and
    roles; the absent officer's open items go to the deputy (`substituted`) while it lasts."""
    row = Absences(engine()).record(current_officer(), body["officer"], body["deputy"], body["from_"], body["to"],
                                    body["reason"])
    return absence_values(row), 201


@blp.route("/reports/delay-causes", methods=["GET"])
@blp.arguments(DelayArgsSchema, location="query")
@blp.response(200, DelayReportSchema)
@blp.alt_response(403, response="FORBIDDEN")
def delay_report(args: dict[str, Any]) -> dict[str, Any]:
    """Late items' delay per officer or unit, attributed to the applicant, another agency, the officer
    or unit, or a procedure incident (docs/accountability.md). Read as the KPI is."""
    lf = engine()
    unit = report_unit("kpi", "read_kpi", args.get("unit"))
    now = lf.clock.now()
    today = now.astimezone(lf.calendar.tz).date()
    start, end = period(args, date(today.year, 1, 1), today + timedelta(days=1))
    assert start is not None and end is not None
    catch_up_facts()
    with lf.db.read() as s:
        rows, _items = delay_causes(s, lf.calendar, args["group_by"], start, end, now, unit)
    return {"group_by": args["group_by"], "from_": start, "to": end, "unit": unit, "rows": [r.as_dict() for r in rows]}
