"""Odd input that used to end in a 500 (issue 13, point 5), through the real Flask app on SQLite and
PostgreSQL: each is now a 4xx problem+json (a Vietnamese error page on the pages), and changes nothing.

Conditions of the wrong type, complex results, cursors beyond 2**63, dates at the edges of the calendar,
CR/LF in names that reach Content-Disposition, over-long URLs, malformed If-Match. The live-server side
of long URLs (gunicorn's request-line limit) is in test_slow_clients.py.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from api.app import create_app
from engine.bootstrap import Landflow, build
from engine.clock import FixedClock
from engine.store import AuditEntryRow, CaseEventRow, DossierRow, ProcedureVersionRow
from tests.conftest import local
from tests.support.bpmn_builder import small_procedure
from tests.support.figures import Figures
from tests.web.conftest import sign_in_page

from .conftest import DemoDatabase
from .land import open_body

PROBLEM = "application/problem+json"
EDGES = ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "9999-12-31", "0001-01-01"]


@pytest.fixture
def engine(demo_db: DemoDatabase) -> Iterator[Landflow]:
    lf = build(demo_db.settings(secret_key="odd-input"), clock=FixedClock(local(2026, 3, 3, 9, 0)))
    yield lf
    lf.close()


@pytest.fixture
def app(engine: Landflow) -> Flask:
    return create_app(engine)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def bearer(client: FlaskClient, username: str) -> dict[str, str]:
    resp = client.post("/api/v1/auth/token", json={"username": username, "password": "demo"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return {"Authorization": f"Bearer {resp.json['token']}"}


def assert_problem(resp: Any, status: int | tuple[int, ...], code: str | None = None) -> None:
    statuses = status if isinstance(status, tuple) else (status,)
    assert resp.status_code in statuses, (resp.status_code, resp.get_data(as_text=True)[:300])
    assert resp.mimetype == PROBLEM, resp.mimetype
    body = resp.json
    assert body["status"] == resp.status_code and {"type", "title", "detail"} <= set(body)
    if code is not None:
        assert body.get("code") == code, body


def assert_error_page(resp: Any, status: int, words: str) -> None:
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:300])
    assert resp.mimetype == "text/html"
    assert words in resp.get_data(as_text=True), resp.get_data(as_text=True)[-1500:]


def fingerprint(lf: Landflow) -> tuple[Any, ...]:
    with lf.db.read() as s:
        return (s.execute(select(DossierRow.id, DossierRow.version).order_by(DossierRow.id)).all(),
                s.scalar(select(func.count()).select_from(CaseEventRow)),
                s.scalar(select(func.count()).select_from(AuditEntryRow)),
                s.scalar(select(func.count()).select_from(ProcedureVersionRow)))


def cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


# -- conditions and scripts ----------------------------------------------------------------------------

@pytest.mark.parametrize("odd", ["'abc'['a':'b']", "-'a'", "[1,2][::0]", "(-1)**0.5 > 0"])
def test_a_condition_of_the_wrong_type_is_a_problem_not_a_500(client: FlaskClient, engine: Landflow, odd: str,
                                                              figures: Figures) -> None:
    supervisor = bearer(client, "supervisor")
    proc = small_procedure()
    proc.flows[4].condition = f"eligible == True and {odd}"
    before = fingerprint(engine)
    report = client.post("/api/v1/procedures/validate", data=proc.to_xml(), content_type="application/xml",
                         headers=supervisor)
    assert report.status_code == 200, report.get_data(as_text=True)[:300]
    assert report.json["ok"] is False
    assert any(p["element"] == "f5" and "always fails" in p["message"] for p in report.json["problems"])
    deploy = client.post("/api/v1/procedures", data=proc.to_xml(), content_type="application/xml",
                         headers=supervisor)
    assert_problem(deploy, 422, "invalid_procedure")
    after = fingerprint(engine)
    assert after[0] == before[0] and after[1] == before[1] and after[3] == before[3]  # the audit log records
    figures.add("hostile", 2)


def test_a_complex_result_at_run_time_is_a_refusal_and_stores_nothing(client: FlaskClient, engine: Landflow,
                                                                      figures: Figures) -> None:
    """`fee = (-1) ** area` passes the check (it names data); with area 0.5 it is complex, which no JSON
    holds: the completion is refused as a procedure incident (a defect of the procedure, not the officer's:
    docs/decisions/0060), and the dossier's work stays as it was."""
    supervisor, desk, land = (bearer(client, u) for u in ("supervisor", "desk.haichau", "land.haichau"))
    proc = small_procedure()
    proc.nodes[3].script = "fee = (-1) ** area"
    assert client.post("/api/v1/procedures", data=proc.to_xml(), content_type="application/xml",
                       headers=supervisor).status_code == 201
    opened = client.post("/api/v1/dossiers", json={**open_body(1), "procedure": "small_test"}, headers=desk)
    assert opened.status_code == 201, opened.get_data(as_text=True)
    (receive,) = opened.json["work_items"]
    done = client.post(f"/api/v1/work-items/{receive['id']}/complete", json={"data": {"complete": True}},
                       headers=desk)
    assert done.status_code == 200, done.get_data(as_text=True)
    verify = next(i for i in done.json["work_items"] if i["step"] == "verify" and i["state"] != "done")
    resp = client.post(f"/api/v1/work-items/{verify['id']}/complete",
                       json={"data": {"eligible": True, "area": 0.5}}, headers=land)
    assert_problem(resp, 409, "procedure_incident")
    assert "complex" in resp.json["detail"]
    now = client.get(f"/api/v1/dossiers/{opened.json['id']}", headers=land)
    assert now.json["work_items"] == done.json["work_items"]  # nothing moved (the incident is only recorded)
    events = client.get(f"/api/v1/dossiers/{opened.json['id']}/events", headers=land).json
    assert events[-1]["type"] == "incident_raised" and "action_refused" not in {e["type"] for e in events}
    # and a plain number still goes through
    ok = client.post(f"/api/v1/work-items/{verify['id']}/complete", json={"data": {"eligible": True, "area": 2}},
                     headers=land)
    assert ok.status_code == 200, ok.get_data(as_text=True)
    figures.add("hostile")
    figures.add("refusals_checked")


