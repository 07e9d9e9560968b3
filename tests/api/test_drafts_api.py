"""Drafts over HTTP: supervisors save versioned drafts, read only their own; drafts are never executed;
deploying with an effective date, and the pending versions list."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from config.settings import ROOT
from engine.bootstrap import Landflow
from engine.definitions import drafts
from engine.store import AuditEntryRow, ProcedureDraftRow, ProcedureVersionRow

LAND = (ROOT / "workflows" / "land" / "land_transfer.bpmn").read_bytes()


def edited(text: str = "Tiếp nhận hồ sơ (sửa)") -> bytes:
    return LAND.replace(b'name="Ti\xe1\xba\xbfp nh\xe1\xba\xadn', f'name="{text}'.encode(), 1)


def versions(lf: Landflow) -> int:
    with lf.db.read() as s:
        return s.scalar(select(func.count()).select_from(ProcedureVersionRow)) or 0


def test_a_supervisor_saves_revisions_lists_and_reads_them(sign_in: Any, demo_lf: Landflow) -> None:
    sup = sign_in("supervisor")
    before = versions(demo_lf)
    first = sup.post("/api/v1/procedures/land_transfer/drafts", data=LAND, content_type="application/xml")
    assert first.status_code == 201, first.json
    assert first.json["revision"] == 1 and first.json["based_on"] == 1 and first.json["problems"] == 0
    second = sup.post("/api/v1/procedures/land_transfer/drafts", data=edited(), content_type="application/xml")
    assert second.json["revision"] == 2
    listed = sup.get("/api/v1/procedures/drafts").json
    assert [(d["key"], d["revision"], d["revisions"]) for d in listed] == [("land_transfer", 2, 2)]
    revs = sup.get("/api/v1/procedures/land_transfer/drafts").json
    assert [r["revision"] for r in revs] == [2, 1]
    body = sup.get("/api/v1/procedures/land_transfer/drafts/1/bpmn")
    assert body.status_code == 200 and body.get_data() == LAND
    assert versions(demo_lf) == before  # a draft is not a version


def test_a_draft_with_problems_saves_with_its_count(sign_in: Any) -> None:
    sup = sign_in("supervisor")
    broken = LAND.replace(b'<spiffworkflow:property name="sla" value="P8D" />', b"", 1)
    resp = sup.post("/api/v1/procedures/land_transfer/drafts", data=broken, content_type="application/xml")
    assert resp.status_code == 201 and resp.json["problems"] >= 1


def test_another_procedures_file_or_bad_input_is_refused(sign_in: Any, demo_lf: Landflow) -> None:
    sup = sign_in("supervisor")
    for data, why in ((LAND, "not the procedure's key"), (b"  ", "empty"), ("ư".encode("utf-16"), "UTF-8")):
        resp = sup.post("/api/v1/procedures/first_registration/drafts", data=data, content_type="application/xml")
        assert resp.status_code == 422 and resp.mimetype == "application/problem+json", resp.json
        assert why in resp.json["detail"]
    with demo_lf.db.read() as s:
        assert s.scalar(select(func.count()).select_from(ProcedureDraftRow)) == 0


def test_only_supervisors_and_only_their_own_drafts(sign_in: Any, demo_lf: Landflow) -> None:
    drafts.save(demo_lf.db, "another_supervisor", "land_transfer", "x", LAND.decode(), 1, 0, demo_lf.clock.now())
    sup = sign_in("supervisor")
    assert sup.get("/api/v1/procedures/drafts").json == []
    assert sup.get("/api/v1/procedures/land_transfer/drafts").status_code == 404
    assert sup.get("/api/v1/procedures/land_transfer/drafts/1/bpmn").status_code == 404
    auditor = sign_in("auditor")
    with demo_lf.db.read() as s:
        refusals = s.scalar(select(func.count()).select_from(AuditEntryRow)) or 0
    for resp in (auditor.get("/api/v1/procedures/drafts"),
                 auditor.post("/api/v1/procedures/land_transfer/drafts", data=LAND, content_type="application/xml")):
        assert resp.status_code == 403 and resp.mimetype == "application/problem+json"
    with demo_lf.db.read() as s:
        assert (s.scalar(select(func.count()).select_from(AuditEntryRow)) or 0) == refusals + 2


def test_a_draft_is_never_executed(sign_in: Any, demo_lf: Landflow) -> None:
    """A supervisor's draft of a procedure not deployed at all: no dossier can be opened on it."""
    sup = sign_in("supervisor")
    new = LAND.replace(b'id="land_transfer"', b'id="land_transfer_draft_only"').replace(
        b'processRef="land_transfer"', b'processRef="land_transfer_draft_only"')
    assert sup.post("/api/v1/procedures/land_transfer_draft_only/drafts", data=new,
                    content_type="application/xml").status_code == 201
    desk = sign_in("desk.haichau")
    resp = desk.post("/api/v1/dossiers", json={"procedure": "land_transfer_draft_only", "commune": "20242",
                                               "applicant": {"name": "A", "id_number": "048"}})
    assert resp.status_code == 422 and resp.json["code"] == "unknown_procedure", resp.json
    saved = sup.post("/api/v1/procedures/land_transfer/drafts", data=edited(), content_type="application/xml")
    assert saved.status_code == 201
    opened = desk.post("/api/v1/dossiers", json={"procedure": "land_transfer", "commune": "20242",
                                                 "applicant": {"name": "A", "id_number": "048"}})
    assert opened.status_code == 201 and opened.json["procedure_version"] == 1


