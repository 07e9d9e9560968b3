"""Procedures over HTTP: malformed files are refused with every problem and nothing stored."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from config.settings import ROOT
from engine.bootstrap import Landflow
from engine.store import AuditEntryRow, ProcedureVersionRow
from tests.engine.test_definitions import BOMB, XXE
from tests.support.bpmn_builder import Node, small_procedure


def no_owner() -> bytes:
    p = small_procedure()
    p.nodes[2].lane = None
    return p.to_xml()


def no_sla() -> bytes:
    p = small_procedure()
    p.nodes[2].props.pop("sla")
    return p.to_xml()


def unknown_role() -> bytes:
    p = small_procedure()
    p.nodes.append(Node("orphan", "user", "Bước lạ", lane="tax_collector", col=9, props={"sla": "P1D"}))
    return p.to_xml()


def no_diagram() -> bytes:
    p = small_procedure()
    p.with_di = False
    return p.to_xml()


def not_executable() -> bytes:
    p = small_procedure()
    p.executable = False
    return p.to_xml()


MALFORMED = {
    "xxe": (lambda: XXE, "xml.doctype"),
    "entity_bomb": (lambda: BOMB, "xml.doctype"),
    "not_executable": (not_executable, "process.executable"),
    "user_task_without_owner": (no_owner, "step.owner"),
    "user_task_without_sla": (no_sla, "step.sla"),
    "missing_diagram": (no_diagram, "di.absent"),
    "unknown_role": (unknown_role, "step.role"),
}


def stored(lf: Landflow) -> int:
    with lf.db.read() as s:
        return s.scalar(select(func.count()).select_from(ProcedureVersionRow)) or 0


@pytest.mark.parametrize("name", sorted(MALFORMED))
@pytest.mark.parametrize("how", ["xml", "multipart"])
def test_malformed_bpmn_is_refused_with_problems_and_nothing_stored(sign_in: Any, demo_lf: Landflow, name: str,
                                                                    how: str) -> None:
    make, rule = MALFORMED[name]
    supervisor = sign_in("supervisor")
    before = stored(demo_lf)
    if how == "xml":
        resp = supervisor.post("/api/v1/procedures", data=make(), content_type="application/xml")
    else:
        resp = supervisor.post("/api/v1/procedures", data={"file": (io.BytesIO(make()), "p.bpmn")},
                               content_type="multipart/form-data")
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json", resp.json
    assert resp.json["code"] == "invalid_procedure"
    assert rule in {p["rule"] for p in resp.json["problems"]}
    assert all(set(p) == {"element", "rule", "message"} for p in resp.json["problems"])
    assert stored(demo_lf) == before
    with demo_lf.db.read() as s:
        last = s.scalars(select(AuditEntryRow).order_by(AuditEntryRow.seq.desc()).limit(1)).one()
    assert (last.type, last.actor) == ("deploy_refused", "supervisor")


def test_only_supervisors_validate_and_a_refusal_is_recorded(sign_in: Any, demo_lf: Landflow) -> None:
    """Checking a file costs the server work (issue 13): like deploying, it is for supervisors, and any
    other account's attempt is refused before the file is read, and stands in the audit log."""
    def refusals() -> list[tuple[str, str, Any]]:
        with demo_lf.db.read() as s:
            rows = s.scalars(select(AuditEntryRow).where(AuditEntryRow.type == "action_refused")
                             .order_by(AuditEntryRow.seq)).all()
            return [(r.actor, json.loads(r.payload)["action"], json.loads(r.payload)["code"]) for r in rows]

    before = refusals()
    for who in ("desk.haichau", "branch.haichau", "auditor"):
        reply = sign_in(who).post("/api/v1/procedures/validate", data=small_procedure().to_xml(),
                                  content_type="application/xml")
        assert reply.status_code == 403 and reply.mimetype == "application/problem+json", (who, reply.json)
        assert reply.json["code"] in ("wrong_role", "read_only")
    assert refusals()[len(before):] == [("desk.haichau", "validate", "wrong_role"),
                                        ("branch.haichau", "validate", "wrong_role"),
                                        ("auditor", "validate", "read_only")]
    ok = sign_in("supervisor").post("/api/v1/procedures/validate", data=small_procedure().to_xml(),
                                    content_type="application/xml")
    assert ok.status_code == 200 and ok.json["ok"] is True
    assert len(refusals()) == len(before) + 3


