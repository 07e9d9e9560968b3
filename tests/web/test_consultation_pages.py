"""A consultation of several agencies at once (decision 0163) on the pages: each agency's officer finds its
own consultation in the worklist, the dossier page lists the agencies with what each is at, and the
diagram draws the parallel marker with the open instances."""

from __future__ import annotations

import html

from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import select

from engine.bootstrap import Landflow
from engine.runtime import DossierState
from engine.store import WorkItemRow
from tests.support.bpmn_builder import agencies_procedure
from tests.web.conftest import sign_in_page

SVG = "{http://www.w3.org/2000/svg}"


def at_consultation(lf: Landflow) -> DossierState:
    officers = lf.directory.get().officers
    lf.runtime.deploy(officers["supervisor"], agencies_procedure().to_xml(), [])
    st = lf.runtime.open(officers["desk.haichau"], "consultation_test", "20242",
                         {"name": "Trần Văn Bảy", "id_number": "048080001234"}, {"sheet": "3", "number": "77"}, {})
    for who in ("desk.haichau", "land.haichau"):
        st = lf.runtime.complete(officers[who], open_items(lf, st.id)[0].id, {})
    return st


def open_items(lf: Landflow, dossier_id: int) -> list[WorkItemRow]:
    with lf.db.read() as s:
        return list(s.scalars(select(WorkItemRow).where(WorkItemRow.dossier_id == dossier_id,
                                                        WorkItemRow.state.in_(("ready", "claimed")))
                              .order_by(WorkItemRow.ordinal)))


def page(client: FlaskClient, path: str) -> str:
    resp = client.get(path)
    assert resp.status_code == 200, resp.status_code
    return html.unescape(resp.get_data(as_text=True))


def consultation_line(text: str) -> str:
    (line,) = [li for li in text.split("<li>") if li.startswith("Lấy ý kiến cơ quan liên quan:")]
    return line.split("</li>")[0]


def test_each_agency_sees_its_consultation_and_the_page_lists_them(client: FlaskClient, demo_lf: Landflow) -> None:
    st = at_consultation(demo_lf)
    tax, econ = open_items(demo_lf, st.id)
    assert (tax.role, econ.role) == ("tax_office", "commune_economic_division")
    units = demo_lf.directory.get().units

    sign_in_page(client, "tax.haichau")
    assert st.code in page(client, "/worklist")
    text = page(client, f"/dossiers/{st.id}")
    assert "Lấy ý kiến" in text
    assert consultation_line(text) == (f"Lấy ý kiến cơ quan liên quan: {units[str(tax.unit)].name} — đang xử lý; "
                                       f"{units[str(econ.unit)].name} — đang xử lý")
    # the tax officer's panel holds its own item only, and offers no return (decision 0163)
    assert f'id="item-{tax.id}"' in text and f'id="item-{econ.id}"' not in text
    assert "Trả về bước trước" not in text
    svg = etree.fromstring(text[text.index("<svg"):text.index("</svg>") + 6].encode())
    consult = [g for g in svg.iter(f"{SVG}g") if g.get("data-element-id") == "consult"][0]
    (bars,) = [p for p in consult.iter(f"{SVG}path") if p.get("class") == "marker loop parallel"]
    assert bars.get("d").count("v12") == 3  # three vertical bars
    assert [t.text for t in consult.iter(f"{SVG}text") if t.get("class") == "instances"] == ["2/2"]

    demo_lf.runtime.complete(demo_lf.directory.get().officers["econ.haichau"], econ.id, {"opinion": "Phù hợp"})
    text = page(client, f"/dossiers/{st.id}")
    assert consultation_line(text) == (f"Lấy ý kiến cơ quan liên quan: {units[str(tax.unit)].name} — đang xử lý; "
                                       f"{units[str(econ.unit)].name} — đã xong")
    svg = etree.fromstring(text[text.index("<svg"):text.index("</svg>") + 6].encode())
    consult = [g for g in svg.iter(f"{SVG}g") if g.get("data-element-id") == "consult"][0]
    assert [t.text for t in consult.iter(f"{SVG}text") if t.get("class") == "instances"] == ["1/2"]