# -- cursors and ids beyond 2**63 ------------------------------------------------------------------

LISTS = [("/api/v1/dossiers", "auditor", [2**63]), ("/api/v1/signals", "auditor", [2**63]),
         ("/api/v1/checkpoints", "auditor", [2**64]), ("/api/v1/audit/verify", "auditor", [-(2**63) - 1]),
         ("/api/v1/worklist", "desk.haichau", ["2026-03-03T02:00:00.000000Z", 2**63])]


@pytest.mark.parametrize(("path", "who", "key"), LISTS, ids=[p for p, _, _ in LISTS])
def test_a_cursor_beyond_64_bits_is_a_400(client: FlaskClient, engine: Landflow, path: str, who: str,
                                          key: list[Any], figures: Figures) -> None:
    headers = bearer(client, who)
    before = fingerprint(engine)
    assert_problem(client.get(path, query_string={"cursor": cursor(key)}, headers=headers), 400, "invalid_cursor")
    assert client.get(path, query_string={"cursor": cursor([*key[:-1], 5])}, headers=headers).status_code == 200
    assert fingerprint(engine) == before
    figures.add("hostile")


def test_before_beyond_64_bits_on_the_pages_is_a_400_page(client: FlaskClient, figures: Figures) -> None:
    sign_in_page(client, "auditor")
    for path in ("/audit/dossiers", "/audit/signals"):
        for before in (2**63, 10**30, -(2**63) - 1):
            assert_error_page(client.get(path, query_string={"before": before}, headers={"Accept": "text/html"}),
                              400, "nằm ngoài phạm vi cho phép")
        assert client.get(path, query_string={"before": 12}).status_code == 200
    for query in ({"v": 2**64}, {"v": 10**30}):
        assert client.get("/procedures/land_transfer", query_string=query).status_code == 404
    assert client.get("/procedures/land_transfer/diff", query_string={"from": 2**64, "to": 1}).status_code == 404
    figures.add("hostile", 9)


# -- dates at the edges of the calendar ------------------------------------------------------------

