"""Fragments on the pages and the API (decision 0166): `landflow init` deploys the bundled fragments before
the procedures; the check page names a missing fragment in Vietnamese; opening a fragment is refused with
a problem; the dossier page shows the call activity running, with the fragment version it runs."""

from __future__ import annotations

import html
import io
import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from bench.fragment_builder import caller_procedure
from engine.bootstrap import Landflow
from engine.store import ProcedureVersionRow, WorkItemRow
from tests.web.conftest import sign_in_page


def officer(lf: Landflow, username: str) -> Any:
    return lf.directory.get().officers[username]


def test_init_deploys_the_fragments_before_the_procedures(demo_lf: Landflow) -> None:
    with demo_lf.db.read() as s:
        order = [k for (k,) in s.execute(select(ProcedureVersionRow.key).order_by(ProcedureVersionRow.id))]
    assert order[:2] == ["financial_obligations", "public_posting"] and "land_transfer" in order[2:]


def test_the_check_page_names_the_missing_fragment_in_vietnamese(client: FlaskClient) -> None:
    token = sign_in_page(client, "supervisor")
    bpmn = caller_procedure("caller_x", "Thủ tục gọi X", fragment="niem_yet_xa").to_xml()
    resp = client.post("/procedures/check", data={"csrf_token": token, "intent": "check",
                                                   "bpmn": (io.BytesIO(bpmn), "x.bpmn")},
                       content_type="multipart/form-data")
    page = html.unescape(resp.get_data(as_text=True))
    assert "Chưa triển khai quy trình con “niem_yet_xa”" in page
    assert "fragment.missing" in page
    good = caller_procedure("caller_x", "Thủ tục gọi X", sla="P8D", fragment="public_posting").to_xml()
    resp = client.post("/procedures/check", data={"csrf_token": token, "intent": "check",
                                                   "bpmn": (io.BytesIO(good), "x.bpmn")},
                       content_type="multipart/form-data")
    assert "fragment.missing" not in resp.get_data(as_text=True)


def test_opening_a_fragment_is_refused_as_a_problem(client: FlaskClient) -> None:
    resp = client.post("/api/v1/auth/token", json={"username": "desk.haichau", "password": "demo"})
    token = resp.json["token"]
    resp = client.post("/api/v1/dossiers", headers={"Authorization": f"Bearer {token}"},
                       json={"procedure": "public_posting", "commune": "20242", "applicant": {"name": "Lê Văn Tám"}})
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert resp.json["code"] == "fragment_not_openable"


def test_the_dossier_page_shows_the_fragment_version_running(client: FlaskClient, demo_lf: Landflow) -> None:
    demo_lf.runtime.deploy(officer(demo_lf, "supervisor"), caller_procedure(
        "caller_x", "Thủ tục gọi X", sla="P8D", fragment="public_posting").to_xml())
    st = demo_lf.runtime.open(officer(demo_lf, "desk.haichau"), "caller_x", "20242", {"name": "Lê Văn Tám"}, {}, {})
    with demo_lf.db.read() as s:
        item = s.scalars(select(WorkItemRow).where(WorkItemRow.dossier_id == st.id)).one()
    demo_lf.runtime.complete(officer(demo_lf, "desk.haichau"), item.id, {"complete": True})
    sign_in_page(client, "land.haichau")
    page = html.unescape(client.get(f"/dossiers/{st.id}").get_data(as_text=True))
    call = re.search(r'<g class="([^"]*)" data-element-id="posting" data-kind="callActivity"><title>([^<]*)</title>',
                     page)
    assert call is not None, "the call activity is not drawn"
    assert "current" in call[1].split()  # the dossier is inside the fragment (at pp_post)
    assert "public_posting, phiên bản 1: Niêm yết công khai tại UBND cấp xã" in call[2]
    assert "pp_post" in call[2]
    caption = re.search(r'data-element-id="posting".*?<text class="caption"[^>]*>(.*?)</text>', page)
    assert caption is not None, "no caption under the call activity"
    assert " ".join(re.findall(r">([^<]*)</tspan>", caption[1] + "")).startswith("public_posting, phiên bản 1")
    # the auditor's replay draws it the same way, and the procedure's page shows the binding
    sign_in_page(client, "auditor")
    audit = html.unescape(client.get(f"/audit/dossiers/{st.id}").get_data(as_text=True))
    assert "public_posting, phiên bản 1: Niêm yết công khai tại UBND cấp xã" in audit
    sign_in_page(client, "supervisor")
    proc = html.unescape(client.get("/procedures/caller_x").get_data(as_text=True))
    assert "public_posting, phiên bản 1: Niêm yết công khai tại UBND cấp xã" in proc


def test_the_reception_page_offers_procedures_not_fragments(client: FlaskClient) -> None:
    sign_in_page(client, "desk.haichau")
    page = client.get("/reception").get_data(as_text=True)
    assert 'value="land_transfer"' in page
    assert 'value="public_posting"' not in page and 'value="financial_obligations"' not in page


def test_the_api_lists_fragments_and_the_versions_a_procedure_calls(client: FlaskClient, demo_lf: Landflow) -> None:
    demo_lf.runtime.deploy(officer(demo_lf, "supervisor"), caller_procedure(
        "caller_x", "Thủ tục gọi X", sla="P8D", fragment="public_posting").to_xml())
    token = client.post("/api/v1/auth/token", json={"username": "desk.haichau", "password": "demo"}).json["token"]
    procs = {p["key"]: p for p in client.get("/api/v1/procedures",
                                             headers={"Authorization": f"Bearer {token}"}).json}
    assert (procs["public_posting"]["fragment"], procs["public_posting"]["calls"]) == (True, [])
    assert procs["land_transfer"]["fragment"] is False
    [call] = procs["caller_x"]["calls"]
    assert {k: call[k] for k in ("element", "key", "version")} == {
        "element": "posting", "key": "public_posting", "version": 1}
