"""GET /reports/kpi and /reports/six-clear over a simulated history, against numbers computed by hand
from the raw event rows (tests/support/by_hand.py), with the read permissions and their records."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import text

from api.simulation import Stats
from engine.bootstrap import Landflow
from engine.clock import FixedClock
from tests.support.bpmn_builder import small_procedure
from tests.support.by_hand import COUNTS, History, dossier_level, fold, instant, kpi_rows, rating

PROBLEM = "application/problem+json"
DOSSIER_COUNTS = ("to_process", "done", "done_on_time", "late_done", "late_in_progress")


def counts(row: dict[str, Any]) -> dict[str, int]:
    return {c: row[c] for c in COUNTS if row[c]}


def first_day(h: History, lf: Landflow) -> date:
    return min(instant(d.fields["received_at"]) for d in h.dossiers.values()).astimezone(lf.calendar.tz).date()


def bounds(lf: Landflow, first: date, last: date) -> tuple[datetime, datetime]:
    tz = lf.calendar.tz
    return datetime.combine(first, time(0), tz), datetime.combine(last, time(0), tz)


def check_report(lf: Landflow, body: dict[str, Any], h: History, group_by: str, start: datetime, end: datetime,
                 now: datetime, unit: str | None = None) -> None:
    """Every row and dossier-level number of one response equals the count by hand."""
    assert (body["group_by"], body["unit"]) == (group_by, unit)
    assert (datetime.fromisoformat(body["from"]), datetime.fromisoformat(body["to"])) == (start, end)
    want = kpi_rows(h, group_by, start, end, now, unit)
    assert {r["key"]: counts(r) for r in body["rows"]} == want
    assert [r["key"] for r in body["rows"]] == sorted(want)
    for r in body["rows"]:
        assert r["on_time_rate"] == (r["on_time"] / r["handled"] if r["handled"] else None)
        assert r["sla_use"] == (r["used_minutes"] / r["allowed_minutes"] if r["allowed_minutes"] else None)
        assert r["rating"] == rating(want[r["key"]], lf.settings.kpi_file), r
    overall = dossier_level(h, start, end, now, unit).get("all", dict.fromkeys(DOSSIER_COUNTS, 0))
    assert body["dossiers"][-1]["key"] == "all"
    assert {c: body["dossiers"][-1][c] for c in DOSSIER_COUNTS} == overall
    late = (overall["late_done"] + overall["late_in_progress"]) / overall["to_process"] \
        if overall["to_process"] else None
    points = round(20 * overall["done_on_time"] / overall["done"], 2) if overall["done"] else None
    assert (body["late_rate"], body["points_766"]) == (late, points)
    if group_by in ("procedure", "unit"):
        per = dossier_level(h, start, end, now, unit, by=group_by)
        assert {d["key"]: {c: d[c] for c in DOSSIER_COUNTS} for d in body["dossiers"][:-1]} == per


def csv_rows(resp: Any) -> list[dict[str, Any]]:
    """CSV back into the JSON's types: integers, floats, empty = null; keys and ratings stay text."""
    def value(column: str, cell: str) -> Any:
        if column in ("key", "rating"):
            return cell
        if cell == "":
            return None
        for kind in (int, float):
            try:
                return kind(cell)
            except ValueError:
                pass
        return cell

    reader = csv.DictReader(io.StringIO(resp.get_data(as_text=True)))
    return [{k: value(k, v) for k, v in row.items()} for row in reader]


def audit_refusals(lf: Landflow) -> list[tuple[str, str]]:
    with lf.db.engine.connect() as c:
        rows = c.execute(text("SELECT actor, payload FROM audit_log WHERE type = 'action_refused' ORDER BY seq"))
        return [(actor, json.loads(payload)["action"]) for actor, payload in rows]


