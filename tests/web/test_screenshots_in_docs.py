"""docs/pages.md (linked from the README) shows a screenshot of each main page, made by the browser tests."""

from __future__ import annotations

from config.settings import ROOT

PAGES = ("login", "worklist", "dossier", "procedure-check", "procedure-diff", "audit-timeline", "signals", "kpi",
         "whatif")


def test_every_main_page_has_a_screenshot_in_the_pages_doc() -> None:
    section = (ROOT / "docs" / "pages.md").read_text(encoding="utf-8")
    for name in PAGES:
        shot = ROOT / "docs" / "screenshots" / f"{name}.png"
        assert shot.exists() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{shot}: run tests/web with " \
            "LANDFLOW_WRITE_SCREENSHOTS=1"
        assert f"(screenshots/{name}.png)" in section
