"""The one-stop slips as A4 PDF: Jinja templates rendered by WeasyPrint with Debian's fonts, the QR by segno.

The data comes from engine.papers.slips (the dossier's events only). The PDF carries no "now": its
metadata dates are the slip's own instant (and WeasyPrint derives the document identifier from the
content), so the same slip renders to the same bytes (tests/api/test_slips.py renders twice).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import segno
from jinja2 import Environment, FileSystemLoader, select_autoescape

from config.settings import Settings
from engine.lookup import lookup_token
from engine.papers.slips import Slip

TEMPLATES = Path(__file__).parent / "templates"
_env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                   trim_blocks=True, lstrip_blocks=True)


def vn_date(value: datetime | None, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%d/%m/%Y") if value else ""


def vn_time(value: datetime | None, tz: ZoneInfo) -> str:
    """'10 giờ 00 phút, ngày 13/02/2026': the slips' wording (Circular 03/2025 forms)."""
    if value is None:
        return ""
    local = value.astimezone(tz)
    return f"{local:%H} giờ {local:%M} phút, ngày {local:%d/%m/%Y}"


def place_date(place: str, value: datetime, tz: ZoneInfo) -> str:
    local = value.astimezone(tz)
    return f"{place}, ngày {local:%d} tháng {local:%m} năm {local:%Y}"


def qr_data_uri(text: str) -> str:
    return segno.make(text, error="m", micro=False).svg_data_uri(scale=3, border=2)


def render_html(slip: Slip, lookup_url: str, tz: ZoneInfo) -> str:
    template = _env.get_template(f"{slip.kind}.html")
    return template.render(s=slip, tz=tz, vn_date=lambda v: vn_date(v, tz), vn_time=lambda v: vn_time(v, tz),
                           place_date=place_date(slip.place, slip.issued_at, tz),
                           qr=qr_data_uri(lookup_url) if lookup_url else None, lookup_url=lookup_url)


def render_pdf(slip: Slip, lookup_url: str, tz: ZoneInfo) -> bytes:
    from weasyprint import HTML

    html = render_html(slip, lookup_url, tz)
    doc = HTML(string=html, base_url=str(TEMPLATES)).render()
    doc.metadata.title = f"{slip.title} – {slip.code}"
    doc.metadata.authors = [slip.agency]
    doc.metadata.created = doc.metadata.modified = slip.issued_at.astimezone(tz).isoformat(timespec="seconds")
    doc.metadata.generator = "landflow"
    pdf: bytes = doc.write_pdf()
    return pdf


def lookup_address(base_url: str, code: str, token: str | None = None) -> str:
    """The lookup page of a dossier; with the receipt's token, it opens without typing anything."""
    tail = f"&t={token}" if token else ""
    return f"{base_url.rstrip('/')}/tra-cuu?ma={code}{tail}"


def qr_address(settings: Settings, code: str) -> str:
    """What a slip's QR code holds: the lookup page of the dossier with its receipt token."""
    from ..lookup_key import lookup_key

    return lookup_address(settings.public_url, code, lookup_token(lookup_key(settings), code))
