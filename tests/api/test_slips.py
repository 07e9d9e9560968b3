"""The official slips as PDF: built from the events, the same bytes every time, recorded once when issued."""

from __future__ import annotations

import io
from typing import Any

import pytest
from pypdf import PdfReader

from engine.bootstrap import Landflow
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
