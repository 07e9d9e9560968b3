"""Signed PDF results (engine/pdfsign.py): PAdES by pyHanko with the seal's chain embedded, validated by
pyHanko's validator against the trust roots; one changed byte fails the check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

from pypdf import PdfWriter

from engine.pdfsign import Seal, sign_pdf, verify_pdf
from tests.support.pki import Pki


def blank_pdf() -> bytes:
    w = PdfWriter()
    w.add_blank_page(595, 842)
    w.add_metadata({"/Title": "Quyết định"})
    out = BytesIO()
    w.write(out)
    return out.getvalue()


def seal_files(pki: Pki, tmp_path: Path) -> Seal:
    seal = pki.officer("Văn phòng đăng ký đất đai - con dấu")
    (tmp_path / "seal-cert.pem").write_text(pki.bundle(seal))
    (tmp_path / "seal-key.pem").write_bytes(seal.key_pem())
    found = Seal.configured(tmp_path / "seal-cert.pem", tmp_path / "seal-key.pem")
    assert found is not None
    return found


def test_a_sealed_pdf_validates_with_its_chain_and_fails_after_one_changed_byte(tmp_path: Path) -> None:
    pki = Pki(datetime.now(UTC) - timedelta(days=30))
    roots = pki.write_roots(tmp_path / "trust")
    original = blank_pdf()
    signed = sign_pdf(original, seal_files(pki, tmp_path), reason="Kết quả giải quyết", location="Đà Nẵng")
    assert signed.startswith(original)  # an incremental update: the content is kept as it was
    check = verify_pdf(signed, roots)
    assert check.ok, check.problems
    assert check.signatures[0]["intact"] and check.signatures[0]["trusted"]
    assert check.signatures[0]["coverage"] == "ENTIRE_FILE"
    assert b"/ETSI.CAdES.detached" in signed
    # one byte of the signed content changed (inside the page's media box numbers)
    at = signed.index(b"/MediaBox") + 12
    tampered = signed[:at] + bytes([signed[at] ^ 0x01]) + signed[at + 1:]
    bad = verify_pdf(tampered, roots)
    assert not bad.ok and bad.problems
    # another root: intact but not trusted
    other = Pki(datetime.now(UTC) - timedelta(days=30)).write_roots(tmp_path / "other")
    untrusted = verify_pdf(signed, other)
    assert not untrusted.ok and "trusted root" in untrusted.problems[0]
    # no signature at all
    assert not verify_pdf(original, roots).ok
