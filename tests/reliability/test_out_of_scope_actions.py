"""Actions on dossiers out of the officer's read scope (issue 13, point 4), on the real Flask app over
SQLite and PostgreSQL.

An officer who cannot read a dossier used to get 403 `wrong_unit` naming the owning unit (or 409 / 412
with details) when acting on its items, while an unknown id got 404; and every attempt appended an
`action_refused` event to that dossier, under its write lock. Now: the answer is the one a missing id
gets, the dossier's chain is untouched, and the attempt is in the audit log (with the actor's
`unauthorised_attempt` signal, attached to no dossier), at most LANDFLOW_UNSEEN_ATTEMPTS per officer
and minute.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from api.app import create_app
from api.cli.setup import initialise
from engine.bootstrap import Landflow, build
from engine.clock import FixedClock
from engine.store import AuditEntryRow, CaseEventRow, DossierRow, SignalRow
from tests.conftest import local
from tests.support.figures import Figures
from tests.web.conftest import sign_in_page

from .conftest import DemoDatabase
from .land import STEP_DATA

OUTSIDER = "desk.bengiang"  # the one-stop desk of commune 20710: nothing to do with a Hải Châu dossier
MISSING = 987_654_321
ITEM_CALLS: dict[str, Any] = {
    "claim": None, "release": None, "complete": {"data": STEP_DATA["check_rights"]},
    "return": {"to_step": "receive", "reason": "lý do"}, "transfer": {"to_unit": "CN-KV12", "reason": "lý do"},
    "request-supplement": {"reason": "lý do"}, "decision": {"data": STEP_DATA["check_rights"]},
}
DOSSIER_CALLS: dict[str, Any] = {
    "receive-supplement": {"note": "đã nhận"}, "apologise": {"reason": "lý do", "new_due": "2027-06-30T10:00:00+07:00"},
    "stop": {"reason": "lý do"}, "cancel": {"reason": "lý do"},
}


@dataclass
class World:
    lf: Landflow
    clock: FixedClock
    client: FlaskClient
    dossier: int
    item: int

    def token(self, username: str) -> dict[str, str]:
        resp = self.client.post("/api/v1/auth/token", json={"username": username, "password": "demo"})
        assert resp.status_code == 200
        return {"Authorization": f"Bearer {resp.json['token']}"}

    def chain(self) -> tuple[int, int, int]:
        """The dossier's event count, last seq and version: what an outsider must not move."""
        with self.lf.db.read() as s:
            events = s.scalar(select(func.count()).select_from(CaseEventRow).where(
                CaseEventRow.dossier_id == self.dossier))
            row = s.get(DossierRow, self.dossier)
            assert row is not None
            return int(events or 0), row.last_seq, row.version

    def audit_of(self, username: str) -> list[dict[str, Any]]:
        with self.lf.db.read() as s:
            return [json.loads(p) for p in s.scalars(select(AuditEntryRow.payload).where(
                AuditEntryRow.actor == username, AuditEntryRow.type == "action_refused").order_by(AuditEntryRow.seq))]

    def signals_of(self, username: str) -> list[tuple[int | None, str | None]]:
        with self.lf.db.read() as s:
            return [tuple(r) for r in s.execute(select(SignalRow.dossier_id, SignalRow.reason).where(
                SignalRow.officer == username, SignalRow.kind == "unauthorised_attempt").order_by(SignalRow.id))]


def world_of(demo_db: DemoDatabase, **settings: Any) -> World:
    clock = FixedClock(local(2026, 3, 2, 8, 0))
    lf = build(demo_db.settings(**settings), clock=clock)
    officers = lf.directory.get().officers
    st = lf.runtime.open(officers["desk.haichau"], "land_transfer", "20242", {"name": "Lê Thị Hoa", "id_number": "9"},
                         {"sheet": "1"})
    (receive,) = st.open_items()
    st = lf.runtime.complete(officers["desk.haichau"], receive.id, STEP_DATA["receive"])
    (item,) = st.open_items()
    assert item.step == "check_rights" and item.unit == "CN-KV01" and item.id is not None
    return World(lf, clock, create_app(lf).test_client(), st.id, item.id)


