"""Every error is application/problem+json; a 500 hides its traceback; the docs load nothing remote."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine import queries

PROBLEM = "application/problem+json"


def assert_problem(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == PROBLEM
    body = resp.json
    assert {"type", "title", "status", "detail"} <= set(body) and body["status"] == status
    return body


def test_flask_and_webargs_errors_are_problems(client: FlaskClient, sign_in: Any) -> None:
    assert_problem(client.get("/api/v1/nowhere"), 404)
    assert_problem(client.get("/nowhere/at/all"), 404)
    resp = client.delete("/api/v1/health")
    assert_problem(resp, 405)
    assert "GET" in resp.headers["Allow"]
    body = assert_problem(client.post("/api/v1/auth/token", data="{", content_type="application/json"), 400)
    assert body["detail"]
    desk = sign_in("desk.haichau")
    body = assert_problem(desk.post("/api/v1/dossiers", json={"procedure": 5, "applicant": {}}), 422)
    assert body["code"] == "invalid_request"
    elements = {p["element"] for p in body["problems"]}
    assert {"json.procedure", "json.commune", "json.applicant.name"} <= elements
    body = assert_problem(desk.get("/api/v1/dossiers", query_string={"limit": 100_000}), 422)
    assert any(p["element"] == "query.limit" for p in body["problems"])
    body = assert_problem(desk.get("/api/v1/dossiers", query_string={"cursor": "not-a-cursor"}), 400)
    assert body["code"] == "invalid_cursor"
    assert_problem(desk.get("/api/v1/dossiers/99999"), 404)
    assert_problem(desk.get("/api/v1/dossiers/0"), 404)


def test_engine_refusals_carry_code_and_problems(sign_in: Any) -> None:
    desk = sign_in("desk.haichau")
    resp = desk.post("/api/v1/dossiers", json={"procedure": "land_transfer", "commune": "CN-KV01",
                                               "applicant": {"name": "A"}})
    assert assert_problem(resp, 422)["code"] == "invalid_data"
    dossier = desk.post("/api/v1/dossiers", json={"procedure": "land_transfer", "commune": "20242",
                                                  "applicant": {"name": "A"}}).json
    item = dossier["work_items"][0]["id"]
    body = assert_problem(desk.post(f"/api/v1/work-items/{item}/complete", json={"data": {"kind": "gift"}}), 422)
    assert body["code"] == "invalid_data"
    assert {(p["element"], p["rule"]) for p in body["problems"]} >= {("decision", "invalid_data"),
                                                                      ("kind", "invalid_data")}
    assert assert_problem(desk.post(f"/api/v1/work-items/{item}/release"), 409)["code"] == "not_claimed"
    assert assert_problem(desk.post(f"/api/v1/work-items/{item}/return", json={"to_step": "receive"}),
                          422)["code"] == "missing_reason"
    assert assert_problem(desk.post("/api/v1/work-items/987654/claim"), 404)["code"] == "not_found"


def test_a_500_shows_no_traceback(client: FlaskClient, sign_in: Any, monkeypatch: pytest.MonkeyPatch,
                                  caplog: pytest.LogCaptureFixture) -> None:
    def broken(*_a: Any, **_k: Any) -> None:
        raise RuntimeError("secret internals /srv/landflow/engine/queries.py line 42")

    desk = sign_in("desk.haichau")
    monkeypatch.setattr(queries, "units", broken)
    body = assert_problem(desk.get("/api/v1/units"), 500)
    text = str(body)
    assert "Traceback" not in text and "secret internals" not in text and "queries.py" not in text
    incident = re.search(r"incident ([0-9a-f]{12})", body["detail"])
    assert incident and incident[1] in caplog.text and "secret internals" in caplog.text


def test_unauthenticated_calls_are_401_problems(client: FlaskClient) -> None:
    for path in ("/api/v1/units", "/api/v1/worklist", "/api/v1/dossiers/1", "/api/v1/signals"):
        resp = client.get(path)
        body = assert_problem(resp, 401)
        assert body["code"] == "unauthenticated" and resp.headers["WWW-Authenticate"].startswith("Bearer")
    body = assert_problem(client.get("/api/v1/units", headers={"Authorization": "Bearer nope"}), 401)
    assert body["code"] == "invalid_token"
    assert client.get("/api/v1/health").json["status"] == "ok"


def test_swagger_ui_is_served_from_this_server(app: Flask, client: FlaskClient) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(assets) == 3 and not re.search(r"https?://|//cdn|unpkg|jsdelivr", html)
    for url in assets:
        assert url.startswith("/api/docs/assets/")
        resp = client.get(url)
        assert resp.status_code == 200 and len(resp.data) > 10_000, url
    bundle = client.get("/api/docs/assets/swagger-ui-bundle.js").get_data(as_text=True)
    assert "SwaggerUIBundle" in bundle
    spec_url = re.search(r'url: "([^"]+)"', html)
    assert spec_url and spec_url[1] == "/api/v1/openapi.json"
    spec = client.get(spec_url[1]).json
    assert spec["openapi"].startswith("3.") and "/api/v1/dossiers/{dossier_id}" in spec["paths"]
    assert spec["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    assert client.get("/api/docs/assets/../../app.py").status_code == 404
    assert client.get("/api/docs/assets/index.css").status_code == 404
