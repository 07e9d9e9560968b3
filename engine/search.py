"""Finding a dossier the way a desk is asked for it: by the applicant's name (marks and case ignored, any
part: "nguyen van" finds "Nguyễn Văn An"), identity number, phone, or parcel (map sheet + number).

Each dossier has one search line (table `dossier_search`, written when it is opened; applicant and
parcel do not change afterwards): `|name|id|phone|sheet/number|`, folded, digits only where digits
mean. A search is a LIKE over it. At a province's scale a name search reads the whole table (a few
hundred ms for a million dossiers on PostgreSQL); identity and phone searches could take an index
(pg_trgm) if that ever matters: see docs/decisions.
"""

from __future__ import annotations

import re
from typing import Any

from .communes import fold

_DIGITS = re.compile(r"\D+")


def digits(value: Any) -> str:
    return _DIGITS.sub("", str(value or ""))


def search_line(applicant: dict[str, Any], parcel: dict[str, Any]) -> str:
    name = fold(str(applicant.get("name") or "")).replace("|", " ")
    sheet = fold(str(parcel.get("sheet") or "")).replace("|", " ").replace("/", " ")
    number = fold(str(parcel.get("number") or "")).replace("|", " ").replace("/", " ")
    return f"|{name}|{digits(applicant.get('id_number'))}|{digits(applicant.get('phone'))}|{sheet}/{number}|"[:600]


def patterns(applicant: str | None = None, id_number: str | None = None, phone: str | None = None,
             parcel: str | None = None) -> list[str] | None:
    """LIKE patterns (all must match) for the given criteria; None when a criterion folds to nothing (it
    then matches nothing rather than everything)."""
    out: list[str] = []

    def esc(text: str) -> str:
        return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

    parts: list[tuple[str, str]] = []
    if applicant is not None:
        parts.append(("|%{}%|%", fold(applicant)))
    if id_number is not None:
        parts.append(("%|%|{}|%", digits(id_number)))
    if phone is not None:
        parts.append(("%|{}|%/%|", digits(phone)))
    if parcel is not None:
        sheet, _, number = parcel.partition("/")
        if not fold(sheet) or not fold(number):
            return None
        out.append(f"%|{esc(fold(sheet))}/{esc(fold(number))}|")
    for template, value in parts:
        if not value:
            return None
        out.append(template.format(esc(value)))
    return out
