"""The gaps the supervisor's walk (test_redesign_walk.py) found, through the test client on both
databases: a draft reaches the what-if and, from it, the check page (diff, deploy) by links and buttons;
the check page and the what-if compare with the version in force, not with a later one waiting for its
day; step forms show the file's own field labels; a supervisor deletes their draft after a confirmation,
and the deletion is recorded."""

from __future__ import annotations

import base64
import json
import re

from flask.testing import FlaskClient
from sqlalchemy import func, select

from config.settings import ROOT
from engine.bootstrap import Landflow
from engine.definitions import drafts
from engine.store import AuditEntryRow, ProcedureDraftRow, WorkItemRow
from tests.web.conftest import sign_in_page

LAND = (ROOT / "workflows" / "land" / "land_transfer.bpmn").read_text(encoding="utf-8")
KEY = "land_transfer"


def b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode()


def drafts_of(lf: Landflow, owner: str) -> int:
    with lf.db.read() as s:
        return s.scalar(select(func.count()).select_from(ProcedureDraftRow)
                        .where(ProcedureDraftRow.owner == owner)) or 0


def test_a_draft_goes_to_the_what_if_and_from_there_to_the_check_page(client: FlaskClient, demo_lf: Landflow) -> None:
    token = sign_in_page(client, "supervisor")
    draft = LAND.replace('value="P3D"', 'value="P2D"', 1)  # update_register: one day less
    saved = client.post(f"/procedures/{KEY}/drafts", data={"csrf_token": token, "bpmn": draft})
    assert saved.status_code == 201 and (saved.json or {})["whatif"] == f"/procedures/{KEY}/drafts/1/whatif"
    listed = client.get(f"/procedures/{KEY}/drafts").get_data(as_text=True)
    assert f'href="/procedures/{KEY}/drafts/1/whatif" id="whatif-draft-1"' in listed
    page = client.get(f"/procedures/{KEY}/drafts/1/whatif").get_data(as_text=True)
    assert "Phương án dự báo: bản nháp của anh/chị, lần lưu 1." in page
    assert page.count(f'name="bpmn_b64" value="{b64(draft)}"') == 2  # the prediction's form and the check's
    assert 'id="check-from-whatif"' in page and 'type="file"' not in page  # nothing to choose again
    predicted = client.post(f"/procedures/{KEY}/whatif", data={"csrf_token": token, "months": "1", "seed": "1",
                                                               "bpmn_b64": b64(draft), "draft": "1"})
    answer = predicted.get_data(as_text=True)
    assert predicted.status_code == 200 and 'id="check-from-whatif"' in answer and "lần lưu 1" in answer
    checked = client.post("/procedures/check", data={"csrf_token": token, "intent": "check", "bpmn_b64": b64(draft)})
    html = checked.get_data(as_text=True)
    assert checked.status_code == 200 and 'id="deploy-file"' in html
    assert "Thay đổi so với phiên bản 1 đang áp dụng" in html and "update_register" in html
    assert client.get(f"/procedures/{KEY}/drafts/2/whatif").status_code == 404


def test_the_check_page_compares_with_the_version_in_force(client: FlaskClient, demo_lf: Landflow) -> None:
    token = sign_in_page(client, "supervisor")  # the demo clock: 02/03/2026
    pending = LAND.replace('value="P3D"', 'value="P2D"', 1)  # version 2 shortens update_register, from 01/04
    deployed = client.post("/procedures/deploy", data={"csrf_token": token, "effective_from": "2026-04-01",
                                                       "bpmn_b64": b64(pending)})
    assert deployed.status_code == 303
    candidate = LAND.replace('<spiffworkflow:property name="sla" value="P2D" />',
                             '<spiffworkflow:property name="sla" value="P1D" />', 1)  # check_rights only
    html = client.post("/procedures/check", data={"csrf_token": token, "intent": "check",
                                                  "bpmn_b64": b64(candidate)}).get_data(as_text=True)
    assert re.search(r'id="diff-title" data-against="1">Thay đổi so với phiên bản 1 đang áp dụng<', html)
    assert "Phiên bản 2 đã triển khai, có hiệu lực từ ngày 01/04/2026; đến ngày đó phiên bản 1 vẫn đang áp " \
           "dụng." in html
    sla = html[html.index('data-table="sla"'):]
    sla = sla[:sla.index("</table>")]
    assert "check_rights" in sla and "update_register" not in sla  # not "undoing" the pending version's change
    assert "(hiện là phiên bản 2)" in html  # deploying it makes version 3
    # the what-if too predicts against version 1, in force, not the pending version 2
    whatif = client.post(f"/procedures/{KEY}/whatif", data={"csrf_token": token, "months": "1", "seed": "1",
                                                            "bpmn_b64": b64(candidate)}).get_data(as_text=True)
    assert "Phiên bản đang áp dụng (phiên bản 1)" in whatif and "(phiên bản 2)" not in whatif
    # moving running dossiers to version 2 before its day: the plan says what that means
    plan = client.get(f"/procedures/{KEY}/migrate").get_data(as_text=True)
    assert 'id="plan-pending">Phiên bản 2 có hiệu lực từ ngày 01/04/2026: hồ sơ chuyển bây giờ sẽ được giải quyết ' \
           'theo phiên bản này ngay từ bây giờ, trước ngày đó.' in plan


