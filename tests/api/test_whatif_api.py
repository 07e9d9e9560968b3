"""What-if over HTTP: supervisors upload a candidate and read the side-by-side report."""

from __future__ import annotations

import io
import json
from typing import Any

from sqlalchemy import select

from api.simulation import Stats
from config.settings import ROOT
from engine.bootstrap import Landflow
from engine.store import AuditEntryRow
from tests.support.bpmn_builder import small_procedure

LAND_TRANSFER = ROOT / "workflows" / "land" / "land_transfer.bpmn"


def test_the_file_in_force_as_candidate_predicts_the_baseline(sign_in: Any, simulated: Stats) -> None:
    supervisor = sign_in("supervisor")
    resp = supervisor.post("/api/v1/procedures/land_transfer/whatif?months=3&seed=2",
                           data={"file": (io.BytesIO(LAND_TRANSFER.read_bytes()), "land_transfer.bpmn")},
                           content_type="multipart/form-data")
    assert resp.status_code == 200, resp.json
    body = resp.json
    assert (body["procedure"], body["months"], body["seed"]) == ("land_transfer", 3, 2)
    assert body["from"] < body["to"] and body["to"].startswith("2026-03-03T00:00:00")  # whole days to the clock's
    assert any(body["in_force"]["load"].values())
    base, cand = body["in_force"], body["candidate"]
    assert base["dossiers"] > 5 and base["simulated"] == base["dossiers"]
    assert base["version"] == 1 and cand["version"] is None
    for side in (base, cand):
        side.pop("label"), side.pop("version")
    assert base == cand and body["new_bottlenecks"] == []
    assert body["capacity"] and all(n >= 1 for n in body["capacity"].values())
    again = supervisor.post("/api/v1/procedures/land_transfer/whatif?months=3&seed=2",
                            data=LAND_TRANSFER.read_bytes(), content_type="application/xml")
    assert again.json == resp.json


def test_refusals_are_problems_and_change_nothing(sign_in: Any, demo_lf: Landflow) -> None:
    supervisor = sign_in("supervisor")
    bad = supervisor.post("/api/v1/procedures/land_transfer/whatif", data=b"<x/>", content_type="application/xml")
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    assert bad.json["code"] == "invalid_procedure" and bad.json["problems"]
    other = supervisor.post("/api/v1/procedures/land_transfer/whatif", data=small_procedure().to_xml(),
                            content_type="application/xml")
    assert other.status_code == 422 and other.json["code"] == "other_procedure"
    unknown = supervisor.post("/api/v1/procedures/small_test/whatif", data=small_procedure().to_xml(),
                              content_type="application/xml")
    assert unknown.status_code == 404 and unknown.json["code"] == "unknown_procedure"
    months = supervisor.post("/api/v1/procedures/land_transfer/whatif?months=0",
                             data=LAND_TRANSFER.read_bytes(), content_type="application/xml")
    assert months.status_code == 422
    desk = sign_in("desk.haichau").post("/api/v1/procedures/land_transfer/whatif",
                                        data=LAND_TRANSFER.read_bytes(), content_type="application/xml")
    assert desk.status_code == 403 and desk.json["code"] == "wrong_role"
    with demo_lf.db.read() as s:
        last = s.scalars(select(AuditEntryRow).where(AuditEntryRow.type == "action_refused")
                         .order_by(AuditEntryRow.seq.desc()).limit(1)).one()
    assert last.actor == "desk.haichau" and json.loads(last.payload)["code"] == "wrong_role"
