"""The dossier answers written without marshmallow (api/resources/views.py `dossier_response`) are the
documents DossierSchema would have written: same keys, same values, same spelling of every instant."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask

from api.resources.views import dossier_dict
from api.schemas.dossiers import DossierSchema
from engine import queries
from engine.bootstrap import Landflow
from engine.clock import FixedClock


def by_schema(app: Flask, lf: Landflow, dossier_id: int) -> Any:
    view = queries.dossier(lf.db, queries.Scope(None, ""), dossier_id)
    assert view is not None
    with app.app_context():
        text = app.json.dumps(DossierSchema().dump(dossier_dict(view, lf.clock.now())))
    return json.loads(text)


def test_actions_and_reads_answer_what_the_schema_writes(app: Flask, sign_in: Any, demo_lf: Landflow,
                                                         demo_clock: FixedClock) -> None:
    desk, branch = sign_in("desk.haichau"), sign_in("branch.haichau")
    resp = desk.post("/api/v1/dossiers", json={
        "procedure": "land_transfer", "commune": "20242", "applicant": {"name": "Đỗ Thị Ánh", "id_number": "1"},
        "parcel": {"sheet": "7", "number": "21", "area": 88.5, "note": "góc đường"}, "data": {}})
    assert resp.status_code == 201 and resp.mimetype == "application/json"
    did = resp.json["id"]
    assert resp.json == by_schema(app, demo_lf, did)
    demo_clock.advance(minutes=37, microseconds=250)  # instants with microseconds, too
    item = resp.json["work_items"][0]["id"]
    resp = desk.post(f"/api/v1/work-items/{item}/complete", json={"data": {"decision": "accept", "kind": "transfer"}})
    assert resp.status_code == 200 and resp.json == by_schema(app, demo_lf, did)
    assert {i["state"] for i in resp.json["work_items"]} == {"done", "ready"}
    assert any(i["done_at"] and "." in i["done_at"] for i in resp.json["work_items"])
    got = branch.get(f"/api/v1/dossiers/{did}")
    assert got.status_code == 200 and got.json == by_schema(app, demo_lf, did)
    assert got.headers["ETag"] == f'"{got.json["version"]}"'
