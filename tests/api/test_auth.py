"""Sign-in, tokens (hashed, expiring, revocable), demo accounts only in demo mode, officer admin."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from api.app import create_app
from engine.bootstrap import Landflow, build
from engine.clock import FixedClock
from engine.store import ApiTokenRow, AuditEntryRow, OfficerRow, SignalRow
from tests.api.conftest import Caller


def test_wrong_credentials_are_one_401(client: FlaskClient) -> None:
    for username, password in (("desk.haichau", "wrong"), ("nobody", "demo"), ("desk.haichau", "")):
        resp = client.post("/api/v1/auth/token", json={"username": username, "password": password})
        assert resp.status_code in (401, 422)
        if resp.status_code == 401:
            assert resp.json["code"] == "invalid_credentials"


def test_passwords_and_tokens_are_stored_hashed(sign_in: Any, demo_lf: Landflow) -> None:
    desk = sign_in("desk.haichau")
    with demo_lf.db.read() as s:
        officer = s.scalars(select(OfficerRow).where(OfficerRow.username == "desk.haichau")).one()
        tokens = list(s.scalars(select(ApiTokenRow).where(ApiTokenRow.username == "desk.haichau")))
    assert officer.password_hash is not None and officer.password_hash.startswith("scrypt:")
    assert "demo" not in officer.password_hash.split("$", 1)[1] and officer.demo
    assert [t.token_hash for t in tokens] == [hashlib.sha256(desk.token.encode()).hexdigest()]
    assert desk.token not in {t.token_hash for t in tokens}


def test_tokens_expire(sign_in: Any, demo_lf: Landflow, demo_clock: FixedClock) -> None:
    desk = sign_in("desk.haichau")
    assert desk.get("/api/v1/auth/me").json["username"] == "desk.haichau"
    demo_clock.advance(hours=demo_lf.settings.token_hours, seconds=-1)
    assert desk.get("/api/v1/auth/me").status_code == 200
    demo_clock.advance(seconds=2)
    resp = desk.get("/api/v1/auth/me")
    assert resp.status_code == 401 and resp.json["code"] == "invalid_token"


def test_revoking_tokens(client: FlaskClient) -> None:
    a, b = Caller(client, "desk.haichau"), Caller(client, "desk.haichau")
    other = Caller(client, "land.haichau")
    resp = a.post("/api/v1/auth/revoke", json={"token": other.token})
    assert resp.status_code == 404  # not yours to revoke
    assert other.get("/api/v1/auth/me").status_code == 200
    assert a.post("/api/v1/auth/revoke", json={"token": b.token}).status_code == 204
    assert b.get("/api/v1/auth/me").status_code == 401
    assert a.get("/api/v1/auth/me").status_code == 200
    assert a.post("/api/v1/auth/revoke").status_code == 204
    assert a.get("/api/v1/auth/me").status_code == 401
    assert other.delete("/api/v1/auth/token").status_code == 204
    assert other.get("/api/v1/auth/me").status_code == 401


def test_demo_accounts_are_refused_outside_demo_mode(client: FlaskClient, demo_lf: Landflow) -> None:
    admin = Caller(client, "admin")
    desk = Caller(client, "desk.haichau")
    added = admin.post("/api/v1/officers", json={"username": "nguyen.van.a", "name": "Nguyễn Văn A", "unit": "20242",
                                                "roles": ["one_stop_desk"], "password": "mật-khẩu-dài"})
    assert added.status_code == 201 and added.json["demo"] is False
    production = build(replace(demo_lf.settings, demo=False), clock=demo_lf.clock, db=demo_lf.db)
    prod = create_app(production).test_client()
    resp = prod.post("/api/v1/auth/token", json={"username": "desk.haichau", "password": "demo"})
    assert resp.status_code == 401 and resp.json["code"] == "invalid_credentials"
    resp = prod.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {desk.token}"})
    assert resp.status_code == 401  # a token issued in demo mode does not outlive it
    real = Caller(prod, "nguyen.van.a", "mật-khẩu-dài")
    assert real.get("/api/v1/auth/me").json["unit"] == "20242"


def test_officer_administration(sign_in: Any, client: FlaskClient, demo_lf: Landflow) -> None:
    admin, desk, auditor = sign_in("admin"), sign_in("desk.haichau"), sign_in("auditor")
    body = {"username": "tran.thi.b", "name": "Trần Thị B", "unit": "CN-KV01", "roles": ["registration_branch"],
            "password": "mot-mat-khau"}
    refused = desk.post("/api/v1/officers", json=body)
    assert refused.status_code == 403 and refused.json["code"] == "wrong_role"
    assert desk.get("/api/v1/officers").status_code == 403
    assert admin.post("/api/v1/officers", json={**body, "unit": "NOWHERE"}).status_code == 422
    assert admin.post("/api/v1/officers", json={**body, "roles": ["wizard"]}).status_code == 422
    assert admin.post("/api/v1/officers", json=body).status_code == 201
    assert admin.post("/api/v1/officers", json=body).status_code == 409
    listed = {o["username"]: o for o in auditor.get("/api/v1/officers", query_string={"unit": "CN-KV01"}).json}
    assert set(listed) == {"branch.haichau", "head.cnkv01", "tran.thi.b"}
    new = Caller(client, "tran.thi.b", "mot-mat-khau")
    assert new.get("/api/v1/worklist").status_code == 200
    assert auditor.post("/api/v1/officers/tran.thi.b/deactivate").status_code == 403
    resp = admin.post("/api/v1/officers/tran.thi.b/deactivate")
    assert resp.status_code == 200 and resp.json["active"] is False
    assert new.get("/api/v1/worklist").status_code == 401
    assert client.post("/api/v1/auth/token", json={"username": "tran.thi.b",
                                                   "password": "mot-mat-khau"}).status_code == 401
    assert admin.post("/api/v1/officers/admin/deactivate").status_code == 422
    assert admin.post("/api/v1/officers/tran.thi.b/activate").json["active"] is True
    assert admin.post("/api/v1/officers/tran.thi.b/password", json={"password": "mat-khau-moi"}).status_code == 204
    Caller(client, "tran.thi.b", "mat-khau-moi")
    with demo_lf.db.read() as s:
        kinds = list(s.scalars(select(AuditEntryRow.type).order_by(AuditEntryRow.seq)))
        refusals = list(s.scalars(select(SignalRow.officer).where(SignalRow.dossier_id.is_(None))))
    assert kinds[-10:] == ["action_refused"] * 3 + ["officer_added", "action_refused", "action_refused",
                                                    "officer_deactivated", "action_refused", "officer_activated",
                                                    "officer_password_set"]
    # the admin's four refusals (a bad unit, a bad role, a duplicate, deactivating themself) are kept in the
    # audit log but are invalid input, not misconduct (docs/decisions/0050-refusal-categories.md)
    assert refusals.count("desk.haichau") == 1 and refusals.count("auditor") == 1 and refusals.count("admin") == 0


def test_failed_sign_ins_are_rate_limited(demo_lf: Landflow) -> None:
    app = create_app(build(replace(demo_lf.settings, login_rate="3/minute"), clock=demo_lf.clock, db=demo_lf.db))
    client = app.test_client()

    def sign(username: str, password: str) -> int:
        return client.post("/api/v1/auth/token", json={"username": username, "password": password}).status_code

    assert sign("desk.haichau", "demo") == 200  # successes do not count
    assert [sign("desk.haichau", "guess") for _ in range(4)] == [401, 401, 401, 429]
    resp = client.post("/api/v1/auth/token", json={"username": "desk.haichau", "password": "demo"})
    assert resp.status_code == 429 and resp.mimetype == "application/problem+json"
    assert sign("land.haichau", "demo") == 200  # another username is not locked out
