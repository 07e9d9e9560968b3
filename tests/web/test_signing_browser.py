"""Signing a decision in a real browser (Debian chromium), with a real token: the dossier page sends the
signed step to the preview, which shows the decision's fields in words, the dossier, the step and the
hash before anything is signed; "Sign with my USB token" has the local agent (SoftHSM2 through PKCS#11)
sign the exact bytes, and the engine accepts the certificate; the sealed decision record follows."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select
from werkzeug.serving import make_server

from api.app import create_app
from api.cli.setup import initialise
from api.demo_pki import ensure_demo_pki
from api.signer_agent import TokenSigner, make_handler, serve
from config.settings import ROOT, Settings
from engine.bootstrap import build
from engine.clock import FixedClock
from engine.pdfsign import verify_pdf
from engine.signatures import register_key
from engine.store import CaseEventRow
from tests.api.test_signer_agent import token  # noqa: F401 (the session's SoftHSM2 token)
from tests.conftest import officer
from tests.support.decisions import records_issued
from tests.support.pki import Pki
from tests.web.conftest import NOW, Pages, Site, screenshot, submit
from tests.web.test_pages import APPLICANT, item_of

pytestmark = pytest.mark.xdist_group("browser")
FORM = "new_area:number!; area_changed:bool!; note:text"


def variant() -> bytes:
    """land_transfer as `land_transfer_signed`, its signed step asking for the new area (a decision with fields)."""
    xml = (ROOT / "workflows" / "land" / "land_transfer.bpmn").read_text(encoding="utf-8")
    xml = xml.replace('"land_transfer"', '"land_transfer_signed"')
    marker = '<spiffworkflow:property name="signed" value="true" />'
    return xml.replace(marker, marker + f'\n          <spiffworkflow:property name="form" value="{FORM}" />', 1) \
        .encode("utf-8")


@pytest.fixture(scope="module")
def signing_site(tmp_path_factory: pytest.TempPathFactory, token: dict[str, Any]) -> Iterator[Site]:  # noqa: F811
    root = tmp_path_factory.mktemp("signing-site")
    t = token["token"]
    signer = TokenSigner(t.module, t.label, t.pin, "officer-ec").open()
    # the agent must know the page's origin, the page the agent's address: the agent starts first, on any port
    agent = serve(signer, "http://placeholder", 0, say=lambda _m: None)
    settings = Settings.from_env({}, database_url=f"sqlite:///{root / 'landflow.db'}", var_dir=root, demo=True,
                                 secret_key="test-secret-key-for-the-browser-tests", crl="",
                                 signer_agent_url=f"http://127.0.0.1:{agent.server_address[1]}")
    setup = build(settings)
    initialise(setup, say=lambda _msg: None)
    ensure_demo_pki(setup)  # as `landflow init` does in demo mode: the demo CA, its root trusted, the seal
    setup.close()
    clock = FixedClock(NOW)
    lf = build(settings, clock=clock)
    lf.runtime.deploy(officer(lf, "supervisor"), variant())
    pki = Pki(NOW - timedelta(days=100))
    (settings.trust_roots / "test-ca.pem").write_text(pki.root.pem)
    cert = pki.certify(token["ec"], "Võ Thị Kim Oanh (branch.haichau)")
    with lf.db.write() as s:
        register_key(s, "branch.haichau", cert.public_bytes(serialization.Encoding.PEM).decode() + pki.intermediate.pem,
                     "admin", clock.now())
    lf.directory.refresh()
    app = create_app(lf)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    origin = f"http://127.0.0.1:{server.server_port}"
    agent.RequestHandlerClass = make_handler(signer, origin, lambda _m: None)  # this page's origin only
    threads = [threading.Thread(target=x.serve_forever, daemon=True) for x in (server, agent)]
    for th in threads:
        th.start()
    yield Site(origin, lf, clock, app=app)
    for x in (server, agent):
        x.shutdown()
        x.server_close()
    signer.close()
    lf.close()


def test_the_preview_shows_the_decision_then_the_token_signs_it(signing_site: Site, browser: Any,
                                                                 tmp_path: Path) -> None:
    site, lf = signing_site, signing_site.lf
    st = lf.runtime.open(officer(lf, "desk.haichau"), "land_transfer_signed", "20242", APPLICANT,
                         {"sheet": "3", "number": "77"}, {})
    for who, data in (("desk.haichau", {"decision": "accept", "kind": "transfer"}),
                      ("branch.haichau", {"eligible": True}), ("branch.haichau", {}),
                      ("tax.haichau", {"obligation_amount": 1500000}), ("tax.haichau", {"payment_date": "2026-03-02"})):
        st = lf.runtime.complete(officer(lf, who), item_of(lf, st.id).id, data)
    pages = Pages(site, browser)
    try:
        page = pages.signed_in("branch.haichau")
        page.goto(site.url(f"/dossiers/{st.id}"))
        panel = page.locator("article.panel").first
        panel.locator("input[name=f_new_area]").fill("152.5")
        panel.locator("input[name=f_area_changed][value=true]").check()
        panel.locator("textarea[name=f_note]").fill("Đo đạc lại theo bản đồ địa chính số 3")
        submit(page, "[data-preview-sign]")
        assert re.search(r"/items/\d+/preview$", page.url)
        # before anything is signed: the fields in words, the dossier, the step, the hash
        preview = page.locator("#decision-preview")
        rows = [r.inner_text() for r in preview.locator("tr[data-field]").all()]
        assert any("Diện tích mới" in r and "152.5" in r for r in rows), rows
        assert any("Có" in r for r in rows) and any("Đo đạc lại" in r for r in rows)
        assert page.locator("[data-preview=dossier]").inner_text() == st.code
        assert "update_register" in page.locator("[data-preview=step]").inner_text()
        sha = page.locator("[data-preview=sha256]").inner_text()
        assert re.fullmatch(r"[0-9a-f]{64}", sha)
        assert "Ký bằng USB token của tôi" in page.content()
        screenshot(page, "sign-preview", tmp_path)
        # the token signs (through the local agent); the engine accepts the certificate
        submit(page, "#sign-token")
        assert page.url.endswith(f"/dossiers/{st.id}"), (page.url, page.locator("[role=alert]").all_inner_texts())
        assert page.js_errors == []  # type: ignore[attr-defined]
    finally:
        pages.close()
    assert site.outside == []
    assert site.app is not None
    records_issued(site.app)  # the answer came first; the office's record follows beside it
    with lf.db.read() as s:
        evs = list(s.scalars(select(CaseEventRow).where(CaseEventRow.dossier_id == st.id).order_by(CaseEventRow.seq)))
    done = [e for e in evs if e.type == "completed" and e.step == "update_register"]
    assert len(done) == 1 and '"signature"' in done[0].payload
    issued = [e for e in evs if e.type == "slip_issued" and json.loads(e.payload)["slip"] == "decision"]
    assert len(issued) == 1
    record = lf.blobs.get(json.loads(issued[-1].payload)["sha256"])
    assert record is not None and verify_pdf(record, lf.settings.trust_roots).ok
