"""The pages through Flask's test client on the real app and a real database (SQLite and PostgreSQL):
CSRF, headers and cookies, signing in and out, refusals in the officer's words, signed decisions,
supplements and apologies, error pages, CSV, role gates."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from datetime import datetime, time
from typing import Any

from cryptography.hazmat.primitives import serialization
from flask.testing import FlaskClient
from sqlalchemy import func, select

from engine.bootstrap import Landflow
from engine.clock import FixedClock
from engine.history import verify
from engine.jsoncanon import iso
from engine.runtime import DossierState
from engine.signatures import new_private_key, public_key_text, register_key
from engine.store import ApiTokenRow, AuditEntryRow, CaseEventRow, DossierRow, SignalRow, WorkItemRow
from tests.support.decisions import records_issued
from tests.web.conftest import csrf_of, sign_in_page

APPLICANT = {"name": "Trần Văn Bảy", "id_number": "048080001234"}


def officer(lf: Landflow, username: str) -> Any:
    return lf.directory.get().officers[username]


def open_land_transfer(lf: Landflow) -> DossierState:
    return lf.runtime.open(officer(lf, "desk.haichau"), "land_transfer", "20242", APPLICANT,
                           {"sheet": "3", "number": "77"}, {})


def item_of(lf: Landflow, dossier_id: int) -> WorkItemRow:
    with lf.db.read() as s:
        return s.scalars(select(WorkItemRow).where(WorkItemRow.dossier_id == dossier_id,
                                                   WorkItemRow.state.in_(("ready", "claimed")))).one()


def events(lf: Landflow, dossier_id: int) -> list[tuple[str, dict[str, Any]]]:
    with lf.db.read() as s:
        return [(t, json.loads(p)) for t, p in s.execute(
            select(CaseEventRow.type, CaseEventRow.payload).where(CaseEventRow.dossier_id == dossier_id)
            .order_by(CaseEventRow.seq))]


def to_update_register(lf: Landflow) -> DossierState:
    """A land transfer walked by the engine up to its signed step `update_register` (branch)."""
    st = open_land_transfer(lf)
    steps = [("desk.haichau", {"decision": "accept", "kind": "transfer"}), ("branch.haichau", {"eligible": True}),
             ("branch.haichau", {}), ("tax.haichau", {"obligation_amount": 1500000}),
             ("tax.haichau", {"payment_date": "2026-03-02"})]
    for who, data in steps:
        st = lf.runtime.complete(officer(lf, who), item_of(lf, st.id).id, data)
    assert item_of(lf, st.id).step == "update_register"
    return st


def text(resp: Any) -> str:
    return resp.get_data(as_text=True)


# -- CSRF, headers, cookies, sessions ---------------------------------------------------------------

def test_a_post_without_the_csrf_token_changes_nothing(client: FlaskClient, demo_lf: Landflow) -> None:
    resp = client.post("/login", data={"username": "desk.haichau", "password": "demo"})
    assert resp.status_code == 400 and "Biểu mẫu đã hết hạn" in text(resp)
    assert client.get("/worklist").status_code == 303  # not signed in
    token = sign_in_page(client, "desk.haichau")
    st = open_land_transfer(demo_lf)
    item = item_of(demo_lf, st.id)
    url = f"/dossiers/{st.id}/items/{item.id}/claim"
    for data, headers in (({"version": st.version}, {}),
                          ({"version": st.version, "csrf_token": "x" * 43}, {}),
                          ({"version": st.version, "csrf_token": token}, {"Origin": "https://evil.example"})):
        resp = client.post(url, data=data, headers=headers)
        assert resp.status_code == 400
        assert item_of(demo_lf, st.id).state == "ready" and len(events(demo_lf, st.id)) == 1
    resp = client.post(url, data={"version": st.version, "csrf_token": token},
                            headers={"Origin": "http://localhost"})
    assert resp.status_code == 303
    assert item_of(demo_lf, st.id).assignee == "desk.haichau"


def test_security_headers_and_session_cookie(client: FlaskClient) -> None:
    resp = client.get("/login")
    h = resp.headers
    csp = h["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert (h["X-Frame-Options"], h["X-Content-Type-Options"], h["Referrer-Policy"]) == ("DENY", "nosniff",
                                                                                         "same-origin")
    assert h["Cache-Control"] == "no-store"
    assert not re.search(r"<script(?![^>]*\bsrc=)", text(resp)), "inline script"
    cookie = resp.headers["Set-Cookie"]
    assert cookie.startswith("landflow_session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie
    secure = client.application.test_client().get("/login", base_url="https://localhost")
    assert "Secure" in secure.headers["Set-Cookie"]
    # the API keeps its own format
    assert client.get("/api/v1/nothing-here").mimetype == "application/problem+json"


def test_sign_out_revokes_the_token_behind_the_cookie(client: FlaskClient, demo_lf: Landflow) -> None:
    token = sign_in_page(client, "auditor")
    cookie = client.get_cookie("landflow_session")
    assert cookie is not None
    assert client.get("/audit/dossiers").status_code == 200
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    client.set_cookie("landflow_session", cookie.value)  # the old cookie, replayed
    assert client.get("/audit/dossiers").status_code == 303
    with demo_lf.db.read() as s:
        live = s.scalar(select(func.count()).select_from(ApiTokenRow).where(ApiTokenRow.username == "auditor",
                                                                           ApiTokenRow.revoked_at.is_(None)))
    assert live == 0


def test_after_sign_in_only_local_paths(client: FlaskClient) -> None:
    token = csrf_of(text(client.get("/login")))
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        resp = client.post("/login", data={"username": "supervisor", "password": "demo", "csrf_token": token,
                                                "next": target})
        assert resp.headers["Location"] == "/procedures", target
        token = csrf_of(text(client.get("/login")))
    resp = client.post("/login", data={"username": "supervisor", "password": "demo", "csrf_token": token,
                                            "next": "/audit/signals?kind=returned"})
    assert resp.headers["Location"] == "/audit/signals?kind=returned"


def test_role_gates_and_error_pages(client: FlaskClient, demo_lf: Landflow) -> None:
    assert client.get("/worklist").headers["Location"].startswith("/login?next=/worklist")
    sign_in_page(client, "desk.haichau")
    for path in ("/procedures/check", "/audit/kpi"):
        resp = client.get(path)
        assert resp.status_code == 403 and resp.mimetype == "text/html"
        assert "Vai trò của anh/chị không được mở trang này" in text(resp)
    missing = client.get("/no-such-page", headers={"Accept": "text/html,application/xhtml+xml"})
    assert missing.status_code == 404 and missing.mimetype == "text/html" and "Trang không tồn tại" in text(missing)
    assert missing.headers["X-Frame-Options"] == "DENY"
    assert client.get("/no-such-page").mimetype == "application/problem+json"  # curl and scripts: as before
    other = demo_lf.runtime.open(officer(demo_lf, "desk.bengiang"), "land_transfer", "20710", APPLICANT, {}, {})
    assert client.get(f"/dossiers/{other.id}").status_code == 404  # not this desk's: as if absent
    assert client.get("/procedures/land_transfer").status_code == 200  # procedures are for everyone


def test_checking_a_file_on_the_page_is_for_supervisors_and_refusals_are_recorded(
        client: FlaskClient, demo_lf: Landflow) -> None:
    """The check page validates like POST /api/v1/procedures/validate (issue 13): anyone else's attempt
    is refused by the engine and stands in the audit log, not only turned away."""
    from tests.support.bpmn_builder import small_procedure

    def refused() -> list[tuple[str, str]]:
        with demo_lf.db.read() as s:
            rows = s.execute(select(AuditEntryRow.actor, AuditEntryRow.payload).where(
                AuditEntryRow.type == "action_refused").order_by(AuditEntryRow.seq)).all()
        return [(actor, json.loads(payload)["action"]) for actor, payload in rows]

    before = refused()
    token = sign_in_page(client, "desk.haichau")
    resp = client.post("/procedures/check", data={"csrf_token": token, "intent": "check",
                                                   "bpmn": (io.BytesIO(small_procedure().to_xml()), "p.bpmn")},
                       content_type="multipart/form-data")
    assert resp.status_code == 403 and resp.mimetype == "text/html"
    assert refused()[len(before):] == [("desk.haichau", "validate")]


# -- refusals ------------------------------------------------------------------------------------------

def test_refusals_come_back_in_the_officers_words(client: FlaskClient, demo_lf: Landflow) -> None:
    token = sign_in_page(client, "desk.haichau")
    st = open_land_transfer(demo_lf)
    item = item_of(demo_lf, st.id)
    base = f"/dossiers/{st.id}/items/{item.id}"
    # a required field missing: 422, the engine's problems listed, what was typed kept
    resp = client.post(f"{base}/complete", data={"csrf_token": token, "version": st.version,
                                                      "f_decision": "refuse", "f_refusal_reason": "Ngoài thẩm quyền"})
    assert resp.status_code == 422
    page = text(resp)
    assert "Biểu mẫu chưa điền đúng." in page and "Loại: bắt buộc nhập" in page and "kind: required" not in page
    assert ">Ngoài thẩm quyền</textarea>" in page
    # an old version: 412 and the message the officer needs
    resp = client.post(f"{base}/claim", data={"csrf_token": token, "version": st.version - 1})
    assert resp.status_code == 412 and "Hồ sơ đã được người khác xử lý trước, vui lòng tải lại." in text(resp)
    # return with an empty reason: the engine refuses it (the page's `required` is only a convenience)
    resp = client.post(f"{base}/return", data={"csrf_token": token, "version": st.version, "to_step": "receive",
                                                    "reason": " "})
    assert resp.status_code == 422 and "Phải nêu lý do." in text(resp)
    codes = [p["code"] for t, p in events(demo_lf, st.id) if t == "action_refused"]
    assert codes == ["invalid_data", "stale_version", "missing_reason"]
    # the commune's land officer (who reads the dossier) without the step's role: refused, recorded in it
    client.post("/logout", data={"csrf_token": token})
    token = sign_in_page(client, "land.haichau")
    resp = client.post(f"{base}/claim", data={"csrf_token": token})
    assert resp.status_code == 403 and "Bước này cần vai trò" in html.unescape(text(resp))  # worded with its role
    assert [p["code"] for t, p in events(demo_lf, st.id) if t == "action_refused"][-1] == "wrong_role"
    # another commune's desk, who cannot read it: "not found", and nothing added to the dossier's history
    client.post("/logout", data={"csrf_token": token})
    token = sign_in_page(client, "desk.bengiang")
    resp = client.post(f"{base}/claim", data={"csrf_token": token})
    assert resp.status_code == 404 and "Bước này thuộc đơn vị khác." not in text(resp)
    assert len([t for t, _p in events(demo_lf, st.id) if t == "action_refused"]) == 4
    # the auditor reads the recorded refusals in Vietnamese, from their codes and parameters (issue 12)
    client.post("/logout", data={"csrf_token": token})
    sign_in_page(client, "auditor")
    history = html.unescape(text(client.get(f"/audit/dossiers/{st.id}")))
    assert "Nhận xử lý" in history and "you do not hold" not in history and "wrong_role" not in history
    token = sign_in_page(client, "desk.bengiang")
    assert item_of(demo_lf, st.id).state == "ready"
    # an item that is not this dossier's: not found, nothing recorded
    assert client.post(f"/dossiers/{st.id + 1000}/items/{item.id}/claim",
                            data={"csrf_token": token}).status_code == 404


def test_a_refusal_on_the_step_form_needs_its_reason(client: FlaskClient, demo_lf: Landflow) -> None:
    """Refusing at reception from the step form: an empty or blank reason is refused (422, the officer's
    words kept, nothing changed); with a reason the dossier ends refused and leaves a `returned` signal."""
    token = sign_in_page(client, "desk.haichau")
    st = open_land_transfer(demo_lf)
    item = item_of(demo_lf, st.id)
    page = client.get(f"/dossiers/{st.id}").get_data(as_text=True)  # the form says when the reason is required
    assert f'id="item{item.id}-refusal_reason-when">Bắt buộc khi chọn “Từ chối”</small>' in page
    form = {"csrf_token": token, "version": st.version, "f_decision": "refuse", "f_kind": "transfer"}
    for blank in ("", "   "):
        resp = client.post(f"/dossiers/{st.id}/items/{item.id}/complete", data={**form, "f_refusal_reason": blank})
        assert resp.status_code == 422 and "Phải nêu lý do." in text(resp)
        assert '<option value="refuse" selected>' in resp.get_data(as_text=True)  # the choice is kept
    assert item_of(demo_lf, st.id).state == "ready"
    assert [p["code"] for t, p in events(demo_lf, st.id) if t == "action_refused"] == ["missing_reason"] * 2
    resp = client.post(f"/dossiers/{st.id}/items/{item.id}/complete",
                       data={**form, "f_refusal_reason": "Thửa đất thuộc phường khác"})
    assert resp.status_code in (200, 302, 303)
    with demo_lf.db.read() as s:
        d = s.get(DossierRow, st.id)
        assert d is not None and (d.status, d.outcome) == ("done", "refused")
        found = [(x.kind, x.officer, x.reason) for x in s.scalars(select(SignalRow).where(
            SignalRow.dossier_id == st.id, SignalRow.kind == "returned"))]
    assert found == [("returned", "desk.haichau", "Thửa đất thuộc phường khác")]


# -- signed decisions ----------------------------------------------------------------------------------

def pem(key: Any, passphrase: bytes | None = None) -> bytes:
    algorithm = serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, algorithm)


def test_in_demo_mode_a_signed_step_is_completed_with_a_key_file(client: FlaskClient, demo_lf: Landflow) -> None:
    st = to_update_register(demo_lf)
    key, stranger = new_private_key(), new_private_key()
    with demo_lf.db.write() as s:
        register_key(s, "branch.haichau", public_key_text(key.public_key()), "admin", demo_lf.clock.now())
    token = sign_in_page(client, "branch.haichau")
    page = text(client.get(f"/dossiers/{st.id}"))
    # the dossier page sends a signed step to the preview; no key is asked for there
    assert "Ký quyết định" in page and "data-preview-sign" in page and 'name="key_file"' not in page
    item = item_of(demo_lf, st.id)
    url = f"/dossiers/{st.id}/items/{item.id}/complete"

    def post(**fields: Any) -> Any:
        data: dict[str, Any] = {"csrf_token": token, "sign_with": "key", **fields}
        return client.post(url, data=data, content_type="multipart/form-data")

    before = len(events(demo_lf, st.id))
    resp = post(key_file=(io.BytesIO(b"not a key"), "key.pem"))
    assert resp.status_code == 422 and "Không đọc được tệp khóa" in text(resp)
    resp = post(key_file=(io.BytesIO(pem(key, b"mat-khau")), "key.pem"))
    assert resp.status_code == 422 and "Tệp khóa cần mật khẩu" in text(resp)
    assert len(events(demo_lf, st.id)) == before  # the engine never saw these
    resp = post(key_text=pem(stranger).decode())
    assert resp.status_code == 403 and "Chữ ký không khớp" in text(resp)
    resp = post()
    assert resp.status_code == 422 and "Quyết định này phải được ký." in text(resp)
    assert [p["code"] for t, p in events(demo_lf, st.id)[before:]] == ["bad_signature", "signature_required"]
    resp = post(key_file=(io.BytesIO(pem(key, b"mat-khau")), "key.pem"), passphrase="mat-khau")
    assert resp.status_code == 303
    records_issued(client.application)
    etype, payload = events(demo_lf, st.id)[-4]  # then its record and the two register documents (slip_issued)
    assert etype == "completed" and payload["signature"]["key"] == public_key_text(key.public_key())
    with demo_lf.db.read() as s:
        assert verify(s, demo_lf.procedures, st.id).ok


def test_demo_accounts_sign_with_their_demo_certificate(client: FlaskClient, demo_lf: Landflow) -> None:
    from api.demo_pki import ensure_demo_pki

    ensure_demo_pki(demo_lf)  # as `landflow init` does in demo mode: the demo CA, its root trusted, the seal
    st = to_update_register(demo_lf)
    token = sign_in_page(client, "branch.haichau")
    item = item_of(demo_lf, st.id)
    preview = client.post(f"/dossiers/{st.id}/items/{item.id}/preview", data={"csrf_token": token},
                          content_type="multipart/form-data")
    assert preview.status_code == 200 and 'value="demo"' in text(preview)
    # the page may reach the local signing agent, and nothing else off this server
    assert "connect-src 'self' http://127.0.0.1:8765" in preview.headers["Content-Security-Policy"]
    resp = client.post(f"/dossiers/{st.id}/items/{item.id}/complete",
                       data={"csrf_token": token, "sign_with": "demo"}, content_type="multipart/form-data")
    assert resp.status_code == 303
    records_issued(client.application)
    assert (demo_lf.settings.var_dir / "keys" / "demo-ca" / "officers" / "branch.haichau.key").exists()
    etype, payload = events(demo_lf, st.id)[-4]  # then its record and the two register documents (slip_issued)
    assert etype == "completed" and payload["signature"]["key"].startswith("-----BEGIN CERTIFICATE-----")
    with demo_lf.db.read() as s:
        assert verify(s, demo_lf.procedures, st.id).ok
    # the record is sealed by the demo seal and validates against the demo root
    from engine.pdfsign import verify_pdf

    issued = [p for t, p in events(demo_lf, st.id) if t == "slip_issued"]
    record = demo_lf.blobs.get(issued[-1]["sha256"])
    assert record is not None and verify_pdf(record, demo_lf.settings.trust_roots).ok


def test_a_pasted_key_is_refused_for_a_real_account_and_never_used(client: FlaskClient, demo_lf: Landflow) -> None:
    """Pasting a private key is for demo accounts in demo mode only: a real account (as every account in
    production) is refused before anything is signed, and the engine never sees it."""
    from api.auth import hash_password
    from engine.org import add_officer

    st = to_update_register(demo_lf)
    key = new_private_key()
    with demo_lf.db.write() as s:
        add_officer(s, "branch.real", "Nguyễn Văn Thật", "CN-KV01", ["registration_branch"],
                    password_hash=hash_password("mat-khau-that-1"))
        register_key(s, "branch.real", public_key_text(key.public_key()), "admin", demo_lf.clock.now())
    demo_lf.directory.refresh()
    token = sign_in_page(client, "branch.real", "mat-khau-that-1")
    item = item_of(demo_lf, st.id)
    before = len(events(demo_lf, st.id))
    resp = client.post(f"/dossiers/{st.id}/items/{item.id}/complete",
                       data={"csrf_token": token, "sign_with": "key", "key_text": pem(key).decode()},
                       content_type="multipart/form-data")
    assert resp.status_code == 422 and "không bao giờ được gửi lên máy chủ" in text(resp)
    assert len(events(demo_lf, st.id)) == before and item_of(demo_lf, st.id).id == item.id
    # nor does the preview offer it
    preview = client.post(f"/dossiers/{st.id}/items/{item.id}/preview", data={"csrf_token": token},
                          content_type="multipart/form-data")
    assert preview.status_code == 200 and 'name="key_text"' not in text(preview)


# -- supplements, apologies, CSV -----------------------------------------------------------------------

def test_supplement_and_apology_from_the_dossier_page(client: FlaskClient, demo_lf: Landflow) -> None:
    st = open_land_transfer(demo_lf)
    token = sign_in_page(client, "desk.haichau")
    item = item_of(demo_lf, st.id)
    resp = client.post(f"/dossiers/{st.id}/items/{item.id}/supplement",
                            data={"csrf_token": token, "reason": "Bổ sung bản sao hợp đồng công chứng"})
    assert resp.status_code == 303
    page = text(client.get(f"/dossiers/{st.id}"))
    assert "Đã ghi nhận yêu cầu bổ sung" in page and "Nhận hồ sơ bổ sung" in page
    assert "tạm dừng tính thời hạn" in page
    resp = client.post(f"/dossiers/{st.id}/do/receive_supplement", data={"csrf_token": token, "note": "Đủ"})
    assert resp.status_code == 303
    with demo_lf.db.read() as s:
        due = s.scalar(select(DossierRow.due_at).where(DossierRow.id == st.id))
    tz = demo_lf.calendar.tz
    later = demo_lf.calendar.add_days_end(due, 3).astimezone(tz).date()
    # eight working days left: no apology yet (offered nor accepted)
    assert f"/dossiers/{st.id}/do/apologise" not in text(client.get(f"/dossiers/{st.id}"))
    resp = client.post(f"/dossiers/{st.id}/do/apologise", data={"csrf_token": token, "reason": "Quá tải",
                                                                     "new_date": later.isoformat()})
    assert resp.status_code == 422 and "hoặc đã quá hạn" in text(resp)
    clock = demo_lf.clock
    assert isinstance(clock, FixedClock)
    clock.set(demo_lf.calendar.subtract(due, "PT2H"))  # the day it is due
    token = sign_in_page(client, "desk.haichau")
    assert f"/dossiers/{st.id}/do/apologise" in text(client.get(f"/dossiers/{st.id}"))
    resp = client.post(f"/dossiers/{st.id}/do/apologise", data={"csrf_token": token, "reason": "Quá tải",
                                                                     "new_date": later.isoformat()})
    assert resp.status_code == 303
    types = [t for t, _ in events(demo_lf, st.id)]
    assert types == ["opened", "supplement_requested", "supplement_received", "action_refused", "apologised"]
    apology = events(demo_lf, st.id)[-1][1]
    # the new date's end of the office day (17:00 local)
    assert apology["new_due"] == iso(datetime.combine(later, time(17, 0), tz)) and apology["reason"] == "Quá tải"
    resp = client.post(f"/dossiers/{st.id}/do/apologise", data={"csrf_token": token, "reason": "Lần nữa",
                                                                     "new_date": later.isoformat()})
    assert resp.status_code == 409 and "Chỉ được hẹn lại ngày trả một lần." in text(resp)


def test_csv_is_excel_ready_and_defuses_formulas(client: FlaskClient, demo_lf: Landflow) -> None:
    st = open_land_transfer(demo_lf)
    item = item_of(demo_lf, st.id)
    demo_lf.runtime.transfer(officer(demo_lf, "desk.haichau"), item.id, "=HYPERLINK(\"http://x\")", to_unit="20710")
    sign_in_page(client, "auditor")
    resp = client.get("/audit/signals?kind=rerouted&csv=signals")
    assert resp.mimetype == "text/csv" and 'filename="signals.csv"' in resp.headers["Content-Disposition"]
    body = resp.get_data()
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Thời điểm", "Dấu hiệu", "Hồ sơ"]
    reasons = [r[-1] for r in rows[1:] if r[2] == st.code]
    assert reasons == ["'=HYPERLINK(\"http://x\")"]
    with demo_lf.db.read() as s:
        total = s.scalar(select(func.count()).select_from(SignalRow).where(SignalRow.kind == "rerouted"))
    assert len(rows) - 1 == total
    assert client.get("/audit/signals?csv=nothing").status_code == 404


def test_failed_sign_ins_are_limited_like_the_apis(client: FlaskClient, demo_lf: Landflow) -> None:
    token = csrf_of(text(client.get("/login")))
    statuses = [client.post("/login", data={"username": "desk.haichau", "password": "wrong", "csrf_token": token})
                .status_code for _ in range(11)]
    assert statuses == [401] * 10 + [429]
    resp = client.post("/login", data={"username": "desk.haichau", "password": "demo", "csrf_token": token})
    assert resp.status_code == 429 and "Đăng nhập sai quá nhiều lần" in text(resp)
    other = client.post("/login", data={"username": "land.haichau", "password": "demo", "csrf_token": token})
    assert other.status_code == 303  # another username is not held up


def test_a_deploy_by_an_officer_is_refused_and_recorded(client: FlaskClient, demo_lf: Landflow) -> None:
    from config.settings import ROOT
    from engine.store import AuditEntryRow, ProcedureVersionRow

    token = sign_in_page(client, "branch.haichau")
    bpmn = (ROOT / "workflows" / "land" / "mortgage_registration.bpmn").read_bytes().replace(b"P1D", b"P2D", 1)
    resp = client.post("/procedures/deploy", data={"csrf_token": token, "bpmn": (io.BytesIO(bpmn), "m.bpmn")},
                       content_type="multipart/form-data")
    assert resp.status_code == 403 and "Anh/chị không có vai trò cần thiết." in text(resp)
    with demo_lf.db.read() as s:
        refused = [json.loads(p) for p in s.scalars(select(AuditEntryRow.payload).where(
            AuditEntryRow.type == "action_refused", AuditEntryRow.actor == "branch.haichau"))]
        count = s.scalar(select(func.count()).select_from(ProcedureVersionRow)
                         .where(ProcedureVersionRow.key == "mortgage_registration"))
    assert [(r["action"], r["code"]) for r in refused] == [("deploy", "wrong_role")] and count == 1