def test_kpi_report_equals_a_count_by_hand(sign_in: Any, demo_lf: Landflow, demo_clock: FixedClock,
                                           simulated: Stats) -> None:
    lf = demo_lf
    auditor, supervisor, head = sign_in("auditor"), sign_in("supervisor"), sign_in("head.haichau")
    h = fold(lf.db, lf.calendar)
    now = demo_clock.now()
    first = first_day(h, lf)
    last = now.astimezone(lf.calendar.tz).date() + timedelta(days=1)
    cut = first + (last - first) / 2
    # the simulation leaves something in every column the directive asks about
    whole = kpi_rows(h, "unit", *bounds(lf, first, last), now)
    totals = {c: sum(r.get(c, 0) for r in whole.values()) for c in COUNTS}
    assert all(totals[c] for c in ("handled", "overdue_open", "returns", "reroutes", "refused_attempts",
                                   "idle_claims", "escalations")), totals
    assert 0 < totals["on_time"] < totals["handled"]
    overall = dossier_level(h, *bounds(lf, first, last), now)["all"]
    assert overall["late_in_progress"] and overall["late_done"], overall  # else choose another seed (conftest)

    for group_by in ("officer", "unit", "procedure"):
        for period in ((first, last), (first, cut), (cut, last)):
            resp = auditor.get("/api/v1/reports/kpi", query_string={
                "group_by": group_by, "from": period[0].isoformat(), "to": period[1].isoformat()})
            assert resp.status_code == 200 and resp.mimetype == "application/json", resp.json
            check_report(lf, resp.json, h, group_by, *bounds(lf, *period), now)

    # the defaults: this year up to and including today
    resp = auditor.get("/api/v1/reports/kpi")
    check_report(lf, resp.json, h, "officer", *bounds(lf, date(2026, 1, 1), last), now)

    # CSV: the same rows, by format=csv or by Accept; the dossier level as its own table
    query = {"group_by": "unit", "from": first.isoformat(), "to": last.isoformat()}
    as_json = auditor.get("/api/v1/reports/kpi", query_string=query).json
    resp = auditor.get("/api/v1/reports/kpi", query_string={**query, "format": "csv"})
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert resp.headers["Content-Disposition"] == f'attachment; filename="kpi-unit-{first}-{last}.csv"'
    assert resp.get_data(as_text=True).splitlines()[0] == ",".join(
        ["key", "handled", "on_time", "on_time_rate", "used_minutes", "allowed_minutes", "sla_use", "overdue_open",
         "returns", "reroutes", "ping_pongs", "repeat_supplements", "refused_attempts", "idle_claims", "apologies",
         "escalations", "confirmed_shirking", "justified", "rating"])
    assert csv_rows(resp) == as_json["rows"]
    resp = auditor.get("/api/v1/reports/kpi", query_string={**query, "table": "dossiers"},
                       headers={"Accept": "text/csv"})
    assert resp.mimetype == "text/csv" and csv_rows(resp) == as_json["dossiers"]
    assert auditor.get("/api/v1/reports/kpi", query_string=query,
                       headers={"Accept": "application/json, text/csv;q=0.5"}).mimetype == "application/json"

    # a unit head reads their own unit; a supervisor any unit they name
    resp = head.get("/api/v1/reports/kpi", query_string={**query, "group_by": "officer"})
    assert resp.status_code == 200
    check_report(lf, resp.json, h, "officer", *bounds(lf, first, last), now, unit="20242")
    assert resp.json["rows"] and all(r["key"] in ("-", "desk.haichau", "land.haichau", "chair.haichau")
                                     for r in resp.json["rows"])
    resp = supervisor.get("/api/v1/reports/kpi", query_string={**query, "unit": "CN-KV12"})
    check_report(lf, resp.json, h, "unit", *bounds(lf, first, last), now, unit="CN-KV12")
    assert [r["key"] for r in resp.json["rows"]] == ["CN-KV12"]

    # refused: an officer without the role, and a unit head asking for another unit. Nothing leaks,
    # each attempt is in the audit log and counts as a refused attempt of that officer
    before = {r["key"]: r["refused_attempts"] for r in
              auditor.get("/api/v1/reports/kpi", query_string={**query, "group_by": "officer"}).json["rows"]}
    for who, args, code in (("desk.haichau", {}, "wrong_role"), ("branch.haichau", {"format": "csv"}, "wrong_role"),
                            ("head.haichau", {"unit": "20341"}, "wrong_unit")):
        resp = sign_in(who).get("/api/v1/reports/kpi", query_string={**query, **args})
        assert (resp.status_code, resp.mimetype, resp.json["code"]) == (403, PROBLEM, code)
        assert set(resp.json) == {"type", "title", "status", "detail", "code"}
    assert audit_refusals(lf)[-3:] == [("desk.haichau", "read_kpi"), ("branch.haichau", "read_kpi"),
                                      ("head.haichau", "read_kpi")]
    signals = auditor.get("/api/v1/signals", query_string={"kind": "unauthorised_attempt",
                                                           "officer": "desk.haichau"}).json
    assert signals[0]["dossier"] is None and signals[0]["reason"].startswith("read_kpi: ")
    resp = auditor.get("/api/v1/reports/kpi", query_string={**query, "group_by": "officer"})
    check_report(lf, resp.json, fold(lf.db, lf.calendar), "officer", *bounds(lf, first, last), now)
    after = {r["key"]: r["refused_attempts"] for r in resp.json["rows"]}
    assert after["desk.haichau"] == before.get("desk.haichau", 0) + 1
    assert after["head.haichau"] == before.get("head.haichau", 0) + 1

    # bad periods change nothing and say why
    for bad in ({"from": "2026-03-01", "to": "2026-03-01"}, {"from": "1999-12-31"}, {"to": "2026-02-30"},
                {"group_by": "desk"}, {"format": "xlsx"}):
        resp = auditor.get("/api/v1/reports/kpi", query_string=bad)
        assert (resp.status_code, resp.mimetype) == (422, PROBLEM), bad
    resp = auditor.get("/api/v1/reports/kpi", query_string={"from": "2027-01-01"})  # after the default end
    assert resp.status_code == 422 and "must end after it starts" in resp.json["detail"]


