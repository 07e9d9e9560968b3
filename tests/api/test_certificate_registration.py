"""An officer registers their own signing certificate (API and page): the certificate only, never a key,
and only one that could sign today (trusted chain, valid, usable for signing); recorded in the audit log."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from config.settings import Settings
from engine.bootstrap import Landflow
from engine.clock import FixedClock
from engine.store import AuditEntryRow
from tests.support.pki import Pki
from tests.web.conftest import sign_in_page


def test_put_my_certificate(sign_in: Any, demo_lf: Landflow, demo_settings: Settings, demo_clock: FixedClock) -> None:
    pki = Pki(demo_clock.now() - timedelta(days=10))
    pki.write_roots(demo_settings.trust_roots)
    branch = sign_in("branch.haichau")
    assert branch.get("/api/v1/me/certificate").status_code == 404
    mine = pki.officer("Võ Thị Kim Oanh")
    stranger = Pki(pki.start)
    cases = [(mine.key_pem().decode() + mine.pem, "certificate_only"), ("hello", "bad_certificate"),
             (stranger.bundle(stranger.officer("x")), "certificate_untrusted"),
             (pki.bundle(pki.officer("enc", usage="encrypt")), "certificate_key_usage")]
    for text, code in cases:
        resp = branch.put("/api/v1/me/certificate", json={"certificate": text})
        assert (resp.status_code, resp.json["code"]) == (422, code), resp.json
    resp = branch.put("/api/v1/me/certificate", json={"certificate": pki.bundle(mine)})
    assert resp.status_code == 200 and resp.json["subject"].startswith("CN=Võ Thị Kim Oanh")
    assert branch.get("/api/v1/me/certificate").json["sha256"] == resp.json["sha256"]
    with demo_lf.db.read() as s:
        entries = [json.loads(p) for p in s.scalars(select(AuditEntryRow.payload)
                                                    .where(AuditEntryRow.type == "officer_key"))]
    assert entries[-1]["officer"] == "branch.haichau" and entries[-1]["key"] == pki.bundle(mine)
    assert "PRIVATE KEY" not in "".join(e["key"] for e in entries)


def test_the_page_registers_my_certificate(client: FlaskClient, demo_lf: Landflow, demo_settings: Settings,
                                           demo_clock: FixedClock) -> None:
    pki = Pki(demo_clock.now() - timedelta(days=10))
    pki.write_roots(demo_settings.trust_roots)
    token = sign_in_page(client, "branch.haichau")
    page = client.get("/me/certificate").get_data(as_text=True)
    assert "Chứng thư số của tôi" in page and "Bạn chưa đăng ký chứng thư số." in page
    mine = pki.officer("Võ Thị Kim Oanh")
    resp = client.post("/me/certificate", data={"csrf_token": token, "certificate": (
        io.BytesIO(mine.key_pem()), "key.pem")}, content_type="multipart/form-data")
    assert resp.status_code == 422 and "tuyệt đối không tải lên khóa bí mật" in resp.get_data(as_text=True)
    resp = client.post("/me/certificate", data={"csrf_token": token, "certificate": (
        io.BytesIO(pki.bundle(mine).encode()), "oanh.cer")}, content_type="multipart/form-data")
    assert resp.status_code == 303
    page = client.get("/me/certificate").get_data(as_text=True)
    assert "CN=Võ Thị Kim Oanh" in page and format(mine.cert.serial_number, "X") in page
