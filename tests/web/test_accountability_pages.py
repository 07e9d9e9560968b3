"""The unit head's KPI page and inbox, a review through its forms, and absences: in Vietnamese."""

from __future__ import annotations

import re
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select

from engine.bootstrap import Landflow
from engine.clock import FixedClock
from engine.reviews import Reviews, SignalKey
from engine.store import ReviewRow, SignalRow
from tests.conftest import officer
from tests.web.conftest import sign_in_page

ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def visible(html: str) -> str:
    """The text a reader sees: no tags, scripts, attribute values."""
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def returned_by_branch(lf: Landflow) -> SignalKey:
    rt = lf.runtime
    st = rt.open(officer(lf, "desk.haichau"), "land_transfer", "20242", {"name": "Lê Văn Tám"},
                 {"sheet": "12", "number": "345"}, {})
    receive = next(i for i in st.open_items() if i.step == "receive")
    st = rt.complete(officer(lf, "desk.haichau"), receive.id, {"decision": "accept", "kind": "transfer"})
    check = next(i for i in st.open_items() if i.step == "check_rights")
    rt.return_(officer(lf, "branch.haichau"), check.id, "receive", "thiếu giấy tờ")
    with lf.db.read() as s:
        sig = s.scalar(select(SignalRow).where(SignalRow.dossier_id == st.id, SignalRow.kind == "returned"))
        assert sig is not None
        return SignalKey(st.id, sig.seq, "returned")


def test_unit_head_kpi_page_and_inbox(client: FlaskClient, demo_lf: Landflow, demo_clock: FixedClock) -> None:
    lf = demo_lf
    key = returned_by_branch(lf)
    token = sign_in_page(client, "head.cnkv01")

    kpi = client.get("/audit/kpi")  # a 403 before: only auditors and supervisors had the page
    assert kpi.status_code == 200, kpi.status_code
    page = kpi.get_data(as_text=True)
    assert "Chi nhánh" in page and "Tỷ lệ đúng hạn" in page
    assert "Xác nhận né tránh" in page and "Nguyên nhân chậm" in page
    assert not ISO_DATE.search(visible(page))
    assert client.get("/audit/kpi?csv=kpi-units").status_code == 200

    # inbox: the escalations, explanations due and reviews to decide of the unit
    inbox = client.get("/accountability")
    assert inbox.status_code == 200
    text = visible(inbox.get_data(as_text=True))
    for words in ("Hộp việc trách nhiệm", "Giải trình tôi phải nộp", "Cần ra kết luận", "Giải trình đang chờ",
                  "Báo cáo lãnh đạo"):
        assert words in text, words

    # open a review of the branch officer's return from its page
    form = client.get(f"/accountability/reviews/new?dossier={key.dossier_id}&seq={key.seq}&kind=returned")
    assert form.status_code == 200 and "Mở xem xét" in form.get_data(as_text=True)
    resp = client.post("/accountability/reviews/new", data={"csrf_token": token, "dossier": key.dossier_id,
                                                            "seq": key.seq, "kind": "returned", "note": ""})
    assert resp.status_code == 303, resp.get_data(as_text=True)[:300]
    with lf.db.read() as s:
        review_id = s.scalar(select(ReviewRow.id))
    inbox = visible(client.get("/accountability").get_data(as_text=True))
    assert "Chờ giải trình" in inbox and not ISO_DATE.search(inbox)

    # the officer explains through the page
    other = client.application.test_client()
    token2 = sign_in_page(other, "branch.haichau")
    page = other.get(f"/accountability/reviews/{review_id}").get_data(as_text=True)
    assert "Giải trình của anh/chị" in page
    resp = other.post(f"/accountability/reviews/{review_id}", data={"csrf_token": token2, "act": "explain",
                                                                    "explanation": "Tôi nhầm thành phần hồ sơ."})
    assert resp.status_code == 303

    # the head decides; a justified verdict without its cause comes back in Vietnamese, 422
    resp = client.post(f"/accountability/reviews/{review_id}", data={
        "csrf_token": token, "act": "decide", "verdict": "justified", "reason": "Có lý do"})
    assert resp.status_code == 422 and "nêu nguyên nhân" in resp.get_data(as_text=True)
    resp = client.post(f"/accountability/reviews/{review_id}", data={
        "csrf_token": token, "act": "decide", "verdict": "shirking_confirmed", "reason": "Hồ sơ đã đủ."})
    assert resp.status_code == 303
    page = visible(client.get(f"/accountability/reviews/{review_id}").get_data(as_text=True))
    assert "Xác nhận né tránh" in page and "Đã kết luận" in page and not ISO_DATE.search(page)
    kpi = client.get("/audit/kpi").get_data(as_text=True)
    assert "Xác nhận né tránh" in kpi


def test_absences_page(client: FlaskClient, demo_lf: Landflow, demo_clock: FixedClock) -> None:
    token = sign_in_page(client, "head.haichau")
    page = client.get("/accountability/absences")
    assert page.status_code == 200 and "Vắng mặt và người thay thế" in page.get_data(as_text=True)
    today = demo_clock.now().astimezone(demo_lf.calendar.tz).date()
    resp = client.post("/accountability/absences", data={
        "csrf_token": token, "officer": "land.haichau", "deputy": "desk.haichau", "from": today.isoformat(),
        "to": (today + timedelta(days=1)).isoformat(), "reason": "nghỉ phép"})
    assert resp.status_code == 422 and "người thay thế phải là" in resp.get_data(as_text=True).lower()
    resp = client.post("/accountability/absences", data={
        "csrf_token": token, "officer": "econ.haichau", "deputy": "head.haichau", "from": today.isoformat(),
        "to": (today + timedelta(days=1)).isoformat(), "reason": "nghỉ phép"})
    assert resp.status_code == 422
    sign_in_page(client, "land.haichau")
    assert client.get("/accountability/absences").status_code == 403
    assert client.get("/accountability").status_code == 200  # every officer has an inbox: what they owe


def test_inspector_sees_reviews_of_every_unit(client: FlaskClient, demo_lf: Landflow) -> None:
    review = Reviews.of(demo_lf).open(officer(demo_lf, "inspector"), returned_by_branch(demo_lf))
    sign_in_page(client, "inspector")
    assert client.get(f"/accountability/reviews/{review.id}").status_code == 200
    assert client.get("/audit/kpi").status_code == 200
    sign_in_page(client, "head.haichau")
    assert client.get(f"/accountability/reviews/{review.id}").status_code == 404
