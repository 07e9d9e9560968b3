"""The bundled diagrams render in bpmn.io: each BPMN file is imported by bpmn-js (the viewer modelers and
the future web pages use) in headless Chromium, without import warnings, with a shape or edge for every
element of the process. One screenshot per procedure is kept under docs/procedures/ for the README.

Test-only tools, installed by `make test` (scripts/test-tools.sh): bpmn-js from npm (package.json,
pinned) and Debian's chromium, driven by Playwright with `executable_path` (never `playwright install`).
The page is served from 127.0.0.1 and every other request is aborted: nothing is loaded from the internet.

Screenshots: written to docs/procedures/<key>.png when the file is missing or LANDFLOW_WRITE_SCREENSHOTS=1
(so `make test` leaves the work tree clean); otherwise to the test's temporary directory.
"""

from __future__ import annotations

import functools
import os
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

import pytest
from lxml import etree

ROOT = Path(__file__).resolve().parents[2]
VIEWER = ROOT / "node_modules" / "bpmn-js" / "dist" / "bpmn-viewer.production.min.js"
SHOTS = ROOT / "docs" / "procedures"
BPMN_FILES = sorted((ROOT / "workflows").glob("*/*.bpmn"))
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>landflow diagram</title>
<style>html, body, #canvas { margin: 0; width: 100%; height: 100%; background: #fff; }</style>
<script src="bpmn-viewer.production.min.js"></script></head>
<body><div id="canvas"></div>
<script>window.viewer = new BpmnJS({ container: '#canvas' });</script></body></html>
"""
DI_ELEMENTS = {"startEvent", "endEvent", "userTask", "businessRuleTask", "exclusiveGateway", "parallelGateway",
               "sequenceFlow", "lane", "participant", "task", "manualTask"}


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        return


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    assert VIEWER.exists(), "bpmn-js is missing: run `make test` (it runs npm ci) or `npm ci`"
    root = tmp_path_factory.mktemp("site")
    (root / "index.html").write_text(PAGE, encoding="utf-8")
    shutil.copy(VIEWER, root / VIEWER.name)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    server.shutdown()
    server.server_close()


def drawn_elements(path: Path) -> set[str]:
    """Ids of the elements the diagram must draw (read from the file, not from bpmn-js)."""
    root = etree.parse(str(path)).getroot()
    out = set()
    for el in root.iter():
        if isinstance(el.tag, str) and etree.QName(el.tag).localname in DI_ELEMENTS and el.get("id"):
            out.add(el.get("id"))
    return out


@pytest.mark.parametrize("path", BPMN_FILES, ids=[p.stem for p in BPMN_FILES])
def test_diagram_renders_in_bpmn_js_without_warnings(site: str, browser: object, path: Path,
                                                     tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1800, "height": 900})  # type: ignore[attr-defined]
    outside: list[str] = []

    def guard(route: object) -> None:
        url = route.request.url  # type: ignore[attr-defined]
        if urlparse(url).hostname == "127.0.0.1":
            route.continue_()  # type: ignore[attr-defined]
        else:
            outside.append(url)
            route.abort()  # type: ignore[attr-defined]

    page.route("**/*", guard)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(site)
        result = page.evaluate("""async (xml) => {
            const { warnings } = await window.viewer.importXML(xml);
            const canvas = window.viewer.get('canvas');
            canvas.zoom('fit-viewport');
            const ids = window.viewer.get('elementRegistry').getAll().map(e => e.id);
            const box = canvas.viewbox().inner;
            return { warnings: warnings.map(w => w.message), ids, width: box.width, height: box.height };
        }""", path.read_text(encoding="utf-8"))
        assert result["warnings"] == []
        assert errors == [] and outside == []
        missing = drawn_elements(path) - set(result["ids"])
        assert not missing, f"not drawn: {sorted(missing)}"
        # A screenshot framed on the diagram: as wide as needed (capped), in proportion.
        scale = min(1.0, 2400 / max(result["width"], 1))
        width, height = int(result["width"] * scale) + 40, int(result["height"] * scale) + 40
        page.set_viewport_size({"width": width, "height": height})
        page.evaluate("() => { const c = window.viewer.get('canvas'); c.resized(); c.zoom('fit-viewport', 'auto'); }")
        shot = SHOTS / f"{path.stem}.png"
        target = shot if (not shot.exists() or os.environ.get("LANDFLOW_WRITE_SCREENSHOTS") == "1") \
            else tmp_path / shot.name
        target.parent.mkdir(parents=True, exist_ok=True)
        page.locator("#canvas").screenshot(path=str(target))
        assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and target.stat().st_size > 10_000
    finally:
        page.close()


def test_every_procedure_has_a_screenshot_in_the_procedures_doc() -> None:
    readme = (ROOT / "docs" / "procedures.md").read_text(encoding="utf-8")
    for path in BPMN_FILES:
        shot = SHOTS / f"{path.stem}.png"
        assert shot.exists(), f"{shot} is missing: run the diagram test with LANDFLOW_WRITE_SCREENSHOTS=1"
        assert f"(procedures/{path.stem}.png)" in readme
