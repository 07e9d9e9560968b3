"""The modeler's page routes (test client, both databases): only supervisors check and save, each reads
only their own drafts, a draft is checked on the ordinary check page, and the deploy form refuses an
effective date in the past without deploying anything."""

from __future__ import annotations

import base64

from flask.testing import FlaskClient
from sqlalchemy import func, select

from config.settings import ROOT
from engine.bootstrap import Landflow
from engine.definitions import drafts
from engine.store import AuditEntryRow, ProcedureDraftRow, ProcedureVersionRow
from tests.web.conftest import sign_in_page

LAND = (ROOT / "workflows" / "land" / "land_transfer.bpmn").read_text(encoding="utf-8")


def count(lf: Landflow, table: type) -> int:
    with lf.db.read() as s:
        return s.scalar(select(func.count()).select_from(table)) or 0


def test_check_and_save_from_the_modeler(client: FlaskClient, demo_lf: Landflow) -> None:
    token = sign_in_page(client, "supervisor")
    page = client.get("/procedures/land_transfer/modeler")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "vendor/bpmn-js/bpmn-modeler.production.min.js" in html and "Thiết kế quy trình" in html
    assert "registration_branch" in html  # the owner select's roles
    broken = LAND.replace('<spiffworkflow:property name="sla" value="P2D" />', "", 1)
    report = client.post("/procedures/modeler/check", data={"csrf_token": token, "bpmn": broken}).json
    assert report["ok"] is False and any(p["element"] == "check_rights" for p in report["problems"])
    assert all(p["text"] for p in report["problems"])  # the reader's words, not the engine's English
    saved = client.post("/procedures/land_transfer/drafts", data={"csrf_token": token, "bpmn": LAND})
    assert saved.status_code == 201 and saved.json["revision"] == 1
    assert client.get("/procedures/land_transfer/drafts/1.bpmn").get_data(as_text=True) == LAND
    wrong = client.post("/procedures/first_registration/drafts", data={"csrf_token": token, "bpmn": LAND})
    assert wrong.status_code == 422 and "first_registration" in wrong.json["message"]
    assert count(demo_lf, ProcedureDraftRow) == 1
    listed = client.get("/procedures/land_transfer/drafts").get_data(as_text=True)
    assert "check-draft-1" in listed
    checked = client.post("/procedures/land_transfer/drafts/1/check", data={"csrf_token": token})
    assert checked.status_code == 200 and 'name="effective_from"' in checked.get_data(as_text=True)


def test_without_the_token_nothing_is_saved(client: FlaskClient, demo_lf: Landflow) -> None:
    sign_in_page(client, "supervisor")
    assert client.post("/procedures/land_transfer/drafts", data={"bpmn": LAND}).status_code == 400
    assert count(demo_lf, ProcedureDraftRow) == 0


def test_others_are_refused_and_drafts_are_private(client: FlaskClient, demo_lf: Landflow) -> None:
    drafts.save(demo_lf.db, "another_supervisor", "land_transfer", "x", LAND, 1, 0, demo_lf.clock.now())
    token = sign_in_page(client, "supervisor")
    assert client.get("/procedures/land_transfer/drafts/1.bpmn").status_code == 404
    assert client.get("/procedures/land_transfer/modeler?draft=1").status_code == 200  # the page; its source 404s
    assert client.post("/procedures/land_transfer/drafts/1/check", data={"csrf_token": token}).status_code == 404
    # an auditor: refused, and each refusal recorded
    auditor = client.application.test_client()
    token2 = sign_in_page(auditor, "auditor")
    before = count(demo_lf, AuditEntryRow)
    assert auditor.get("/procedures/land_transfer/modeler").status_code == 403
    resp = auditor.post("/procedures/modeler/check", data={"csrf_token": token2, "bpmn": LAND})
    assert resp.status_code == 403 and resp.json["message"]
    saved = auditor.post("/procedures/land_transfer/drafts", data={"csrf_token": token2, "bpmn": LAND})
    assert saved.status_code == 403
    assert count(demo_lf, AuditEntryRow) == before + 3
    assert count(demo_lf, ProcedureDraftRow) == 1


def test_an_effective_date_in_the_past_deploys_nothing(client: FlaskClient, demo_lf: Landflow) -> None:
    token = sign_in_page(client, "supervisor")  # the demo clock: 02/03/2026
    changed = LAND.replace('value="P3D"', 'value="P2D"', 1).encode()
    before = count(demo_lf, ProcedureVersionRow)
    for day in ("2026-03-01", "01/04/2026"):
        resp = client.post("/procedures/deploy", data={"csrf_token": token, "effective_from": day,
                                                       "bpmn_b64": base64.b64encode(changed).decode()})
        assert resp.status_code == 422
    assert count(demo_lf, ProcedureVersionRow) == before
    resp = client.post("/procedures/deploy", data={"csrf_token": token, "effective_from": "2026-03-02",
                                                   "bpmn_b64": base64.b64encode(changed).decode()})
    assert resp.status_code == 303 and count(demo_lf, ProcedureVersionRow) == before + 1
    page = client.get("/procedures").get_data(as_text=True)
    assert "Phiên bản chờ ngày có hiệu lực" in page