def test_deploy_with_an_effective_date_and_the_pending_list(sign_in: Any, demo_lf: Landflow) -> None:
    sup = sign_in("supervisor")  # the demo clock: Monday 02/03/2026
    past = sup.post("/api/v1/procedures?effective_from=2026-03-01", data=edited(), content_type="application/xml")
    assert past.status_code == 422 and "before today" in past.json["detail"]
    bad = sup.post("/api/v1/procedures?effective_from=01/04/2026", data=edited(), content_type="application/xml")
    assert bad.status_code == 422
    before = versions(demo_lf)
    resp = sup.post("/api/v1/procedures?effective_from=2026-04-01", data=edited(), content_type="application/xml")
    assert resp.status_code == 201 and resp.json["version"] == 2 and versions(demo_lf) == before + 1
    pending = sup.get("/api/v1/procedures/pending").json
    assert [(p["key"], p["version"], p["effective_from"]) for p in pending] == [("land_transfer", 2, "2026-04-01")]
    listed = sup.get("/api/v1/procedures/land_transfer/versions").json
    assert [v["effective_from"] for v in listed] == [None, "2026-04-01"]
    desk = sign_in("desk.haichau")
    opened = desk.post("/api/v1/dossiers", json={"procedure": "land_transfer", "commune": "20242",
                                                 "applicant": {"name": "A", "id_number": "048"}})
    assert opened.status_code == 201 and opened.json["procedure_version"] == 1


def test_a_supervisor_deletes_their_draft_and_it_is_recorded(sign_in: Any, demo_lf: Landflow) -> None:
    drafts.save(demo_lf.db, "another_supervisor", "land_transfer", "x", LAND.decode(), 1, 0, demo_lf.clock.now())
    sup = sign_in("supervisor")
    missing = sup.delete("/api/v1/procedures/land_transfer/drafts")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    for body in (LAND, edited()):
        sup.post("/api/v1/procedures/land_transfer/drafts", data=body, content_type="application/xml")
    auditor = sign_in("auditor")
    assert auditor.delete("/api/v1/procedures/land_transfer/drafts").status_code == 403
    gone = sup.delete("/api/v1/procedures/land_transfer/drafts")
    assert gone.status_code == 204 and gone.get_data() == b""
    assert sup.get("/api/v1/procedures/land_transfer/drafts").status_code == 404
    with demo_lf.db.read() as s:
        left = s.scalars(select(ProcedureDraftRow.owner)).all()
        kinds = [(a.type, a.actor) for a in s.scalars(select(AuditEntryRow).order_by(AuditEntryRow.seq))][-2:]
    assert left == ["another_supervisor"]
    assert kinds == [("action_refused", "auditor"), ("draft_deleted", "supervisor")]
