"""Download file names (issue 13, point 6a): one RFC 6266 builder for every `Content-Disposition`, so a
name made of request input cannot add a parameter or end the header."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

import pytest

from api.disposition import content_disposition
from config.settings import ROOT
from tests.support.figures import Figures

HOSTILE_NAMES = [
    'kpi-a";filename="x.html.csv',            # the issue's `unit=a";filename="x.html`
    "kpi-a\r\nSet-Cookie: session=stolen.csv",
    "kpi-a\nLocation: https://evil.example/.csv",
    "../../etc/passwd",
    "kpi-a\\\";x=1;.csv",
    "kpi-%22%0d%0a.csv",
    "kpi-Phường Hải Châu-2026.csv",
    "kpi-\u2028\u0085\x00\x7f.csv",
    "",
]


TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
PARAM = rf';[ ]*({TOKEN})=("(?:[^"\\\\]|\\\\.)*"|{TOKEN})'


def params(header: str) -> dict[str, str]:
    """The header read by the RFC 6266 grammar, strictly: the whole value must be a disposition type and
    `;name=value` parameters, none twice; `filename*` decoded (RFC 8187)."""
    m = re.fullmatch(rf"(?:attachment|inline)((?:{PARAM})*)", header)
    assert m, header
    out: dict[str, str] = {}
    for name, value in re.findall(PARAM, m.group(1)):
        assert name.lower() not in out, header
        out[name.lower()] = re.sub(r"\\(.)", r"\1", value[1:-1]) if value.startswith('"') else value
    if "filename*" in out:
        charset, _, encoded = out["filename*"].partition("''")
        assert charset == "UTF-8", header
        out["filename*"] = unquote(encoded, encoding="utf-8", errors="strict")
    return out


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_hostile_name_gives_one_filename_and_nothing_else(name: str, figures: Figures) -> None:
    header = content_disposition(name)
    assert header.startswith("attachment; filename=\"")
    assert not any(c in header for c in "\r\n\x00\x7f\u2028\u0085")
    found = params(header)
    assert set(found) <= {"filename", "filename*"} and "filename" in found, (header, found)
    fallback = found["filename"]
    assert fallback and all(" " <= c <= "~" and c not in '"\\%/' for c in fallback), fallback
    full = found.get("filename*", fallback)
    assert "/" not in full and "\\" not in full and all(c.isprintable() for c in full), full
    figures.add("hostile")


def test_plain_names_stay_as_they_were() -> None:
    assert content_disposition("kpi-unit-2026-01-01-2026-02-01.csv") == \
        'attachment; filename="kpi-unit-2026-01-01-2026-02-01.csv"'
    assert content_disposition("land_transfer.v3.bpmn", "inline") == 'inline; filename="land_transfer.v3.bpmn"'
    vietnamese = content_disposition("bảng-kê.csv")
    assert vietnamese == "attachment; filename=\"b_ng-k_.csv\"; filename*=UTF-8''b%E1%BA%A3ng-k%C3%AA.csv"
    assert params(vietnamese)["filename*"] == "bảng-kê.csv"


def test_every_download_uses_the_builder() -> None:
    """A structural guard: a new download that writes the header by hand fails here."""
    by_hand = []
    for path in (ROOT / "api").rglob("*.py"):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"""["']Content-Disposition["']\s*:(?!\s*(\{|content_disposition\())""", line):
                by_hand.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not by_hand, by_hand


def test_the_kpi_csv_of_an_injected_unit_carries_one_filename(sign_in: Any, figures: Figures) -> None:
    auditor = sign_in("auditor")
    unit = 'a";filename="x.html'
    resp = auditor.get("/api/v1/reports/kpi", query_string={"format": "csv", "group_by": "unit", "unit": unit})
    assert resp.status_code == 200, resp.status_code  # an unknown unit is an empty report
    header = resp.headers["Content-Disposition"]
    found = params(header)
    assert set(found) == {"filename", "filename*"}, header
    assert found["filename*"].endswith('-a";filename="x.html.csv') and '"' not in found["filename"]
    figures.add("hostile")
