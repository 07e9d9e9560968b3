"""Issue 12, defect 2, on the pages: a number field is a text box the engine reads the Vietnamese way
(a browser's number input would throw `35.000.000` away before the engine saw it)."""

from __future__ import annotations

import html
import json

from flask.testing import FlaskClient
from sqlalchemy import select

from engine.bootstrap import Landflow
from engine.store import CaseEventRow, SignalRow, WorkItemRow
from tests.web.conftest import sign_in_page


def test_the_tax_officer_types_35_000_000_on_the_page(client: FlaskClient, demo_lf: Landflow) -> None:
    rt, officers = demo_lf.runtime, demo_lf.directory.get().officers
    st = rt.open(officers["desk.haichau"], "land_transfer", "20242", {"name": "Trần Văn Bảy"}, {}, {})

    def item() -> WorkItemRow:
        with demo_lf.db.read() as s:
            return s.scalars(select(WorkItemRow).where(WorkItemRow.dossier_id == st.id,
                                                       WorkItemRow.state.in_(("ready", "claimed")))).one()

    for who, data in (("desk.haichau", {"decision": "accept", "kind": "transfer"}),
                      ("branch.haichau", {"eligible": True}), ("branch.haichau", {})):
        st = rt.complete(officers[who], item().id, data)
    token = sign_in_page(client, "tax.haichau")
    page = client.get(f"/dossiers/{st.id}").get_data(as_text=True)
    assert 'name="f_obligation_amount" type="text" inputmode="decimal"' in page
    url = f"/dossiers/{st.id}/items/{item().id}/complete"
    resp = client.post(url, data={"csrf_token": token, "version": st.version, "f_obligation_amount": "1.500"})
    said = html.unescape(resp.get_data(as_text=True))
    assert resp.status_code == 422 and "“1.500” có thể hiểu theo hai cách (1500 hoặc 1,5)" in said, said[-3000:]
    resp = client.post(url, data={"csrf_token": token, "version": st.version, "f_obligation_amount": "35.000.000",
                                  "f_notice_no": "TB-01"})
    assert resp.status_code in (200, 303), resp.get_data(as_text=True)[:500]
    with demo_lf.db.read() as s:
        last = s.scalars(select(CaseEventRow).where(CaseEventRow.dossier_id == st.id)
                         .order_by(CaseEventRow.seq.desc())).first()
        assert last is not None and last.type == "completed"
        assert json.loads(last.payload)["data"]["obligation_amount"] == 35_000_000
        assert list(s.scalars(select(SignalRow.kind).where(SignalRow.officer == "tax.haichau"))) == []
