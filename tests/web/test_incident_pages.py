"""The supervisors' page of procedure incidents, in Vietnamese: the stopped dossier, its element and
cause, and the form that moves it to a step (recorded, verified)."""

from __future__ import annotations

import contextlib
import re

from flask.testing import FlaskClient
from sqlalchemy import select

from engine.bootstrap import Landflow
from engine.history import verify
from engine.runtime.incidents import ProcedureIncident
from engine.store import WorkItemRow
from tests.support import defective
from tests.web.conftest import sign_in_page


def stopped_dossier(lf: Landflow) -> int:
    officers = lf.directory.get().officers
    lf.runtime.deploy(officers["supervisor"], defective.deadlock().to_xml())
    st = lf.runtime.open(officers["desk.haichau"], "deadlock_test", "20242", {"name": "Lê Thị C"}, {}, {})
    for data in ({"fast": True}, {}):
        with lf.db.read() as s:
            item = s.scalars(select(WorkItemRow).where(WorkItemRow.dossier_id == st.id,
                                                       WorkItemRow.state == "ready")).one()
        with contextlib.suppress(ProcedureIncident):
            lf.runtime.complete(officers["desk.haichau"], item.id, data)
    return st.id


def test_a_supervisor_sees_the_incident_in_vietnamese_and_moves_the_dossier(client: FlaskClient,
                                                                          demo_lf: Landflow) -> None:
    did = stopped_dossier(demo_lf)
    token = sign_in_page(client, "desk.haichau")
    assert client.get("/incidents").status_code == 403
    page = client.get(f"/dossiers/{did}").get_data(as_text=True)
    assert "Hồ sơ này đang dừng do lỗi của quy trình (tại join)" in page  # the officer sees why, unblamed
    client.post("/logout", data={"csrf_token": token})
    token = sign_in_page(client, "supervisor")
    page = client.get("/incidents").get_data(as_text=True)
    assert "Sự cố quy trình" in page and "<code>join</code>" in page
    assert "Quy trình không còn bước nào mở" in page and "Chuyển hồ sơ" in page
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version is not None
    resp = client.post(f"/incidents/{did}/move", data={"csrf_token": token, "version": version.group(1),
                                                       "to_step": "after", "reason": "Cổng hợp nhất bị tắc"})
    assert resp.status_code == 303
    page = client.get("/incidents").get_data(as_text=True)
    assert "Hồ sơ đã được chuyển đến bước đã chọn" in page
    assert "Không có hồ sơ nào bị dừng do sự cố quy trình." in page
    with demo_lf.db.read() as s:
        assert verify(s, demo_lf.procedures, did).ok
