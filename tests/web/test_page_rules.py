"""Rules every page keeps, checked in a real browser: nothing loaded from outside landflow, every
control labelled, no horizontal scrolling at 1366×768 or on a phone (diagrams and charts scroll in
their own boxes), the sign-in page, and a form posted without its CSRF token refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from sqlalchemy import func, select

from engine.store import CaseEventRow, DossierRow
from tests.web.conftest import DESKTOP, PHONE, Pages, Site, screenshot, submit
from tests.web.test_officer_pages import open_dossier, open_items

pytestmark = pytest.mark.xdist_group("browser")

UNLABELLED = """() => Array.from(document.querySelectorAll('input, select, textarea, button')).filter(el => {
  if (el.type === 'hidden' || el.closest('[hidden]')) return false;
  if (el.tagName === 'BUTTON') return !(el.textContent.trim() || el.getAttribute('aria-label'));
  const byFor = el.id && document.querySelector('label[for="' + CSS.escape(el.id) + '"]');
  return !(byFor || el.closest('label') || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby'));
}).map(el => el.outerHTML.slice(0, 160))"""
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


def pages_of(site: Site, dossier_id: int) -> dict[str, list[str]]:
    return {
        "branch.haichau": ["/worklist", f"/dossiers/{dossier_id}"],
        "auditor": ["/audit/dossiers", f"/audit/dossiers/{dossier_id}", "/audit/signals", "/audit/kpi",
                    "/procedures", "/procedures/land_transfer"],
        "supervisor": ["/procedures/check", "/procedures/land_transfer/diff?from=1&to=1"],
        "head.cnkv01": ["/accountability", "/audit/kpi", "/accountability/absences"],
    }


def check_page(page: Any, path: str, width: int) -> None:
    assert page.evaluate(UNLABELLED) == [], path
    assert page.evaluate(OVERFLOW) <= 1, f"{path} scrolls sideways at {width}px"
    assert page.locator("h1").count() == 1, path
    assert page.locator("html").get_attribute("lang") == "vi"


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1366x768", "phone"])
def test_pages_are_labelled_fit_the_screen_and_load_nothing_from_outside(site: Site, pages: Pages,
                                                                         viewport: dict[str, int]) -> None:
    st = open_dossier(site)
    [item] = open_items(site, st.id)
    site.lf.runtime.complete(site.lf.directory.get().officers["desk.haichau"], item.id,
                             {"decision": "accept", "kind": "transfer"})
    before = len(site.requested)
    for username, paths in pages_of(site, st.id).items():
        page = pages.signed_in(username, viewport)
        for path in paths:
            resp = page.goto(site.url(path))
            assert resp is not None and resp.status == 200, path
            check_page(page, path, viewport["width"])
        assert page.js_errors == []
    requested = site.requested[before:]
    assert any(u.endswith(".css") for u in requested) and any(u.endswith(".js") for u in requested)
    assert {urlparse(u).hostname for u in requested} == {"127.0.0.1"}
    assert site.outside == []


def test_sign_in_page_and_a_refused_password(site: Site, pages: Pages, tmp_path: Path) -> None:
    page = pages.context().new_page()
    page.goto(site.url("/worklist"))
    assert "/login" in page.url and "next=/worklist" in page.url
    assert page.locator("h1").inner_text() == "Đăng nhập landflow"
    assert page.evaluate(UNLABELLED) == []
    screenshot(page, "login", tmp_path)
    page.fill("#username", "desk.haichau")
    page.fill("#password", "not the password")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.click("form.card button[type=submit]")
    assert posted.value.status == 401
    assert "Sai tên đăng nhập hoặc mật khẩu" in page.locator("p.flash.error").inner_text()
    page.fill("#password", "demo")
    page.click("form.card button[type=submit]")
    page.wait_for_url("**/worklist")  # back where the officer was going
    page.click("header button:text('Đăng xuất')")
    page.wait_for_url("**/login")
    page.goto(site.url("/worklist"))
    assert "/login" in page.url  # the session ended with the token


def test_english_switch(site: Site, pages: Pages) -> None:
    page = pages.signed_in("branch.haichau")
    assert page.locator("h1").inner_text() == "Việc cần xử lý"
    submit(page, "a[lang=en]")
    assert page.locator("h1").inner_text() == "Worklist"
    assert page.locator("html").get_attribute("lang") == "en"
    submit(page, "a[lang=vi]")
    assert page.locator("h1").inner_text() == "Việc cần xử lý"


def test_a_form_posted_without_its_csrf_token_is_refused(site: Site, pages: Pages) -> None:
    st = open_dossier(site)
    [item] = open_items(site, st.id)
    page = pages.signed_in("desk.haichau")
    page.goto(site.url(f"/dossiers/{st.id}"))
    # the same form the page shows, posted by a script of this origin without the token
    answer = page.evaluate("""async ([url, version]) => {
        const body = new URLSearchParams({version: version});
        const r = await fetch(url, {method: 'POST', body, credentials: 'same-origin', redirect: 'manual'});
        return {status: r.status, text: await r.text()};
    }""", [f"/dossiers/{st.id}/items/{item.id}/claim", str(st.version)])
    assert answer["status"] == 400
    assert "Biểu mẫu đã hết hạn hoặc không gửi từ trang này" in answer["text"]
    with site.lf.db.read() as s:
        events = s.scalar(select(func.count()).select_from(CaseEventRow).where(CaseEventRow.dossier_id == st.id))
        version = s.scalar(select(DossierRow.version).where(DossierRow.id == st.id))
    assert (events, version) == (1, st.version)  # nothing happened
    [still] = open_items(site, st.id)
    assert still.state == "ready"
