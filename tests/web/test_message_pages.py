"""A dossier waiting for the tax office's notice, as officers and the citizen see it: what it waits for and
from whom, the clock paused, and the catch event marked on the diagram."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select

from engine.bootstrap import Landflow
from engine.store import CaseEventRow, WorkItemRow
from tests.support.bpmn_builder import message_procedure
from tests.web.conftest import sign_in_page

THUE_CS01 = "Thuế cơ sở 1 thành phố Đà Nẵng"


def waiting(lf: Landflow) -> tuple[int, str]:
    officers = lf.directory.get().officers
    lf.runtime.deploy(officers["supervisor"], message_procedure().to_xml())
    st = lf.runtime.open(officers["desk.haichau"], "message_test", "20242",
                         {"name": "Lê Thị C", "id_number": "048090001234"}, {}, {})
    for who in ("desk.haichau", "land.haichau", "land.haichau"):
        with lf.db.read() as s:
            item = s.scalars(select(WorkItemRow).where(WorkItemRow.dossier_id == st.id,
                                                       WorkItemRow.state == "ready")).one()
        lf.runtime.complete(officers[who], item.id, {})
    return st.id, st.code


def test_the_dossier_page_says_what_it_waits_for_and_marks_it(client: FlaskClient, demo_lf: Landflow) -> None:
    did, code = waiting(demo_lf)
    sign_in_page(client, "land.haichau")
    page = client.get(f"/dossiers/{did}").get_data(as_text=True)
    assert re.search(r"<dt>Đang chờ</dt><dd id=\"awaited\">Thông báo nghĩa vụ tài chính \(" + THUE_CS01 + r"\)</dd>",
                     page), page[:2000]
    assert f"tạm dừng tính thời hạn: chờ Thông báo nghĩa vụ tài chính ({THUE_CS01})" in page
    assert '<g class="node intermediateCatchEvent current" data-element-id="tax_wait"' in page
    # delivered: nothing awaited any more, the signing step is the current one
    demo_lf.runtime.deliver_message(demo_lf.directory.get().officers["tax.haichau"], code, "tax_notice",
                                    {"amount": 1000000, "notice_no": "TB-1"}, "TB-1")
    page = client.get(f"/dossiers/{did}").get_data(as_text=True)
    assert 'id="awaited"' not in page
    assert '<g class="node intermediateCatchEvent passed" data-element-id="tax_wait"' in page


def test_the_citizen_sees_the_tax_office_holding_the_dossier(client: FlaskClient, demo_lf: Landflow) -> None:
    _did, code = waiting(demo_lf)
    resp = client.get("/api/v1/public/lookup", query_string={"code": code, "digits": "1234"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert (resp.json["state"], resp.json["units"]) == ("processing", [THUE_CS01])


def test_the_dossier_list_says_it_waits_for_another_agency(client: FlaskClient, demo_lf: Landflow) -> None:
    _did, code = waiting(demo_lf)
    sign_in_page(client, "auditor")
    page = client.get("/audit/dossiers", query_string={"code": code}).get_data(as_text=True)
    assert "Đang giải quyết · đang chờ cơ quan khác trả lời" in page


def test_the_tax_officer_records_the_notice_on_a_page_once(client: FlaskClient, demo_lf: Landflow) -> None:
    did, code = waiting(demo_lf)
    token = sign_in_page(client, "tax.haivan")  # Thuế cơ sở 2: not the unit serving Hải Châu
    page = client.get("/messages", query_string={"code": code}).get_data(as_text=True)
    assert 'id="nothing-awaited"' in page and "Văn bản trả lời hồ sơ" in page
    client.post("/logout", data={"csrf_token": token})
    token = sign_in_page(client, "tax.haichau")
    page = client.get("/messages", query_string={"code": code}).get_data(as_text=True)
    assert "Thông báo nghĩa vụ tài chính" in page and "Số tiền (đồng)" in page and "Số thông báo" in page
    key = re.search(r'name="key" value="([^"]+)"', page)
    assert key is not None
    form = {"csrf_token": token, "code": code, "message": "tax_notice", "key": key.group(1)}
    bad = client.post("/messages", data={**form, "f_amount": "nhiều", "f_notice_no": "TB-9"})
    assert bad.status_code == 422
    good = {**form, "f_amount": "35.000.000", "f_notice_no": "TB-9"}
    assert client.post("/messages", data=good).status_code == 303
    assert client.post("/messages", data=good).status_code == 303  # a second click: recorded once
    with demo_lf.db.read() as s:
        kinds = list(s.scalars(select(CaseEventRow.type).where(CaseEventRow.dossier_id == did)))
    assert kinds.count("message_received") == 1 and kinds.count("action_refused") == 1