def test_six_clear_report(sign_in: Any) -> None:
    proc = small_procedure()
    verify = next(n for n in proc.nodes if n.id == "verify")
    del verify.props["result"], verify.props["legal_basis"]
    resp = sign_in("supervisor").post("/api/v1/procedures", data=proc.to_xml(),
                                      headers={"Content-Type": "application/xml"})
    assert resp.status_code == 201, resp.json
    resp = sign_in("desk.haichau").get("/api/v1/reports/six-clear")  # about procedures: everyone reads it
    assert resp.status_code == 200
    by_key = {p["procedure"]: p for p in resp.json}
    assert set(by_key) == {p["key"] for p in sign_in("auditor").get("/api/v1/procedures").json}
    steps = [n for n in proc.nodes if n.kind == "user"]
    expected_cells = {n.id: {"people": bool(n.lane), "work": bool(n.name), "results": "result" in n.props,
                             "authority": "legal_basis" in n.props, "progress": "sla" in n.props,
                             "responsibility": True} for n in steps}
    small = by_key["small_test"]
    assert small["steps"] == expected_cells
    assert small["missing"] == ["verify.authority", "verify.results"]
    # six cells a step, and one for the procedure's list of papers (which it has)
    assert small["completeness"] == round((6 * len(steps) - 2 + 1) / (6 * len(steps) + 1), 4)
    assert (small["version"], small["name"]) == (1, proc.name)
    bundled = [p for k, p in by_key.items() if k != "small_test"]
    # 9 procedures and 2 fragments (a fragment is never received: no papers asked of it)
    assert len(bundled) == 11 and all(p["completeness"] == 1.0 and p["missing"] == [] for p in bundled)
