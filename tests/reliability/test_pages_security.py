"""The server-rendered pages, every route of them taken from the app's URL map (so a page added later
is covered without editing this file): security headers on every page a signed-in officer, auditor or
supervisor opens (error pages included); CSRF on every form — a POST without its token, with a forged
one, or from a foreign Origin is refused with 400 and changes nothing; and a database that is locked
answers 503 on a page too, never 500.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from api.app import create_app
from api.cli.setup import initialise
from engine.bootstrap import Landflow, build
from engine.clock import FixedClock
from engine.store import ApiTokenRow, CaseEventRow, DossierRow, ProcedureVersionRow
from tests.conftest import local
from tests.support.figures import Figures
from tests.web.conftest import csrf_of, sign_in_page

from .conftest import DemoDatabase
from .land import STEP_DATA, open_body

PAGE_USERS = ("desk.haichau", "branch.haichau", "auditor", "supervisor")


@pytest.fixture
def engine(demo_db: DemoDatabase) -> Iterator[Landflow]:
    lf = build(demo_db.settings(secret_key="reliability-pages"), clock=FixedClock(local(2026, 3, 3, 9, 0)))
    yield lf
    lf.close()


@pytest.fixture
def app(engine: Landflow) -> Flask:
    return create_app(engine)


def pages(app: Flask) -> list[Any]:
    """Every page; not the API, the static files or the Prometheus scrape (text for a machine, docs/operations.md)."""
    return [r for r in app.url_map.iter_rules() if not r.rule.startswith(("/api/", "/static", "/metrics"))]


def concrete(rule: str, dossier: int, item: int) -> str:
    values = {"dossier_id": dossier, "item_id": item, "key": "land_transfer", "version": 1, "code": "en",
              "action": "claim" if "items" in rule else "cancel", "kind": "control", "review_id": 1,
              "seq": 1, "revision": 1, "run_id": 1}
    return re.sub(r"<(?:[^:>]+:)?([a-z_]+)>", lambda m: str(values[m.group(1)]), rule)


def a_dossier(lf: Landflow) -> tuple[int, int]:
    o = lf.directory.get().officers
    st = lf.runtime.open(o["desk.haichau"], "land_transfer", "20242", open_body(1)["applicant"], {})
    (item,) = st.open_items()
    st = lf.runtime.complete(o["desk.haichau"], item.id, STEP_DATA["receive"])
    (item,) = st.open_items()
    assert item.id is not None
    return st.id, item.id


def assert_secure_page(resp: Any, what: str) -> None:
    h = resp.headers
    csp = h.get("Content-Security-Policy", "")
    # the decision preview's script may reach the officer's local signing agent, and nothing else (record 0126)
    csp = csp.replace("connect-src 'self' http://127.0.0.1:8765;", "connect-src 'self';")
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp, (what, csp)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "http" not in csp, (what, csp)
    assert h.get("X-Frame-Options") == "DENY" and h.get("X-Content-Type-Options") == "nosniff", what
    assert h.get("Referrer-Policy") in ("same-origin", "no-referrer"), what
    if resp.status_code == 200 and resp.mimetype == "text/html":
        assert h.get("Cache-Control") == "no-store", what


def test_every_page_carries_the_security_headers(app: Flask, engine: Landflow, figures: Figures) -> None:
    dossier, item = a_dossier(engine)
    routes = [r for r in pages(app) if "GET" in r.methods]
    assert len(routes) >= 12
    seen = 0
    for username in PAGE_USERS:
        client = app.test_client()
        sign_in_page(client, username)
        for rule in routes:
            url = concrete(rule.rule, dossier, item)
            resp = client.get(url, headers={"Accept": "text/html"})
            assert resp.status_code in (200, 301, 303, 403, 404), (username, url, resp.status_code)
            assert_secure_page(resp, f"{username} {url} {resp.status_code}")
            seen += 1
    anonymous = app.test_client()
    for rule in routes:
        resp = anonymous.get(concrete(rule.rule, dossier, item), headers={"Accept": "text/html"})
        assert_secure_page(resp, f"anonymous {rule.rule}")
        seen += 1
    assert_secure_page(anonymous.get("/no/such/page", headers={"Accept": "text/html"}), "404 page")
    figures.add("operations", seen + 1)


def fingerprint(lf: Landflow) -> tuple[Any, ...]:
    with lf.db.read() as s:
        return (s.execute(select(DossierRow.id, DossierRow.version, DossierRow.status).order_by(DossierRow.id)).all(),
                s.scalar(select(func.count()).select_from(CaseEventRow)),
                s.scalar(select(func.count()).select_from(ProcedureVersionRow)),
                s.scalar(select(func.count()).select_from(ApiTokenRow)))


def test_every_form_refuses_a_post_without_its_token(app: Flask, engine: Landflow, figures: Figures) -> None:
    dossier, item = a_dossier(engine)
    routes = [r for r in pages(app) if "POST" in r.methods]
    assert {r.endpoint for r in routes} >= {"web_auth.login", "web_auth.logout", "web_actions.item_action",
                                             "web_actions.dossier_action", "web_procedures.check",
                                             "web_procedures.deploy"}
    client = app.test_client()
    token = sign_in_page(client, "branch.haichau")
    with engine.db.read() as s:
        version = s.scalar(select(DossierRow.version).where(DossierRow.id == dossier))
    tried = 0
    for rule in routes:
        url = concrete(rule.rule, dossier, item)
        form: dict[str, Any] = {"version": str(version), "reason": "thử", "username": "desk.haichau",
                                "password": "demo", "data": ""}
        before = fingerprint(engine)
        for fields, headers in (({}, {}), ({"csrf_token": "x" * 43}, {}),
                                ({"csrf_token": token}, {"Origin": "https://evil.example"})):
            resp = client.post(url, data={**form, **fields}, headers={"Accept": "text/html", **headers})
            assert resp.status_code == 400, (url, fields, headers, resp.status_code)
            assert_secure_page(resp, f"refused {url}")
            tried += 1
        assert fingerprint(engine) == before, url
        # the same form with its token passes the check (whatever the engine then decides about it)
        ok = client.post(url, data={**form, "csrf_token": token}, headers={"Accept": "text/html"})
        assert ok.status_code != 400, (url, ok.status_code)
        token = sign_in_page(client, "branch.haichau")  # signing in or out changes the session
    figures.add("hostile", tried)
    figures.add("refusals_checked", tried)


def test_a_locked_database_is_a_503_page(tmp_path: Path, figures: Figures) -> None:
    """SQLite only (its one file lock); the API's side is in test_database_down.py."""
    db = DemoDatabase(f"sqlite:///{tmp_path / 'landflow.db'}", tmp_path / "var")
    lf = build(db.settings(sqlite_busy_seconds=0.5, secret_key="reliability-pages"),
               clock=FixedClock(local(2026, 3, 3, 9, 0)))
    try:
        initialise(lf, say=lambda _msg: None)
        dossier, item = a_dossier(lf)
        client = create_app(lf).test_client()
        sign_in_page(client, "branch.haichau")
        page = client.get(f"/dossiers/{dossier}", headers={"Accept": "text/html"})
        token = csrf_of(page.get_data(as_text=True))
        with lf.db.read() as s:
            version = s.scalar(select(DossierRow.version).where(DossierRow.id == dossier))
        url = f"/dossiers/{dossier}/items/{item}/claim"
        holder = sqlite3.connect(db.url.removeprefix("sqlite:///"), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            resp = client.post(url, data={"csrf_token": token, "version": version}, headers={"Accept": "text/html"})
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert resp.status_code == 503 and resp.mimetype == "text/html", resp.status_code
        assert resp.headers["Retry-After"] and "Traceback" not in resp.get_data(as_text=True)
        assert_secure_page(resp, "503 page")
        again = client.post(url, data={"csrf_token": token, "version": version}, headers={"Accept": "text/html"})
        assert again.status_code == 303, again.status_code
        figures.add("faults")
    finally:
        lf.close()
