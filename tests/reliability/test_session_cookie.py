"""The pages' session cookie is no API token (issue 13, point 8), on the real Flask app over SQLite and
PostgreSQL.

Flask's session cookie is signed, not encrypted: anyone holding it reads it (base64 of JSON). It used to
carry an ordinary API bearer token. Now it carries a page-session secret, kept server-side as a hash
with purpose `page` (engine/accounts.py), which /api/v1 refuses; signing out revokes that row.
"""

from __future__ import annotations

import base64
import json
import re
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from api.app import create_app
from api.web.session import COOKIE
from engine.bootstrap import Landflow, build
from engine.clock import FixedClock
from engine.store import ApiTokenRow
from tests.conftest import local
from tests.support.figures import Figures
from tests.web.conftest import csrf_of, sign_in_page

from .conftest import DemoDatabase


@pytest.fixture
def engine(demo_db: DemoDatabase) -> Iterator[Landflow]:
    lf = build(demo_db.settings(), clock=FixedClock(local(2026, 3, 2, 8, 0)))
    yield lf
    lf.close()


@pytest.fixture
def app(engine: Landflow) -> Flask:
    return create_app(engine)


def cookie_of(client: FlaskClient) -> str:
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    return cookie.value


def strings_in(cookie: str) -> set[str]:
    """Everything a thief reads in the cookie: its parts, their base64 decoding (zlib-inflated when Flask
    compressed it), every string inside the JSON, and every token-like run of characters in any of them."""
    compressed = cookie.startswith(".")
    parts = cookie.lstrip(".").split(".")
    found = set(parts)
    raw = base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4))
    text = (zlib.decompress(raw) if compressed else raw).decode()
    found.add(text)

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.add(value)
        elif isinstance(value, dict):
            for k, v in value.items():
                found.add(str(k))
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(json.loads(text))
    for s in list(found):
        found.update(re.findall(r"[A-Za-z0-9_\-]{16,}", s))
    return found


def works_on_the_api(client: FlaskClient, candidate: str) -> bool:
    resp = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {candidate}"})
    return resp.status_code == 200


def test_the_cookie_holds_nothing_that_works_as_a_bearer_token(app: Flask, engine: Landflow,
                                                               figures: Figures) -> None:
    client = app.test_client()
    sign_in_page(client, "branch.haichau")
    assert client.get("/worklist").status_code == 200
    cookie = cookie_of(client)
    candidates = strings_in(cookie)
    assert len(candidates) >= 4
    api = app.test_client()
    assert not [c for c in candidates if works_on_the_api(api, c)]
    # the session is real, server-side: one live `page` row for the officer, and no API token was issued
    with engine.db.read() as s:
        rows = s.execute(select(ApiTokenRow.purpose, ApiTokenRow.revoked_at).where(
            ApiTokenRow.username == "branch.haichau")).all()
    assert [(p, r) for p, r in rows] == [("page", None)]
    figures.add("hostile", len(candidates))
    figures.add("refusals_checked", len(candidates))


def test_sign_out_invalidates_the_session_server_side(app: Flask, engine: Landflow) -> None:
    client = app.test_client()
    token = sign_in_page(client, "desk.haichau")
    stolen = cookie_of(client)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    with engine.db.read() as s:
        live = s.scalars(select(ApiTokenRow.id).where(ApiTokenRow.username == "desk.haichau",
                                                      ApiTokenRow.revoked_at.is_(None))).all()
    assert live == []
    # the copy of the cookie taken before sign-out opens nothing any more
    thief = app.test_client()
    thief.set_cookie(COOKIE, stolen)
    resp = thief.get("/worklist")
    assert resp.status_code == 303 and resp.headers["Location"].startswith("/login")


def test_an_api_token_in_a_forged_cookie_opens_no_page(app: Flask) -> None:
    """The two kinds are kept apart both ways: even with the cookie key, an API token is no page session."""
    api = app.test_client()
    token = api.post("/api/v1/auth/token", json={"username": "desk.haichau", "password": "demo"}).json["token"]
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    forged = app.test_client()
    for key in ("sid", "token"):
        forged.set_cookie(COOKIE, serializer.dumps({key: token}))
        resp = forged.get("/worklist")
        assert resp.status_code == 303 and resp.headers["Location"].startswith("/login"), key
    csrf_of(forged.get("/login").get_data(as_text=True))
