"""The KPI charts (SVG drawn on the server), the catalogs, and the working-time phrases in both languages."""

from __future__ import annotations

import io
import re
from datetime import datetime
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask_babel import force_locale
from lxml import etree

from api.web import charts
from api.web.i18n import time_left
from config.settings import ROOT
from engine.calendar import WorkingCalendar
from tests.conftest import local

SVG = "{http://www.w3.org/2000/svg}"
CATALOG = ROOT / "api" / "translations" / "vi" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def test_bars_are_proportional_and_labelled() -> None:
    svg = etree.fromstring(str(charts.hbars([charts.Bar("Hải Châu", 0.5, "50%"), charts.Bar("Tam Kỳ", 1.0, "100%"),
                                             charts.Bar("Bến Giằng", None, "—")], title="t", description="d",
                                            uid="c")).encode())
    bars = {g.get("data-label"): float(g.find(f"{SVG}rect").get("width")) for g in svg.iter(f"{SVG}g")}
    assert bars["Tam Kỳ"] == 2 * bars["Hải Châu"] and "Bến Giằng" not in bars
    assert svg.find(f"{SVG}title").text == "t" and svg.get("role") == "img"
    texts = [t.text for t in svg.iter(f"{SVG}text") if t.text]
    assert "50%" in texts and "—" in texts


def test_stacked_columns_add_up() -> None:
    svg = etree.fromstring(str(charts.stacked(["01/03", "02/03"], [("returned", "Trả lại", [3, 0]),
                                                                   ("rerouted", "Chuyển", [1, 4])],
                                              title="t", description="d", uid="s")).encode())
    segs = [(r.get("data-column"), r.get("data-kind"), int(r.get("data-value")), float(r.get("height")))
            for r in svg.iter(f"{SVG}rect") if r.get("data-kind")]
    assert sorted((c, k, v) for c, k, v, _ in segs) == [("01/03", "rerouted", 1), ("01/03", "returned", 3),
                                                        ("02/03", "rerouted", 4)]
    heights = {(c, k): h for c, k, _, h in segs}
    assert abs(heights[("01/03", "returned")] - 3 * heights[("01/03", "rerouted")]) < 0.2
    assert abs(heights[("02/03", "rerouted")] - heights[("01/03", "returned")] - heights[("01/03", "rerouted")]) < 0.2


def test_the_vietnamese_catalog_covers_every_text_and_is_compiled() -> None:
    method_map = [("api/web/**.py", "python"), ("api/web/templates/**.html", "jinja2")]
    found = {m[2] if isinstance(m[2], str) else m[2][0] for m in extract_from_dir(
        str(ROOT), method_map, keywords={"_": None, "gettext": None, "ngettext": (1, 2), "_l": None,
                                        "lazy_gettext": None})}
    po = read_po((CATALOG / "messages.po").open("rb"), locale="vi")
    translated = {m.id if isinstance(m.id, str) else m.id[0]: m for m in po if m.id}
    missing = sorted(found - set(translated))
    assert not missing, f"run `make translations` and translate: {missing[:10]}"
    for msgid, m in translated.items():
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        assert all(strings) and not m.fuzzy, msgid
        assert all(set(PLACEHOLDER.findall(s)) <= set(PLACEHOLDER.findall(str(m.id))) | {"num"} for s in strings), msgid
    mo = read_mo(io.BytesIO((CATALOG / "messages.mo").read_bytes()))
    def plain(value: object) -> object:
        return tuple(value) if isinstance(value, list | tuple) else value

    compiled = {m.id if isinstance(m.id, str) else m.id[0]: plain(m.string) for m in mo if m.id}
    assert compiled == {k: plain(v.string) for k, v in translated.items()}, "the .mo is stale: make translations"


def phrase(lang: str, due: datetime, now: datetime, finished: datetime | None = None) -> tuple[str, str]:
    cal = WorkingCalendar()
    app = Flask(__name__, root_path=str(ROOT / "api"))
    from flask_babel import Babel

    Babel(app, default_timezone="Asia/Ho_Chi_Minh")
    with app.test_request_context(), force_locale(lang):
        left = time_left(cal, due, now, cal.minutes("P1D"), finished)
        return left.status, left.phrase


def test_working_time_phrases_in_both_languages() -> None:
    now = local(2026, 3, 2, 9, 0)  # Monday
    assert phrase("vi", local(2026, 3, 4, 9, 0), now) == ("on_time", "còn 2 ngày làm việc")
    assert phrase("en", local(2026, 3, 4, 9, 0), now) == ("on_time", "2 working days left")
    # Friday 16:00 to Monday 08:30 is two working hours (17:00 closes Friday, 07:30 opens Monday)
    assert phrase("vi", local(2026, 3, 9, 8, 30), local(2026, 3, 6, 16, 0)) == ("due_soon", "còn 2 giờ làm việc")
    assert phrase("en", local(2026, 3, 9, 8, 30), local(2026, 3, 6, 16, 30)) == ("due_soon", "1 working hour left")
    assert phrase("vi", local(2026, 3, 2, 13, 0), local(2026, 3, 2, 16, 0)) == ("overdue", "quá hạn 3 giờ làm việc")
    assert phrase("vi", local(2026, 2, 27, 17, 0), local(2026, 3, 2, 7, 0)) == ("overdue", "đã đến hạn")
    assert phrase("vi", local(2026, 3, 4, 9, 0), now, local(2026, 3, 3, 9, 0)) == ("on_time", "hoàn thành đúng hạn")
    assert phrase("en", local(2026, 3, 4, 9, 0), now, local(2026, 3, 5, 9, 0)) == (
        "overdue", "finished 1 working day late")


def test_the_catalog_files_are_where_flask_babel_looks() -> None:
    assert (CATALOG / "messages.mo").exists() and Path(ROOT / "api" / "babel.cfg").exists()
