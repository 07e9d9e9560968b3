"""A dossier's papers over HTTP: multipart upload, list, download; refusals that store nothing."""

from __future__ import annotations

import io
from typing import Any

import pytest

from engine.bootstrap import Landflow
from tests.reliability.land import open_body
from tests.support.files import ELF, jpeg, pdf, png


def stored_files(lf: Landflow) -> list[Any]:
    root = lf.blobs.root
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def upload(caller: Any, dossier: int, data: bytes, name: str, **form: str) -> Any:
    return caller.post(f"/api/v1/dossiers/{dossier}/documents", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(data), name), **form})


@pytest.fixture
def dossier(sign_in: Any) -> int:
    resp = sign_in("desk.haichau").post("/api/v1/dossiers", json=open_body(1))
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return int(resp.json["id"])


def test_the_desk_uploads_lists_and_downloads_papers(sign_in: Any, dossier: int, demo_lf: Landflow) -> None:
    desk = sign_in("desk.haichau")
    resp = upload(desk, dossier, pdf(), "Đơn mẫu 18.pdf", paper="don_mau_18")
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert resp.json["paper"] == "don_mau_18" and resp.json["media_type"] == "application/pdf"
    resp = upload(desk, dossier, jpeg(), "gcn.PNG", paper="giay_chung_nhan")  # a JPEG named .PNG: the bytes win
    assert resp.status_code == 201 and resp.json["media_type"] == "image/jpeg" and resp.json["name"] == "gcn.jpg"
    listed = desk.get(f"/api/v1/dossiers/{dossier}/documents").json
    assert [d["paper"] for d in listed] == ["don_mau_18", "giay_chung_nhan"]
    got = desk.get(f"/api/v1/dossiers/{dossier}/documents/{listed[0]['sha256']}")
    assert got.status_code == 200 and got.data == pdf()
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%C4%90%C6%A1n" in got.headers["Content-Disposition"]
    # the history names them; verify covers them
    verified = sign_in("auditor").get(f"/api/v1/dossiers/{dossier}/verify")
    assert verified.status_code == 200 and verified.json["ok"] is True, verified.json


@pytest.mark.parametrize("data,name,status,code", [
    (ELF, "hop dong.pdf", 415, "unsupported_type"),
    (b"", "trong.pdf", 422, "empty_file"),
])
def test_bad_uploads_get_a_clear_4xx_and_store_nothing(sign_in: Any, dossier: int, demo_lf: Landflow, data: bytes,
                                                       name: str, status: int, code: str) -> None:
    resp = upload(sign_in("desk.haichau"), dossier, data, name)
    assert resp.status_code == status and resp.json["code"] == code
    assert resp.headers["Content-Type"] == "application/problem+json"
    assert stored_files(demo_lf) == []
    assert sign_in("desk.haichau").get(f"/api/v1/dossiers/{dossier}/documents").json == []


def test_an_oversized_file_is_413_and_stores_nothing(sign_in: Any, dossier: int, demo_lf: Landflow) -> None:
    big = pdf() + b"%" * (demo_lf.settings.max_upload_bytes + 100 * 1024)
    resp = upload(sign_in("desk.haichau"), dossier, big, "lon.pdf")
    assert resp.status_code == 413
    assert resp.headers["Content-Type"] == "application/problem+json"
    assert stored_files(demo_lf) == []


def test_a_dossier_the_officer_cannot_read_is_404_for_upload_list_and_download(
        sign_in: Any, dossier: int, demo_lf: Landflow) -> None:
    desk = sign_in("desk.haichau")
    sha = upload(desk, dossier, png(), "so do.png").json["sha256"]
    other = sign_in("desk.bengiang")
    before = stored_files(demo_lf)
    resp = upload(other, dossier, pdf("khac"), "x.pdf")
    assert resp.status_code == 404 and resp.json["code"] == "not_found"
    assert stored_files(demo_lf) == before
    assert other.get(f"/api/v1/dossiers/{dossier}/documents").status_code == 404
    assert other.get(f"/api/v1/dossiers/{dossier}/documents/{sha}").status_code == 404
    # a hash of a file of another dossier is not served through this one
    second = desk.post("/api/v1/dossiers", json=open_body(2)).json["id"]
    assert desk.get(f"/api/v1/dossiers/{second}/documents/{sha}").status_code == 404