def test_a_supervisor_deletes_a_draft_after_confirming_and_it_is_recorded(client: FlaskClient,
                                                                           demo_lf: Landflow) -> None:
    now = demo_lf.clock.now()
    drafts.save(demo_lf.db, "another_supervisor", KEY, "x", LAND, 1, 0, now)
    token = sign_in_page(client, "supervisor")
    assert client.get(f"/procedures/{KEY}/drafts/delete").status_code == 404  # no draft of mine
    for text in (LAND, LAND.replace('value="P3D"', 'value="P2D"', 1)):
        assert client.post(f"/procedures/{KEY}/drafts", data={"csrf_token": token, "bpmn": text}).status_code == 201
    listed = client.get(f"/procedures/{KEY}/drafts").get_data(as_text=True)
    assert f'href="/procedures/{KEY}/drafts/delete" id="delete-draft"' in listed
    confirm = client.get(f"/procedures/{KEY}/drafts/delete").get_data(as_text=True)
    assert "Toàn bộ 2 lần lưu của bản nháp sẽ bị xóa và không khôi phục được" in confirm
    assert 'id="confirm-delete"' in confirm and 'id="cancel-delete"' in confirm
    assert drafts_of(demo_lf, "supervisor") == 2  # asking to confirm deletes nothing
    assert client.post(f"/procedures/{KEY}/drafts/delete", data={}).status_code == 400  # no CSRF token
    assert drafts_of(demo_lf, "supervisor") == 2

    done = client.post(f"/procedures/{KEY}/drafts/delete", data={"csrf_token": token})
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/procedures/{KEY}")
    assert "Đã xóa bản nháp thủ tục land_transfer của anh/chị (2 lần lưu)" in client.get(
        f"/procedures/{KEY}").get_data(as_text=True)
    assert drafts_of(demo_lf, "supervisor") == 0 and drafts_of(demo_lf, "another_supervisor") == 1
    with demo_lf.db.read() as s:
        entry = s.scalars(select(AuditEntryRow).where(AuditEntryRow.type == "draft_deleted")).one()
    payload = json.loads(entry.payload)
    assert entry.actor == "supervisor" and (payload["key"], payload["revisions"], payload["last_revision"]) == (
        KEY, 2, 2)
    assert len(payload["last_hash"]) == 64
    assert client.post(f"/procedures/{KEY}/drafts/delete", data={"csrf_token": token}).status_code == 404

    officer = client.application.test_client()
    token2 = sign_in_page(officer, "desk.haichau")
    refused = officer.post(f"/procedures/{KEY}/drafts/delete", data={"csrf_token": token2})
    assert refused.status_code == 403
    with demo_lf.db.read() as s:
        last = s.scalars(select(AuditEntryRow).order_by(AuditEntryRow.seq.desc()).limit(1)).one()
    assert last.type == "action_refused" and last.actor == "desk.haichau"
    assert drafts_of(demo_lf, "another_supervisor") == 1


def test_step_forms_show_the_labels_the_file_gives_its_fields(client: FlaskClient, demo_lf: Landflow) -> None:
    """`label.<field>` (written by the modeler's panel) is what the officer reads above the field, at
    reception and on the dossier page, and what the timeline and the procedure's page name the field
    with; a field without one keeps the catalogue's label."""
    labelled = LAND.replace(
        '<spiffworkflow:property name="refusal" value="decision=refuse" />',
        '<spiffworkflow:property name="refusal" value="decision=refuse" />\n'
        '          <spiffworkflow:property name="label.kind" value="Hình thức chuyển quyền sử dụng đất" />', 1).replace(
        '<spiffworkflow:property name="refusal" value="eligible=false" />',
        '<spiffworkflow:property name="refusal" value="eligible=false" />\n'
        '          <spiffworkflow:property name="label.eligible" value="Đủ điều kiện theo Điều 45 Luật Đất đai" />', 1)
    assert labelled.count('name="label.') == 2
    officers = demo_lf.directory.get().officers
    demo_lf.runtime.deploy(officers["supervisor"], labelled.encode("utf-8"))
    desk = client.application.test_client()
    sign_in_page(desk, "desk.haichau")
    form = desk.get("/reception", query_string={"procedure": KEY, "commune_q": "Hải Châu"}).get_data(as_text=True)
    assert "Hình thức chuyển quyền sử dụng đất" in form
    st = demo_lf.runtime.open(officers["desk.haichau"], KEY, "20242", {"name": "Trần Văn Minh"}, {}, {})
    with demo_lf.db.read() as s:
        item = s.scalars(select(WorkItemRow).where(WorkItemRow.dossier_id == st.id)).one()
    demo_lf.runtime.complete(officers["desk.haichau"], item.id, {"decision": "accept", "kind": "transfer"})
    sign_in_page(client, "branch.haichau")
    page = client.get(f"/dossiers/{st.id}").get_data(as_text=True)
    assert "Đủ điều kiện theo Điều 45 Luật Đất đai" in page
    assert ">Lý do trả hồ sơ<" in page  # the field the file gives no label: the catalogue's words
    # the timeline names what was submitted with the same labels, and so does the procedure's steps table
    auditor = client.application.test_client()
    sign_in_page(auditor, "supervisor")
    timeline = auditor.get(f"/audit/dossiers/{st.id}").get_data(as_text=True)
    assert "Hình thức chuyển quyền sử dụng đất: " in timeline
    steps = auditor.get(f"/procedures/{KEY}").get_data(as_text=True)
    assert "Hình thức chuyển quyền sử dụng đất (bắt buộc)" in steps
