"""The official slips as PDF: built from the events, the same bytes every time, recorded once when issued."""

from __future__ import annotations

import io
from typing import Any

import pytest
from pypdf import PdfReader

from engine.bootstrap import Landflow
from tests.api.conftest import Caller
from tests.api.test_reception_api import body


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture
def received(sign_in: Any) -> dict[str, Any]:
    resp = sign_in("desk.haichau").post("/api/v1/dossiers", json=body())
    assert resp.status_code == 201
    return resp.json


def test_the_receipt_states_the_code_applicant_papers_and_appointment(sign_in: Any, received: dict[str, Any],
                                                                     demo_lf: Landflow) -> None:
    desk = sign_in("desk.haichau")
    resp = desk.post(f"/api/v1/dossiers/{received['id']}/slips/receipt")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.headers["Content-Type"] == "application/pdf"
    pdf = resp.data
    assert pdf.startswith(b"%PDF-")
    text = " ".join(text_of(pdf).split())
    assert received["code"] in text and "Nguyễn Văn An" in text
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "Độc lập - Tự do - Hạnh phúc" in text
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in text
    assert "Đơn đăng ký biến động đất đai" in text and "2 bản sao có chứng thực" in text
    due = demo_lf.calendar.tz and received["due"]
    from datetime import datetime
    local = datetime.fromisoformat(due).astimezone(demo_lf.calendar.tz)
    assert f"ngày {local:%d/%m/%Y}" in text
    # the same slip twice: the same bytes, recorded once
    again = desk.post(f"/api/v1/dossiers/{received['id']}/slips/receipt")
    assert again.data == pdf
    assert desk.get(f"/api/v1/dossiers/{received['id']}/slips/receipt").data == pdf
    issued = desk.get(f"/api/v1/dossiers/{received['id']}/slips").json
    assert [(s["slip"], s["as_of"]) for s in issued] == [("receipt", 1)]
    ok = sign_in("auditor").get(f"/api/v1/dossiers/{received['id']}/verify").json
    assert ok["ok"] is True, ok


def test_a_slip_with_nothing_to_state_is_409(sign_in: Any, received: dict[str, Any]) -> None:
    resp = sign_in("desk.haichau").post(f"/api/v1/dossiers/{received['id']}/slips/apology")
    assert resp.status_code == 409 and resp.json["code"] == "slip_unavailable"
    assert sign_in("desk.haichau").get(f"/api/v1/dossiers/{received['id']}/slips/nonsense").status_code == 404


def slip_shot(pdf: bytes, kind: str, tmp_path: Any) -> None:
    """docs/screenshots/slip-<kind>.png, written when missing or with LANDFLOW_WRITE_SCREENSHOTS=1."""
    import os
    import subprocess

    from config.settings import ROOT

    target = ROOT / "docs" / "screenshots" / f"slip-{kind}"
    if target.with_suffix(".png").exists() and os.environ.get("LANDFLOW_WRITE_SCREENSHOTS") != "1":
        return
    src = tmp_path / f"{kind}.pdf"
    src.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile", str(src), str(target)],
                   check=True)


def test_every_slip_states_what_its_form_asks(sign_in: Any, client: Any, demo_lf: Landflow, demo_clock: Any,
                                              tmp_path: Any) -> None:
    """The supplement request, refusal slip, apology and stop notice, each from a dossier whose history holds
    what it states (Circular 03/2025 forms 02-05), read back from the PDF."""
    from datetime import datetime, timedelta

    from tests.reliability.land import STEP_DATA

    desk = sign_in("desk.haichau")
    officers = demo_lf.directory.get().officers
    rt = demo_lf.runtime

    def opened() -> dict[str, Any]:
        resp = desk.post("/api/v1/dossiers", json=body())
        assert resp.status_code == 201
        return resp.json

    def open_item(d: dict[str, Any]) -> dict[str, Any]:
        items = sign_in("auditor").get(f"/api/v1/dossiers/{d['id']}").json["work_items"]
        return next(i for i in items if i["state"] in ("ready", "claimed"))

    # refused at reception, with its reason
    refused = opened()
    rt.complete(officers["desk.haichau"], refused["work_items"][0]["id"],
                {"decision": "refuse", "kind": "transfer", "refusal_reason": "Thửa đất không thuộc địa bàn tiếp nhận"})
    text = " ".join(text_of(desk.post(f"/api/v1/dossiers/{refused['id']}/slips/refusal").data).split())
    assert "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ" in text and "Thửa đất không thuộc địa bàn tiếp nhận" in text
    slip_shot(desk.post(f"/api/v1/dossiers/{refused['id']}/slips/refusal").data, "refusal", tmp_path)

    # a supplement asked for by the branch
    asked = opened()
    rt.complete(officers["desk.haichau"], asked["work_items"][0]["id"], STEP_DATA["receive"])
    item = open_item(asked)
    rt.request_supplement(officers["branch.haichau"], item["id"], "Hợp đồng chuyển nhượng có công chứng\nBản sao CCCD")
    pdf = desk.post(f"/api/v1/dossiers/{asked['id']}/slips/supplement").data
    text = " ".join(text_of(pdf).split())
    assert "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ" in text
    assert "Hợp đồng chuyển nhượng có công chứng" in text and "Bản sao CCCD" in text
    slip_shot(pdf, "supplement", tmp_path)

    # stopped at the applicant's request
    stopped = opened()
    rt.stop(officers["desk.haichau"], stopped["id"], "Người nộp rút hồ sơ để bổ sung giấy tờ thừa kế")
    pdf = desk.post(f"/api/v1/dossiers/{stopped['id']}/slips/stop").data
    text = " ".join(text_of(pdf).split())
    assert "THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ" in text and "rút hồ sơ" in text
    slip_shot(pdf, "stop", tmp_path)

    # late: the desk apologises within a working day of the appointment, with a new date
    late = opened()
    due = datetime.fromisoformat(late["due"])
    demo_clock.set(due - timedelta(hours=2))
    new_due = demo_lf.calendar.add(due, "P2D")
    rt.apologise(officers["desk.haichau"], late["id"], "Chờ kết quả đo đạc lại của đơn vị đo đạc", new_due)
    desk = Caller(client, "desk.haichau")  # days later: a fresh sign-in
    resp = desk.post(f"/api/v1/dossiers/{late['id']}/slips/apology")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    pdf = resp.data
    text = " ".join(text_of(pdf).split())
    local = new_due.astimezone(demo_lf.calendar.tz)
    assert "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ" in text and f"ngày {local:%d/%m/%Y}" in text
    slip_shot(pdf, "apology", tmp_path)