@pytest.fixture
def world(demo_db: DemoDatabase) -> Iterator[World]:
    w = world_of(demo_db)
    yield w
    w.lf.close()


def call(w: World, headers: dict[str, str], path: str, body: Any, target: int, on_item: bool) -> Any:
    url = f"/api/v1/work-items/{target}/{path}" if on_item else f"/api/v1/dossiers/{target}/{path}"
    return w.client.post(url, json=body, headers=headers) if body is not None else w.client.post(url, headers=headers)


def same_answer(hidden: Any, missing: Any, hidden_id: int) -> None:
    """The two answers are one answer, but for the id named in `detail`."""
    assert hidden.status_code == missing.status_code == 404, (hidden.json, missing.json)
    assert hidden.mimetype == missing.mimetype == "application/problem+json"
    a, b = dict(hidden.json), dict(missing.json)
    assert a.pop("detail").replace(str(hidden_id), "N") == b.pop("detail").replace(str(MISSING), "N")
    assert a == b and a["code"] == "not_found"
    assert "CN-KV01" not in hidden.get_data(as_text=True)
    assert {k for k, _v in hidden.headers.items() if k != "Content-Length"} == \
        {k for k, _v in missing.headers.items() if k != "Content-Length"}


def test_acting_out_of_scope_answers_as_a_missing_id_and_leaves_the_chain_alone(demo_db: DemoDatabase,
                                                                              figures: Figures) -> None:
    world = world_of(demo_db, unseen_attempts=1000)  # every attempt written (the cap has its own test)
    try:
        tried = answers_as_missing(world)
    finally:
        world.lf.close()
    figures.add("hostile", tried)
    figures.add("refusals_checked", tried)


def answers_as_missing(world: World) -> int:
    outsider = world.token(OUTSIDER)
    before = world.chain()
    tried = 0
    for path, body in [*((p, b) for p, b in ITEM_CALLS.items()), *((p, b) for p, b in DOSSIER_CALLS.items())]:
        on_item = path in ITEM_CALLS
        real = world.item if on_item else world.dossier
        hidden = call(world, outsider, path, body, real, on_item)
        missing = call(world, outsider, path, body, MISSING, on_item)
        same_answer(hidden, missing, real)
        # a stale If-Match changes nothing: scope is decided before the version (which would be 412)
        stale = call(world, {**outsider, "If-Match": '"0"'}, path, body, real, on_item)
        same_answer(stale, missing, real)
        tried += 3
    assert world.chain() == before  # not one event in that dossier's history
    # the audit log has every attempt, out of scope or missing, with its signal attached to no dossier
    entries = world.audit_of(OUTSIDER)
    assert len(entries) == tried
    assert {e["unseen"] for e in entries} == {"out_of_scope", "missing"}
    hidden_entries = [e for e in entries if e["unseen"] == "out_of_scope"]
    assert all(e["kind"] == e["code"] == "not_found" for e in entries)
    assert all(e.get("dossier") == world.dossier for e in hidden_entries)  # the auditor learns which
    assert {e["action"] for e in entries} == {p.replace("-", "_") for p in DOSSIER_CALLS} | {
        p.replace("-", "_") for p in ITEM_CALLS if p != "decision"} | {"prepare_decision"}
    signals = world.signals_of(OUTSIDER)
    assert len(signals) == tried and all(d is None for d, _r in signals)
    # what the outsider can read of them (their own signals) does not tell out of scope from missing
    reasons = {re.sub(r"\d+", "N", r or "") for _d, r in signals}
    assert len(reasons) == len(ITEM_CALLS) + len(DOSSIER_CALLS)
    mine = world.client.get("/api/v1/signals", query_string={"officer": OUTSIDER}, headers=outsider).json
    assert len(mine) == tried and all(s["dossier"] is None for s in mine)
    # an officer who may read the dossier is still refused in its history, as before
    land = world.token("land.haichau")
    resp = call(world, land, "claim", None, world.item, True)
    assert resp.status_code == 403 and resp.json["code"] == "wrong_role"
    assert world.chain()[0] == before[0] + 1
    return tried


