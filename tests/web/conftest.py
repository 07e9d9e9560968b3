"""Fixtures of the page tests.

- Flask test client on the real app over a real database (SQLite and PostgreSQL): the API tests'
  fixtures (`demo_lf`, `app`, `client`), reused here.
- A real server for the browser tests: the app under werkzeug's threaded WSGI server on 127.0.0.1, on a
  SQLite database initialised like `landflow init` in demo mode, with a generated history of 50
  dossiers (the simulation of `landflow demo`) ending at the server's fixed clock; one per test
  session (per xdist worker). Debian's chromium, driven by Playwright (never `playwright install`),
  one browser per session; each test gets contexts whose every request is checked: anything not on
  127.0.0.1 is aborted and recorded, and the tests assert that nothing was.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from api.app import create_app
from api.cli.setup import initialise
from api.simulation import Simulation, working_start
from config.settings import ROOT, Settings
from engine.bootstrap import Landflow, build
from engine.clock import FixedClock
from tests.api.conftest import app, client, demo_clock, demo_lf, demo_settings, sqlite_template  # noqa: F401
from tests.conftest import local

SHOTS = ROOT / "docs" / "screenshots"
NOW = local(2026, 3, 3, 10, 0)  # a Tuesday morning; the history runs up to it
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


# -- the test client ------------------------------------------------------------------------------

def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def sign_in_page(browser_less: FlaskClient, username: str, password: str = "demo") -> str:
    """Sign in through the form; returns a fresh CSRF token of the signed-in session."""
    token = csrf_of(browser_less.get("/login").get_data(as_text=True))
    resp = browser_less.post("/login", data={"username": username, "password": password, "csrf_token": token})
    assert resp.status_code == 303, resp.get_data(as_text=True)[:500]
    return csrf_of(browser_less.get("/welcome").get_data(as_text=True))


# -- the real server ------------------------------------------------------------------------------

@dataclass
class Site:
    base: str
    lf: Landflow
    clock: FixedClock
    outside: list[str] = field(default_factory=list)
    requested: list[str] = field(default_factory=list)
    app: Flask | None = None

    def url(self, path: str) -> str:
        return self.base + path


def serving(lf: Landflow, clock: FixedClock) -> Iterator[Site]:
    """Serve `lf` on a free local port for the browser until the generator is closed; then close `lf`."""
    served = create_app(lf)
    server = make_server("127.0.0.1", 0, served, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(f"http://127.0.0.1:{server.server_port}", lf, clock, app=served)
    finally:
        server.shutdown()
        server.server_close()
        lf.close()


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("site")
    settings = Settings.from_env({}, database_url=f"sqlite:///{root / 'landflow.db'}", var_dir=root, demo=True,
                                 secret_key="test-secret-key-for-the-browser-tests")
    setup = build(settings)
    initialise(setup, say=lambda _msg: None)
    setup.close()
    tz = NOW.tzinfo
    start = working_start(setup, NOW.date(), 25)
    history_clock = FixedClock(datetime.combine(start, time(0), tz))
    history = build(settings, clock=history_clock)
    Simulation(history, history_clock, 2025, NOW, 25).run(50)
    history.close()
    clock = FixedClock(NOW)
    lf = build(settings, clock=clock)
    yield from serving(lf, clock)


class Pages:
    """Browser contexts signed in as officers; every request is checked to stay on 127.0.0.1."""

    def __init__(self, site: Site, browser: Any):
        self.site, self.browser = site, browser
        self.contexts: list[Any] = []

    def _guard(self, route: Any) -> None:
        url = route.request.url
        self.site.requested.append(url)
        if urlparse(url).hostname == "127.0.0.1":
            route.continue_()
        else:
            self.site.outside.append(url)
            route.abort()

    def context(self, viewport: dict[str, int] | None = None, **options: Any) -> Any:
        ctx = self.browser.new_context(viewport=viewport or DESKTOP, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh",
                                       accept_downloads=True, **options)
        ctx.route("**/*", self._guard)
        ctx.set_default_timeout(15_000)
        self.contexts.append(ctx)
        return ctx

    def signed_in(self, username: str, viewport: dict[str, int] | None = None, **options: Any) -> Any:
        """A page of a new context, signed in through the sign-in form."""
        page = self.context(viewport, **options).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(self.site.url("/login"))
        page.fill("#username", username)
        page.fill("#password", "demo")
        page.click("form.card button[type=submit]")
        page.wait_for_url(re.compile(r".*/(worklist|procedures|audit/dossiers|welcome).*"))
        page.js_errors = errors  # type: ignore[attr-defined]
        return page

    def close(self) -> None:
        for ctx in self.contexts:
            ctx.close()


@pytest.fixture
def pages(site: Site, browser: Any) -> Iterator[Pages]:
    p = Pages(site, browser)
    yield p
    p.close()
    assert site.outside == [], f"pages asked for something outside landflow: {site.outside[:5]}"


def submit(page: Any, target: Any) -> None:
    """Click what submits a form or follows a link, and return once the new page has loaded.

    Playwright's click returns when the navigation has started, not when the new document is parsed:
    a `count()` or `get_attribute()` straight after can read a half-built page or the old one (CI once
    counted 0 worklist rows on a page that had one). Every navigating click in these tests goes here.
    """
    with page.expect_navigation():
        (page.locator(target) if isinstance(target, str) else target).click()


def screenshot(page: Any, name: str, tmp_path: Path, full_page: bool = True) -> Path:
    """docs/screenshots/<name>.png when missing or with LANDFLOW_WRITE_SCREENSHOTS=1 (so `make test`
    leaves the tree clean); otherwise into the test's temporary directory."""
    shot = SHOTS / f"{name}.png"
    rewrite = not shot.exists() or os.environ.get("LANDFLOW_WRITE_SCREENSHOTS") == "1"
    target = shot if rewrite else tmp_path / shot.name
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target), full_page=full_page)
    data = target.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    return target
