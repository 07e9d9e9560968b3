"""The checker tells the truth over HTTP: what `validate` accepts, `deploy` stores (no 500), and a file
in another encoding than UTF-8 is read by its XML declaration or refused with 422."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from sqlalchemy import select

from engine.bootstrap import Landflow
from engine.store import ProcedureVersionRow
from tests.support.bpmn_builder import small_procedure

DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
TONES = "\u0300\u0301\u0303\u0309\u0323"  # grave, acute, tilde, hook above, dot below


def cp1258(text: str) -> bytes:
    """Vietnamese as windows-1258 writes it: letters with their vowel marks (â, ơ, ư…) precomposed, the
    tone mark as a combining character after them (Python's codec does not decompose by itself)."""
    out = []
    for c in text:
        parts = unicodedata.normalize("NFD", c)
        tones = "".join(m for m in parts if m in TONES)
        out.append(unicodedata.normalize("NFC", "".join(m for m in parts if m not in TONES)) + tones)
    return "".join(out).encode("cp1258")


def declared(encoding: str, codec: str) -> bytes:
    text = small_procedure().to_xml().decode("utf-8")
    assert text.startswith(DECLARATION)
    if codec == "iso-8859-1":  # Vietnamese does not fit Latin-1: a procedure named without diacritics
        text = text.replace("Thủ tục thử nghiệm", "Thu tuc thu nghiem, phí 5€ ÷ 2")
        for name in ("Nhận hồ sơ", "Tiếp nhận, kiểm tra hồ sơ"):
            text = text.replace(name, "Nhan ho so")
        text = "".join(c if ord(c) < 256 else "?" for c in text)
    text = text.replace(DECLARATION, f'<?xml version="1.0" encoding="{encoding}"?>')
    return cp1258(text) if codec == "cp1258" else text.encode(codec)


@pytest.mark.parametrize("encoding,codec", [("ISO-8859-1", "iso-8859-1"), ("windows-1258", "cp1258")])
def test_a_file_in_its_declared_encoding_validates_and_deploys(sign_in: Any, demo_lf: Landflow, encoding: str,
                                                               codec: str) -> None:
    supervisor = sign_in("supervisor")
    data = declared(encoding, codec)
    assert data.decode("utf-8", "replace") != data.decode(codec)  # really not UTF-8
    report = supervisor.post("/api/v1/procedures/validate", data=data, content_type="application/xml")
    assert report.status_code == 200 and report.json["ok"], report.json
    resp = supervisor.post("/api/v1/procedures", data=data, content_type="application/xml")
    assert resp.status_code == 201, resp.get_data(as_text=True)
    with demo_lf.db.read() as s:
        row = s.scalars(select(ProcedureVersionRow).where(ProcedureVersionRow.key == "small_test")).one()
    assert row.bpmn.startswith(DECLARATION)  # stored as UTF-8, declared so
    assert row.bpmn == data.decode(codec).replace(f'encoding="{encoding}"', 'encoding="UTF-8"') or codec == "cp1258"
    if codec == "cp1258":  # Vietnamese letters, composed (NFC) as every other text in landflow
        assert "Thủ tục thử nghiệm" in row.bpmn and "Tiếp nhận, kiểm tra hồ sơ" in row.bpmn
    else:
        assert "phí 5€ ÷ 2" not in row.bpmn and "phí 5? ÷ 2" in row.bpmn


@pytest.mark.parametrize("data,said", [
    # bytes that are not UTF-8, and no declaration says what they are
    (cp1258(small_procedure().to_xml().decode().replace(DECLARATION, "")), "no encoding"),
    # a declaration naming an encoding nobody knows
    (small_procedure().to_xml().replace(b'encoding="UTF-8"', b'encoding="x-vni-1"'), "x-vni-1"),
    # bytes impossible in the declared encoding (0x81 is unassigned in windows-1258)
    (small_procedure().to_xml().replace(b'encoding="UTF-8"', b'encoding="windows-1258"')
     .replace("Thủ tục".encode(), b"Th\x81 tuc"), "windows-1258"),
])
def test_a_file_that_cannot_be_decoded_is_refused_with_422(sign_in: Any, demo_lf: Landflow, data: bytes,
                                                           said: str) -> None:
    supervisor = sign_in("supervisor")
    report = supervisor.post("/api/v1/procedures/validate", data=data, content_type="application/xml").json
    assert not report["ok"] and [p["rule"] for p in report["problems"]] == ["xml.encoding"]
    assert said in report["problems"][0]["message"]
    resp = supervisor.post("/api/v1/procedures", data=data, content_type="application/xml")
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert [p["rule"] for p in resp.json["problems"]] == ["xml.encoding"]
