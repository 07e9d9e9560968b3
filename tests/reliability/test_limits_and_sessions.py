"""Input limits and sessions, through the real Flask app on SQLite and PostgreSQL: body and upload caps,
pagination caps, JSON depth, sign-in throttling, token expiry and revocation, security headers,
password and token storage, demo accounts outside demo mode.

CSRF: the API authenticates with bearer tokens sent by the client, never with cookies (checked by
test_no_cookie_is_ever_set), so a forged cross-site request cannot carry a credential there. The
pages' session cookie and their forms' CSRF tokens are tested in test_pages_security.py.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from api.app import create_app
from engine.bootstrap import Landflow
from engine.clock import FixedClock
from engine.store import ApiTokenRow, OfficerRow
from tests.conftest import local
from tests.support.figures import Figures

from .conftest import DemoDatabase

PROBLEM = "application/problem+json"
OPEN = {"procedure": "land_transfer", "commune": "20242", "applicant": {"name": "Trần Văn Bình", "id_number": "1"},
        "parcel": {"sheet": "3", "number": "77"}, "data": {}}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(local(2026, 3, 2, 8, 0))


@pytest.fixture
def engine(demo_db: DemoDatabase, clock: FixedClock) -> Iterator[Landflow]:
    from engine.bootstrap import build

    lf = build(demo_db.settings(login_rate="5/minute"), clock=clock)
    yield lf
    lf.close()


@pytest.fixture
def app(engine: Landflow) -> Flask:
    return create_app(engine)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def token(client: FlaskClient, username: str, password: str = "demo") -> dict[str, str]:
    resp = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return {"Authorization": f"Bearer {resp.json['token']}"}


def assert_problem(resp: Any, status: int, code: str | None = None) -> None:
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:300])
    assert resp.mimetype == PROBLEM
    body = resp.json
    assert body["status"] == status and {"type", "title", "detail"} <= set(body)
    assert "Traceback" not in resp.get_data(as_text=True)
    if code is not None:
        assert body.get("code") == code, body


def test_body_caps_refuse_before_parsing(client: FlaskClient, engine: Landflow, figures: Figures) -> None:
    desk, supervisor = token(client, "desk.haichau"), token(client, "supervisor")
    cap = engine.settings.max_body_bytes
    # a JSON body over the JSON cap: 413 from Content-Length, whatever it holds
    big = json.dumps({**OPEN, "parcel": {"note": "x" * cap}})
    assert_problem(client.post("/api/v1/dossiers", data=big, content_type="application/json", headers=desk), 413)
    # the same bytes are not even valid JSON once cut: still 413, never a parse error
    assert_problem(client.post("/api/v1/dossiers", data=big[: cap + 10], content_type="application/json",
                               headers=desk), 413)
    # uploads have their own, larger cap: a 3 MB file passes the body cap and is refused by the file rule
    three_mb = b"<?xml version='1.0'?><definitions>" + b" " * 3_000_000 + b"</definitions>"
    resp = client.post("/api/v1/procedures/validate", data=three_mb, content_type="application/xml",
                       headers=supervisor)
    assert resp.status_code == 200 and resp.json["ok"] is False
    assert [p["rule"] for p in resp.json["problems"]] == ["xml.size"]
    over = b" " * (engine.settings.max_bpmn_bytes * 4 + 1)
    assert_problem(client.post("/api/v1/procedures", data=over, content_type="application/xml",
                               headers=supervisor), 413)
    # and no dossier came of any of it
    listed = client.get("/api/v1/dossiers", headers=desk)
    assert listed.status_code == 200 and listed.json == []
    figures.add("hostile", 4)


@pytest.mark.parametrize(("path", "cap"), [("/api/v1/dossiers", 200), ("/api/v1/signals", 200),
                                           ("/api/v1/worklist", 500), ("/api/v1/dossiers/1/events", 1000)])
def test_pagination_caps(client: FlaskClient, engine: Landflow, path: str, cap: int) -> None:
    auditor = token(client, "auditor")
    desk = token(client, "desk.haichau")
    client.post("/api/v1/dossiers", json=OPEN, headers=desk)
    who = desk if "worklist" in path else auditor
    assert client.get(path, query_string={"limit": cap}, headers=who).status_code == 200
    for bad in (cap + 1, 10**12, 0, -1, "all"):
        resp = client.get(path, query_string={"limit": bad}, headers=who)
        assert_problem(resp, 422, "invalid_request")
        assert resp.json["problems"][0]["element"].endswith("limit")
    if "events" in path:  # events page by seq (`after`), not by an opaque cursor
        assert_problem(client.get(path, query_string={"after": -1}, headers=who), 422)
    else:
        assert_problem(client.get(path, query_string={"cursor": "x" * 201}, headers=who), 422)
        assert_problem(client.get(path, query_string={"cursor": "forged"}, headers=who), 400)


def test_deeply_nested_json_is_refused_not_a_crash(client: FlaskClient, figures: Figures) -> None:
    desk = token(client, "desk.haichau")
    hostile = {
        "arrays": "[" * 100_000 + "]" * 100_000,
        "objects": '{"a":' * 50_000 + "1" + "}" * 50_000,
        "in_parcel": json.dumps({**OPEN, "parcel": json.loads('{"a":' * 40 + "1" + "}" * 40)}),
        "in_data": json.dumps({"data": json.loads("[" * 33 + "]" * 33)}),
    }
    for name, body in hostile.items():
        path = "/api/v1/work-items/1/complete" if name == "in_data" else "/api/v1/dossiers"
        resp = client.post(path, data=body, content_type="application/json", headers=desk)
        assert_problem(resp, 400, "invalid_json")
    # anonymous too, on the public sign-in
    resp = client.post("/api/v1/auth/token", data='{"username":' + "[" * 100_000, content_type="application/json")
    assert_problem(resp, 400, "invalid_json")
    # a reasonably nested parcel still works (the cap is about depth, not about having structure)
    ok = client.post("/api/v1/dossiers", json={**OPEN, "parcel": {"sheet": "3", "corners": [[1, 2], [3, 4]]}},
                     headers=desk)
    assert ok.status_code == 201, ok.json
    # malformed JSON stays a 400 from the schema layer
    assert_problem(client.post("/api/v1/dossiers", data="{not json", content_type="application/json",
                               headers=desk), 400)
    figures.add("hostile", len(hostile) + 2)


def test_sign_in_throttling(client: FlaskClient, caplog: pytest.LogCaptureFixture, figures: Figures) -> None:
    caplog.set_level(logging.INFO, logger="landflow.api")
    for _ in range(20):  # successful sign-ins never count
        token(client, "land.haichau")
    for _ in range(5):
        assert_problem(client.post("/api/v1/auth/token", json={"username": "desk.haichau", "password": "guess"}),
                       401, "invalid_credentials")
    for password in ("guess", "demo"):  # over the limit: even the right password waits
        resp = client.post("/api/v1/auth/token", json={"username": "desk.haichau", "password": password})
        assert_problem(resp, 429)
    # another username from the same address is not locked out by someone guessing desk.haichau
    token(client, "branch.haichau")
    failed = [r for r in caplog.records if "failed sign-in for 'desk.haichau'" in r.getMessage()]
    assert len(failed) == 5
    figures.add("hostile", 7)
    figures.add("refusals_checked", 7)


def test_tokens_expire_and_are_revocable(client: FlaskClient, engine: Landflow, clock: FixedClock,
                                         caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="landflow.api")
    desk = token(client, "desk.haichau")
    assert client.get("/api/v1/auth/me", headers=desk).status_code == 200
    clock.advance(hours=engine.settings.token_hours, seconds=-1)
    assert client.get("/api/v1/auth/me", headers=desk).status_code == 200
    clock.advance(seconds=1)
    expired = client.get("/api/v1/auth/me", headers=desk)
    assert_problem(expired, 401, "invalid_token")
    assert expired.headers["WWW-Authenticate"].startswith("Bearer")
    assert_problem(client.post("/api/v1/dossiers", json=OPEN, headers=desk), 401, "invalid_token")

    fresh, other = token(client, "desk.haichau"), token(client, "desk.haichau")
    assert client.post("/api/v1/auth/revoke", headers=fresh).status_code == 204
    assert_problem(client.get("/api/v1/auth/me", headers=fresh), 401, "invalid_token")
    assert client.get("/api/v1/auth/me", headers=other).status_code == 200  # only that token
    # revoking someone else's token is refused and changes nothing
    land = token(client, "land.haichau")
    resp = client.post("/api/v1/auth/revoke", json={"token": land["Authorization"][7:]}, headers=other)
    assert_problem(resp, 404)
    assert client.get("/api/v1/auth/me", headers=land).status_code == 200
    # deactivation and a new password revoke every token of the officer
    admin = token(client, "admin")
    assert client.post("/api/v1/officers/land.haichau/deactivate", headers=admin).status_code == 200
    assert_problem(client.get("/api/v1/auth/me", headers=land), 401, "invalid_token")
    assert client.post("/api/v1/officers/desk.haichau/password", json={"password": "new-secret-1"},
                       headers=admin).status_code == 204
    assert_problem(client.get("/api/v1/auth/me", headers=other), 401, "invalid_token")
    # garbage and missing tokens
    for header in ({"Authorization": "Bearer " + "A" * 43}, {"Authorization": "Basic ZGVzazpkZW1v"}, {}):
        assert_problem(client.get("/api/v1/worklist", headers=header), 401)
    rejected = [r for r in caplog.records if r.getMessage().startswith("rejected bearer token")]
    assert len(rejected) >= 6 and all("127.0.0.1" in r.getMessage() for r in rejected)


def test_security_headers_on_every_kind_of_response(client: FlaskClient) -> None:
    desk = token(client, "desk.haichau")
    responses = {
        "json": client.get("/api/v1/worklist", headers=desk),
        "problem": client.post("/api/v1/work-items/999999/claim", headers=desk),
        "unauthenticated": client.get("/api/v1/worklist"),
        "unknown route": client.get("/api/v1/nowhere"),
        "public": client.get("/api/v1/health"),
        "openapi": client.get("/api/v1/openapi.json"),
    }
    for name, resp in responses.items():
        h = resp.headers
        assert h["X-Content-Type-Options"] == "nosniff", name
        assert h["X-Frame-Options"] == "DENY", name
        assert h["Referrer-Policy"] == "no-referrer", name
        assert "default-src 'none'" in h["Content-Security-Policy"], name
        assert "frame-ancestors 'none'" in h["Content-Security-Policy"], name
        if name != "openapi":
            assert h["Cache-Control"] == "no-store", name
        assert "Strict-Transport-Security" not in h  # plain HTTP here
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and docs.mimetype == "text/html"
    csp = docs.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "http" not in csp
    assert docs.headers["X-Frame-Options"] == "DENY"
    secure = client.get("/api/v1/health", base_url="https://landflow.example")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


def test_no_cookie_is_ever_set(client: FlaskClient) -> None:
    resp = client.post("/api/v1/auth/token", json={"username": "desk.haichau", "password": "demo"})
    assert resp.status_code == 200 and "Set-Cookie" not in resp.headers
    headers = {"Authorization": f"Bearer {resp.json['token']}"}
    for path in ("/api/v1/worklist", "/api/v1/auth/me", "/api/docs"):
        assert "Set-Cookie" not in client.get(path, headers=headers).headers


def test_passwords_and_tokens_are_stored_hashed(client: FlaskClient, engine: Landflow) -> None:
    admin = token(client, "admin")
    secret = "đúng-mật-khẩu-2026"
    resp = client.post("/api/v1/officers", json={"username": "new.officer", "name": "Cán bộ Mới", "unit": "20242",
                                                 "roles": ["one_stop_desk"], "password": secret}, headers=admin)
    assert resp.status_code == 201, resp.json
    issued = client.post("/api/v1/auth/token", json={"username": "new.officer", "password": secret}).json["token"]
    with engine.db.read() as s:
        stored = s.scalar(select(OfficerRow.password_hash).where(OfficerRow.username == "new.officer"))
        demo = s.scalar(select(OfficerRow.password_hash).where(OfficerRow.username == "desk.haichau"))
        tokens = s.scalars(select(ApiTokenRow.token_hash)).all()
    assert stored is not None and stored.startswith("scrypt:") and secret not in stored
    assert demo is not None and demo.startswith("scrypt:")
    assert issued not in tokens and all(len(t) == 64 for t in tokens)
    assert_problem(client.post("/api/v1/auth/token", json={"username": "new.officer", "password": stored}), 401)


def test_demo_accounts_are_refused_outside_demo_mode(demo_db: DemoDatabase, client: FlaskClient,
                                                      clock: FixedClock) -> None:
    from engine.bootstrap import build

    demo_token = token(client, "desk.haichau")
    admin = token(client, "admin")
    assert client.post("/api/v1/officers", json={"username": "real.desk", "name": "Thật", "unit": "20242",
                                                 "roles": ["one_stop_desk"], "password": "real-password-1"},
                       headers=admin).status_code == 201
    production = build(demo_db.settings(demo=False), clock=clock)
    try:
        prod = create_app(production).test_client()
        for username in ("desk.haichau", "admin", "auditor", "supervisor"):
            assert_problem(prod.post("/api/v1/auth/token", json={"username": username, "password": "demo"}),
                           401, "invalid_credentials")
        assert_problem(prod.get("/api/v1/auth/me", headers=demo_token), 401, "invalid_token")
        assert_problem(prod.post("/api/v1/dossiers", json=OPEN, headers=demo_token), 401, "invalid_token")
        real = prod.post("/api/v1/auth/token", json={"username": "real.desk", "password": "real-password-1"})
        assert real.status_code == 200
        opened = prod.post("/api/v1/dossiers", json=OPEN, headers={"Authorization": f"Bearer {real.json['token']}"})
        assert opened.status_code == 201
    finally:
        production.close()