def test_deploy_validate_and_read_versions(sign_in: Any, demo_lf: Landflow) -> None:
    supervisor, desk = sign_in("supervisor"), sign_in("desk.haichau")
    xml = small_procedure().to_xml()
    report = supervisor.post("/api/v1/procedures/validate", data=xml, content_type="application/xml").json
    assert report["ok"] is True and report["key"] == "small_test" and report["problems"] == []
    assert set(report["six_clear"]) == {s["id"] for s in report["steps"]}
    cells = [v for step in report["six_clear"].values() for v in step.values()]
    assert all(cells) and report["completeness"] == 1.0  # every step clear, and its papers listed
    bad = supervisor.post("/api/v1/procedures/validate", data=no_sla(), content_type="application/xml").json
    assert bad["ok"] is False and ("verify", "step.sla") in {(p["element"], p["rule"]) for p in bad["problems"]}
    assert bad["six_clear"]["verify"]["progress"] is False

    refused = desk.post("/api/v1/procedures", data=xml, content_type="application/xml")
    assert refused.status_code == 403 and refused.json["code"] == "wrong_role"
    before = stored(demo_lf)
    first = supervisor.post("/api/v1/procedures", data=xml, content_type="application/xml")
    assert first.status_code == 201 and first.json == {"key": "small_test", "version": 1, "created": True}
    again = supervisor.post("/api/v1/procedures", data={"file": (io.BytesIO(xml), "small.bpmn")},
                            content_type="multipart/form-data")
    assert again.status_code == 200 and again.json["created"] is False
    assert stored(demo_lf) == before + 1

    versions = desk.get("/api/v1/procedures/small_test/versions").json
    assert [(v["key"], v["version"], v["deployed_by"]) for v in versions] == [("small_test", 1, "supervisor")]
    bpmn = desk.get("/api/v1/procedures/small_test/versions/1/bpmn")
    assert bpmn.status_code == 200 and bpmn.mimetype == "application/xml" and bpmn.data == xml
    assert desk.get("/api/v1/procedures/small_test/versions/2").status_code == 404
    assert desk.get("/api/v1/procedures/nothing/versions").status_code == 404


def test_the_bundled_procedures_are_listed_with_their_steps(sign_in: Any) -> None:
    procs = {p["key"]: p for p in sign_in("desk.haichau").get("/api/v1/procedures").json}
    assert set(procs) == {p.stem for p in (ROOT / "workflows").glob("**/*.bpmn")}
    lt = procs["land_transfer"]
    assert (lt["version"], lt["sla"]) == (1, "P8D")
    steps = {s["id"]: s for s in lt["steps"]}
    assert (steps["tax_assess"]["role"], steps["tax_assess"]["clock"]) == ("tax_office", "paused")
    assert {"name": "eligible", "type": "bool", "required": True, "choices": []} in steps["check_rights"]["form"]
    decision = next(f for f in steps["receive"]["form"] if f["name"] == "decision")
    assert decision["choices"] == ["accept", "refuse"]


def test_dmn_files_travel_with_their_bpmn(sign_in: Any, demo_lf: Landflow) -> None:
    bpmn = (ROOT / "workflows/transitional/district_handover.bpmn").read_bytes()
    dmn = (ROOT / "workflows/transitional/district_handover.dmn").read_bytes()
    supervisor = sign_in("supervisor")
    alone = supervisor.post("/api/v1/procedures/validate", data={"file": (io.BytesIO(bpmn), "h.bpmn")},
                            content_type="multipart/form-data").json
    assert alone["ok"] is False
    both = supervisor.post("/api/v1/procedures/validate", content_type="multipart/form-data",
                           data={"file": (io.BytesIO(bpmn), "h.bpmn"), "dmn": [(io.BytesIO(dmn), "h.dmn")]}).json
    assert both["ok"] is True, both["problems"]
    extra = supervisor.post("/api/v1/procedures", content_type="multipart/form-data",
                            data={"file": (io.BytesIO(bpmn), "h.bpmn"), "note": "x"})
    assert extra.status_code == 422 and extra.json["code"] == "invalid_request"
    assert supervisor.post("/api/v1/procedures", data=b"{}", content_type="application/json").status_code == 415