@pytest.mark.parametrize("edge", EDGES)
def test_dates_at_the_edges_of_the_calendar_are_4xx(client: FlaskClient, engine: Landflow, edge: str,
                                                    figures: Figures) -> None:
    auditor, desk = bearer(client, "auditor"), bearer(client, "desk.haichau")
    opened = client.post("/api/v1/dossiers", json=open_body(2), headers=desk).json
    before = fingerprint(engine)
    day = edge[:10]
    for path, query in [("/api/v1/signals", {"since": edge}), ("/api/v1/reports/kpi", {"from": day}),
                        ("/api/v1/reports/kpi", {"to": day}), ("/api/v1/reports/kpi", {"from": day, "format": "csv"}),
                        ("/api/v1/audit/export.xes", {"from": day}), ("/api/v1/audit/export.ocel.json", {"to": day}),
                        ("/api/v1/reports/kpi", {"from": "2026-01-01", "to": day})]:
        assert_problem(client.get(path, query_string=query, headers=auditor), (400, 422))
    apology = client.post(f"/api/v1/dossiers/{opened['id']}/apologise", json={"reason": "trễ hạn", "new_due": edge},
                          headers=desk)
    assert_problem(apology, (400, 422))
    assert fingerprint(engine)[:2] == before[:2]
    item = opened["work_items"][0]["id"]  # a refused decision document is recorded (action_refused), as ever
    assert_problem(client.get(f"/api/v1/work-items/{item}/decision", query_string={"signed_at": edge},
                              headers=desk), (400, 422))
    assert fingerprint(engine)[0] == before[0]
    # the pages
    sign_in_page(client, "auditor")
    for path, query in [("/audit/dossiers", {"from": day}), ("/audit/dossiers", {"to": day}),
                        ("/audit/signals", {"since": day}), ("/audit/kpi", {"from": day}),
                        ("/audit/kpi", {"to": day}), ("/audit/kpi", {"from": day, "to": day})]:
        resp = client.get(path, query_string=query, headers={"Accept": "text/html"})
        assert_error_page(resp, 400, "nằm ngoài phạm vi cho phép")
    figures.add("hostile", 15)


# -- names that reach Content-Disposition ----------------------------------------------------------

@pytest.mark.parametrize("name", ["a\r\nSet-Cookie: x=1", "a\nb", "a\rb", 'a";filename="x.html'])
def test_cr_lf_in_a_file_name_is_a_422(client: FlaskClient, name: str, figures: Figures) -> None:
    auditor = bearer(client, "auditor")
    for path in ("/api/v1/audit/export.xes", "/api/v1/audit/export.ocel.json"):
        resp = client.get(path, query_string={"procedure": name}, headers=auditor)
        assert_problem(resp, 422, "invalid_request")
        assert "Set-Cookie" not in resp.headers and "Content-Disposition" not in resp.headers
    assert client.get("/api/v1/audit/export.xes", query_string={"procedure": "land_transfer"},
                      headers=auditor).status_code == 200
    # a procedure key in the path names no procedure: 404 before any file name is built
    quoted = quote(name, safe="")
    assert_problem(client.get(f"/api/v1/procedures/{quoted}/versions/1/bpmn", headers=auditor), 404)
    sign_in_page(client, "auditor")
    page = client.get(f"/procedures/{quoted}/v1.bpmn", headers={"Accept": "text/html"})
    assert page.status_code == 404 and "Content-Disposition" not in page.headers
    figures.add("hostile", 4)


# -- over-long URLs, malformed If-Match -------------------------------------------------------------

def test_an_over_long_url_is_a_414_problem_before_anything_else(client: FlaskClient, figures: Figures) -> None:
    auditor = bearer(client, "auditor")
    long = "x" * 9000
    assert_problem(client.get("/api/v1/dossiers", query_string={"code": long}, headers=auditor), 414)
    assert_problem(client.get("/api/v1/dossiers", query_string={"code": long}), 414)  # before the 401
    assert_problem(client.get("/api/v1/" + long), 414)
    sign_in_page(client, "auditor")
    # a long URL under the cap is served (the API refuses unknown parameters, so the padding goes to a page)
    assert client.get("/audit/dossiers", query_string={"code": "x" * 60, "pad": "y" * 7000}).status_code == 200
    assert_error_page(client.get("/audit/dossiers", query_string={"code": long}, headers={"Accept": "text/html"}),
                      414, "quá dài")
    figures.add("hostile", 4)


@pytest.mark.parametrize("tag", ["abc", '"abc', 'W/"', '"1" junk', "1.5", '"1"x"2"', "\"1\",,"])
def test_a_malformed_if_match_is_a_400_and_records_nothing(client: FlaskClient, engine: Landflow, tag: str,
                                                           figures: Figures) -> None:
    desk = bearer(client, "desk.haichau")
    opened = client.post("/api/v1/dossiers", json=open_body(3), headers=desk).json
    item = opened["work_items"][0]["id"]
    before = fingerprint(engine)
    assert_problem(client.post(f"/api/v1/work-items/{item}/claim", headers={**desk, "If-Match": tag}), 400,
                   "invalid_if_match")
    assert fingerprint(engine) == before
    # a well-formed tag that is no version of this dossier stays a 412 (recorded), the right one a 200
    assert_problem(client.post(f"/api/v1/work-items/{item}/claim", headers={**desk, "If-Match": '"999"'}), 412,
                   "stale_version")
    current = client.get(f"/api/v1/dossiers/{opened['id']}", headers=desk).headers["ETag"]
    assert client.post(f"/api/v1/work-items/{item}/claim", headers={**desk, "If-Match": current}).status_code == 200
    figures.add("hostile")
