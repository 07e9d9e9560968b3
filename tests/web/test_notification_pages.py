"""The reception page takes the applicant's consent to notifications; the desk's worklist lists the
notifications that did not reach the applicant, in Vietnamese, with the dossier code and the error."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from engine.bootstrap import Landflow
from engine.store import NotificationRow
from tests.api.test_notifications_api import fail_everything, notify_of
from tests.web.conftest import sign_in_page


def test_reception_page_takes_consent_and_the_worklist_lists_failures(client: FlaskClient, demo_lf: Landflow) -> None:
    csrf = sign_in_page(client, "desk.haichau")
    form = client.get("/reception", query_string={"procedure": "land_transfer", "commune_q": "Hải Châu"})
    html = form.get_data(as_text=True)
    assert 'name="notify_consent"' in html and "đồng ý nhận thông báo" in html
    resp = client.post("/reception/land_transfer", data={
        "csrf_token": csrf, "commune_q": "Hải Châu", "commune": "20242", "applicant_name": "Trần Thị Bình",
        "applicant_id_kind": "cccd", "applicant_id_number": "048090009876", "applicant_phone": "0905777888",
        "notify_consent": "on", "channel": "in_person"})
    assert resp.status_code == 303, resp.get_data(as_text=True)[:2000]
    with demo_lf.db.read() as s:
        did, code = s.execute(select(NotificationRow.dossier_id, NotificationRow.code)).one()
    assert notify_of(demo_lf, did) == {"consent": True, "channels": ["sms"]}  # no email given: SMS only

    dossier = client.get(f"/dossiers/{did}").get_data(as_text=True)
    assert "Thông báo cho người nộp" in dossier and "đồng ý nhận: Tin nhắn SMS" in dossier
    assert "Tiếp nhận hồ sơ · Tin nhắn SMS: chờ gửi" in dossier
    page = client.get("/worklist").get_data(as_text=True)
    assert "Thông báo chưa đến được người nộp hồ sơ" not in page
    fail_everything(demo_lf)
    page = client.get("/worklist").get_data(as_text=True)
    assert "Thông báo chưa đến được người nộp hồ sơ" in page
    table = page[page.index("Thông báo chưa đến được người nộp hồ sơ"):]
    for words in (code, "Tiếp nhận hồ sơ", "Tin nhắn SMS", "Không gửi được", "chưa cấu hình kênh gửi"):
        assert words in table, words
    dossier = client.get(f"/dossiers/{did}").get_data(as_text=True)
    assert "Tiếp nhận hồ sơ · Tin nhắn SMS: không gửi được" in dossier and "chưa cấu hình kênh gửi" in dossier