def test_a_flood_of_attempts_writes_at_most_the_cap(world: World, figures: Figures) -> None:
    outsider = world.token(OUTSIDER)
    cap = world.lf.settings.unseen_attempts
    before = world.chain()
    for n in range(1000):
        resp = world.client.post(f"/api/v1/work-items/{world.item}/claim", headers=outsider)
        assert resp.status_code == 404, (n, resp.json)
    assert world.chain() == before
    entries = world.audit_of(OUTSIDER)
    assert len(entries) == cap == 20 and len(world.signals_of(OUTSIDER)) == cap
    # after the minute the next attempt is written, and says how many were counted but not written
    world.clock.advance(seconds=61)
    assert world.client.post(f"/api/v1/work-items/{world.item}/claim", headers=outsider).status_code == 404
    last = world.audit_of(OUTSIDER)[-1]
    assert last["suppressed"] == 1000 - cap and last["unseen"] == "out_of_scope"
    # the cap is per officer: another outsider is recorded
    other = world.token("land.bengiang")
    assert world.client.post(f"/api/v1/work-items/{world.item}/claim", headers=other).status_code == 404
    assert len(world.audit_of("land.bengiang")) == 1
    figures.add("hostile", 1002)
    figures.add("refusals_checked", 1002)


def text_of(resp: Any) -> str:
    return str(resp.get_data(as_text=True))


def test_the_pages_answer_as_for_a_missing_dossier(world: World, figures: Figures) -> None:
    client = world.client
    token = sign_in_page(client, OUTSIDER)
    before = world.chain()
    posts = [(f"/dossiers/{{d}}/items/{world.item}/{a}", {"reason": "lý do", "to_step": "receive"})
             for a in ("claim", "release", "complete", "return", "transfer", "supplement")]
    posts += [(f"/dossiers/{{d}}/do/{a}", {"reason": "lý do", "note": "x", "new_date": "2027-06-30"})
              for a in ("receive_supplement", "apologise", "stop", "cancel")]
    for url, form in posts:
        hidden = client.post(url.format(d=world.dossier), data={**form, "csrf_token": token, "version": "0"})
        missing = client.post(url.format(d=MISSING), data={**form, "csrf_token": token, "version": "0"})
        assert hidden.status_code == missing.status_code == 404, (url, hidden.status_code)
        # the same page, but for its own address (in the language switch's links)
        assert text_of(hidden).replace(url.format(d=world.dossier), "URL") == \
            text_of(missing).replace(url.format(d=MISSING), "URL"), url
        assert "CN-KV01" not in hidden.get_data(as_text=True)
    assert world.chain() == before
    entries = world.audit_of(OUTSIDER)
    assert len(entries) == 2 * len(posts)
    assert sorted(e["unseen"] for e in entries) == ["missing"] * len(posts) + ["out_of_scope"] * len(posts)
    # and the dossier page itself is "not found", as before
    assert client.get(f"/dossiers/{world.dossier}").status_code == 404
    figures.add("hostile", 2 * len(posts))
    figures.add("refusals_checked", 2 * len(posts))


def test_no_write_lock_is_taken_on_sqlite(tmp_path: Path) -> None:
    """Over the cap an attempt writes nothing: it is answered while another writer holds SQLite's lock
    (before, every attempt queued for the dossier's lock: 503 after the busy timeout). SQLite only:
    its lock is the one a write waits for."""
    demo_db = DemoDatabase(f"sqlite:///{tmp_path / 'landflow.db'}", tmp_path / "var")
    setup = demo_db.engine()
    initialise(setup, say=lambda _msg: None)
    setup.close()
    w = world_of(demo_db, unseen_attempts=2, sqlite_busy_seconds=0.5)
    try:
        outsider = w.token(OUTSIDER)
        for _ in range(2):
            assert w.client.post(f"/api/v1/work-items/{w.item}/claim", headers=outsider).status_code == 404
        holder = sqlite3.connect(demo_db.url.removeprefix("sqlite:///"), timeout=5)
        holder.execute("BEGIN IMMEDIATE")
        try:
            for path in ("claim", "release", "request-supplement"):
                body = {"reason": "x"} if path == "request-supplement" else None
                resp = call(w, outsider, path, body, w.item, True)
                assert resp.status_code == 404, resp.json
        finally:
            holder.rollback()
            holder.close()
        assert len(w.audit_of(OUTSIDER)) == 2
    finally:
        w.lf.close()
