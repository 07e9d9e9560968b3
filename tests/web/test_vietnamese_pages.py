"""Every page of a demo database, read in Vietnamese: no engine English, no ISO dates, no raw codes.

A small generated history (the simulation of `landflow demo`: 60 dossiers over 15 working days, with
refused attempts, returns, transfers, supplements, apologies and the sweep's notices) is read by one
officer of each kind through the Flask test client. Each one starts from their home pages and follows
every link of the site (a few pages of each address pattern), and the auditor also opens the history
of a dossier holding each kind of event and the signals page filtered by each kind. The visible text
of every page (tests/support/page_text.py) must hold none of the engine's English refusal or notice
fragments (read from the engine's source, so a new message is covered the day it is written), no
refusal code, signal kind or form key in its raw form, no ISO date and no ISO duration.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections import deque
from collections.abc import Iterator
from datetime import datetime, time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlparse

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from api.app import create_app
from api.cli.setup import initialise
from api.simulation import Simulation, working_start
from api.web import messages
from api.web.collation import vi_key
from api.web.common import names
from api.web.labels import FIELD, REFUSAL, SIGNAL, label
from config.settings import ROOT, Settings
from engine.accountability import KINDS
from engine.bootstrap import Landflow, build
from engine.clock import FixedClock
from engine.store import CaseEventRow as EventRow
from tests.conftest import local
from tests.support.page_text import (
    CLOCK_CODE,
    DURATION,
    ISO_DAY,
    SNAKE,
    engine_english,
    visible_text,
)
from tests.web.conftest import Pages, Site, sign_in_page

NOW = local(2026, 3, 3, 10, 0)
READERS = ("desk.haichau", "land.haichau", "branch.haichau", "tax.haichau", "chair.haichau", "head.haichau",
           "supervisor", "auditor", "admin")
HOMES = ("/welcome", "/worklist", "/audit/dossiers", "/audit/signals", "/audit/kpi", "/procedures",
         "/procedures/check")
SKIP = re.compile(r"^/(logout|lang/|static/|api/)|\.bpmn$|[?&]format=csv")
PER_PATTERN, PER_READER = 2, 45


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Landflow]:
    root = tmp_path_factory.mktemp("vi-pages")
    settings = Settings.from_env({}, database_url=f"sqlite:///{root / 'landflow.db'}", var_dir=root, demo=True,
                                 secret_key="test-secret-key-for-the-page-tests")
    setup = build(settings)
    initialise(setup, say=lambda _msg: None)
    setup.close()
    start = working_start(setup, NOW.date(), 15)
    history_clock = FixedClock(datetime.combine(start, time(0), NOW.tzinfo))
    history = build(settings, clock=history_clock)
    Simulation(history, history_clock, 2025, NOW, 15).run(60)
    history.close()
    lf = build(settings, clock=FixedClock(NOW))
    wrong_unit_claim(lf)
    yield lf
    lf.close()


def wrong_unit_claim(lf: Landflow) -> None:
    """One out-of-scope refusal with parameters in some dossier's chain, whatever the random history held:
    an officer of another unit with the step's role claims a ready step (at the engine: the API now answers
    an officer who cannot read the dossier as for a missing one, off the chain)."""
    from engine.runtime import CommandRefused
    from engine.store import WorkItemRow

    d = lf.directory.get()
    with lf.db.read() as s:
        item = s.scalar(select(WorkItemRow).where(WorkItemRow.state == "ready", WorkItemRow.assignee.is_(None),
                                                  WorkItemRow.role.in_(("registration_branch", "one_stop_desk")))
                        .order_by(WorkItemRow.id).limit(1))
    assert item is not None
    other = next(o for o in d.officers.values() if o.unit != item.unit and item.role in o.roles and o.active)
    try:
        lf.runtime.claim(other, item.id)
    except CommandRefused as err:
        assert err.code == "wrong_unit"
    else:
        raise AssertionError("a claim from another unit was accepted")


def pattern(url: str) -> str:
    parts = urlparse(url)
    return re.sub(r"\d+", "N", parts.path) + "?" + ",".join(sorted(k for k, _v in parse_qsl(parts.query)))


def links(page: str) -> list[str]:
    return [h.replace("&amp;", "&") for h in re.findall(r'href="(/[^"#]*)', page)]


def raw_codes() -> set[str]:
    """Codes that must never be shown as they are: refusal codes, signal kinds, form keys (with `_`)."""
    return {c for c in set(REFUSAL) | set(KINDS) | set(FIELD) if "_" in c}


def leaks(text: str, english: set[str], codes: set[str]) -> list[str]:
    found = [f"ISO date {m!r}" for m in ISO_DAY.findall(text)]
    found += [f"ISO duration {m!r}" for m in DURATION.findall(text) if len(m) > 1]
    found += [f"clock code {m!r}" for m in CLOCK_CODE.findall(text)]
    found += [f"English clock word {m!r}" for m in re.findall(r"\b(?:run|paused)\b", text)]
    found += [f"English {e!r}" for e in english if e in text]
    found += [f"raw code {m!r}" for m in SNAKE.findall(text) if m in codes]
    return found


def read(client: FlaskClient, url: str, problems: list[str], english: set[str], codes: set[str],
         who: str) -> str:
    resp = client.get(url)
    if resp.status_code in (301, 302, 303):
        return ""
    page = resp.get_data(as_text=True)
    if resp.status_code != 200 or not resp.content_type.startswith("text/html"):
        if resp.status_code >= 500:
            problems.append(f"{who} {url}: HTTP {resp.status_code}")
        return ""
    text = visible_text(page)
    for leak in leaks(text, english, codes):
        at = text.find(leak.split("'")[1]) if "'" in leak else -1
        problems.append(f"{who} {url}: {leak} in …{text[max(0, at - 60):at + 80]}…")
    return page


def catalogue_english() -> set[str]:
    """The English of the catalogue's own templates (their fixed parts of 3 words or more)."""
    tables = (messages.NOTICE, messages.REFUSAL_DETAIL, REFUSAL)
    return {f.strip(" .:;()") for t in tables for text in t.values()
            for f in re.split(r"%\(\w+\)s", msgid(text)) if len(f.split()) >= 3}


def crawl(client: FlaskClient, who: str, seeds: list[str], problems: list[str]) -> int:
    english, codes = engine_english() | catalogue_english(), raw_codes()
    queue: deque[str] = deque(seeds)
    seen: set[str] = set()
    per: dict[str, int] = {}
    visited = 0
    while queue and visited < PER_READER:
        url = queue.popleft()
        key = pattern(url)
        if url in seen or SKIP.search(url) or per.get(key, 0) >= PER_PATTERN:
            continue
        seen.add(url)
        per[key] = per.get(key, 0) + 1
        visited += 1
        page = read(client, url, problems, english, codes, who)
        queue.extend(u for u in links(page) if u not in seen)
    return visited


def interesting(lf: Landflow) -> list[str]:
    """A history page of a dossier holding each kind of event (the first one), at that event."""
    out: dict[str, str] = {}
    with lf.db.read() as s:
        for etype, dossier, seq in s.execute(select(EventRow.type, EventRow.dossier_id, EventRow.seq)
                                             .order_by(EventRow.id)):
            out.setdefault(etype, f"/audit/dossiers/{dossier}?at={seq}")
    return sorted(out.values())


def test_every_page_of_a_demo_database_reads_in_vietnamese(demo: Landflow) -> None:
    app = create_app(demo)
    problems: list[str] = []
    counts: dict[str, int] = {}
    for who in READERS:
        client = app.test_client()
        sign_in_page(client, who)
        seeds = list(HOMES)
        if who == "auditor":
            seeds += interesting(demo) + [f"/audit/signals?kind={k}" for k in KINDS]
        if who == "supervisor":
            seeds += ["/procedures/land_transfer/diff?from=1&to=1"]
        counts[who] = crawl(client, who, seeds, problems)
    # the supervisor checks a changed file (no page links to a POST): limits, clocks and forms in words
    client = app.test_client()
    token = sign_in_page(client, "supervisor")
    changed = (ROOT / "workflows" / "land" / "land_transfer.bpmn").read_text(encoding="utf-8").replace(
        '<spiffworkflow:property name="sla" value="P5D" />', '<spiffworkflow:property name="sla" value="PT4H" />', 1)
    changed = changed.replace('name="clock" value="paused"', 'name="clock" value="run"', 1)
    resp = client.post("/procedures/check", data={"csrf_token": token, "action": "check",
                                                  "bpmn": (io.BytesIO(changed.encode()), "land_transfer.bpmn")},
                       content_type="multipart/form-data")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "4 giờ làm việc" in visible_text(page), visible_text(page)[:800]
    problems += [f"supervisor POST /procedures/check: {leak}" for leak in leaks(
        visible_text(page), engine_english() | catalogue_english(), raw_codes())]
    assert all(n >= 4 for n in counts.values()), counts
    assert sum(counts.values()) > 120, counts
    distinct: dict[str, str] = {}
    for p in problems:  # one line per page pattern and leak, with an example
        who, url, rest = p.split(" ", 2)
        distinct.setdefault(pattern(url) + " " + rest.split(" in …")[0], p)
    assert not problems, f"{len(problems)} problems, {len(distinct)} distinct:\n" + "\n".join(
        distinct[k] for k in sorted(distinct)[:150])


def test_the_history_has_what_the_pages_must_render(demo: Landflow) -> None:
    """The generated history holds refusals and the sweep's notices, so the page test meets them."""
    with demo.db.read() as s:
        types = set(s.scalars(select(EventRow.type)))
        refused = [json.loads(p) for p in s.scalars(select(EventRow.payload).where(EventRow.type == "action_refused"))]
    assert {"action_refused", "step_overdue", "escalated", "apologised", "returned", "transferred"} <= types, types
    assert any(r.get("code") == "wrong_unit" for r in refused)


SAMPLE = {"item_unit": "CN-KV01", "officer_unit": "CN-KV12", "role": "registration_branch", "holder": "land.haichau",
          "step": "check_rights", "deadline": "2026-12-22T03:00:00Z", "delay": "P1D", "to": ["head.cnkv12"],
          "officer": "branch.haichau", "since": "2026-12-21T08:30:00Z", "threshold": "PT4H"}


@pytest.fixture
def vi_request(demo: Landflow) -> Iterator[None]:
    with create_app(demo).test_request_context("/", headers={"Cookie": "landflow_lang=vi"}):
        yield


def msgid(text: Any) -> str:
    return text._args[0] if hasattr(text, "_args") else str(text)


def test_templates_render_in_vietnamese_with_every_parameter(vi_request: None) -> None:
    named = names(lambda s: {"check_rights": "Kiểm tra điều kiện"}.get(s or "", s or ""))
    english = {f.strip(" .:;") for t in (*messages.NOTICE.values(), *messages.REFUSAL_DETAIL.values())
               for f in re.split(r"%\(\w+\)s", msgid(t)) if len(f.split()) >= 3}
    rendered = [messages.refusal_text(code, SAMPLE, named) for code in messages.REFUSAL_DETAIL]
    rendered += [messages.notice(kind, SAMPLE, None, named) or "" for kind in messages.NOTICE]
    for text in rendered:
        assert text and "%(" not in text, text
        assert not ISO_DAY.search(text) and not [d for d in DURATION.findall(text) if len(d) > 1], text
        assert not [e for e in english if e in text], text
    joined = "\n".join(rendered)
    assert "quá hạn hơn 1 ngày làm việc" in joined and "22/12/2026 10:00" in joined, joined
    assert "Kiểm tra điều kiện" in joined and "(head.cnkv12)" in joined, joined


def test_an_old_event_without_parameters_falls_back_to_the_codes_sentence(vi_request: None) -> None:
    """Events recorded before refusals carried parameters hold only the English message: never shown."""
    old = {"action": "claim", "kind": "forbidden", "code": "wrong_unit",
           "message": "the step belongs to unit CN-KV01, not to CN-KV12"}
    assert messages.refused_event(old, names()) == "Nhận xử lý: Bước này thuộc đơn vị khác."
    unknown = {"action": "mystery", "code": "brand_new", "message": "English words"}
    assert messages.refused_event(unknown, names()) == "Hệ thống đã từ chối thao tác này."
    # a notice whose parameters are incomplete: the kind's name, never the stored English reason
    reason = messages.signal_reason("escalated", "step x overdue by more than P1D; escalated to y",
                                    ("escalated", "x", {"delay": "P1D"}), names())
    assert reason == label(SIGNAL, "escalated")
    # an officer's own words are shown as typed
    assert messages.signal_reason("returned", "Thiếu trích lục", ("returned", "x", {}), names()) == "Thiếu trích lục"


# -- numbers, CSV, order, chart labels ------------------------------------------------------------

VI_UNIT_ORDER = ["An Hải", "Ăn", "Ân Thi", "Bến Giang", "Chi nhánh khu vực 2", "Chi nhánh khu vực 10", "Dương",
                 "Đà Nẵng", "Đại Lộc", "Ha", "Hà", "Hạ", "Hải Châu", "Hòa Vang", "Ô Môn", "Ơn", "Ủy ban", "Yên Bái"]


def test_vietnamese_alphabetical_order() -> None:
    assert sorted(reversed(VI_UNIT_ORDER), key=vi_key) == VI_UNIT_ORDER
    assert sorted(VI_UNIT_ORDER) != VI_UNIT_ORDER  # code-point order is not it ("Đ", "Ă", "Ủ" sort last)


def test_unit_lists_follow_vietnamese_order(demo: Landflow) -> None:
    client = create_app(demo).test_client()
    sign_in_page(client, "auditor")
    for url in ("/audit/signals", "/audit/dossiers"):
        page = client.get(url).get_data(as_text=True)
        select_ = re.search(r'<select[^>]*name="unit"[^>]*>(.*?)</select>', page, re.S)
        assert select_, url
        names_ = [html.unescape(n).strip() for v, n in re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>',
                                                                  select_.group(1)) if v]
        assert len(names_) > 10 and names_ == sorted(names_, key=vi_key), (url, names_[:8])
        assert names_ != sorted(names_), url  # the demo's units do differ between the two orders


def test_kpi_numbers_read_as_vietnamese_and_its_chart_tells_branches_apart(demo: Landflow) -> None:
    client = create_app(demo).test_client()
    sign_in_page(client, "auditor")
    page = client.get("/audit/kpi?from=2026-02-01&to=2026-03-03").get_data(as_text=True)
    text = visible_text(page)
    assert not re.findall(r"(?<![\d.])\d+\.\d{1,2}(?![\d.])", text), "a decimal point on a Vietnamese page"
    assert re.search(r"\d+,\d+%", text) and re.search(r"(?<![\d.,])\d{1,2},\d{1,2}(?![\d%])", text), text[:500]
    chart = re.search(r'<svg[^>]*aria-labelledby="c-units-t.*?</svg>', page, re.S)
    assert chart
    shown = [html.unescape(t) for t in re.findall(r"</title>([^<]+)</text>", chart.group(0))]
    assert len([s for s in shown if s.startswith("Chi nhánh")]) >= 2, shown
    assert len(shown) == len(set(shown)), f"bars with the same label: {shown}"


def test_csv_rates_are_rounded(demo: Landflow) -> None:
    client = create_app(demo).test_client()
    sign_in_page(client, "auditor")
    body = client.get("/audit/kpi?from=2026-02-01&to=2026-03-03&csv=kpi-units").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    decimals = [c for r in rows[1:] for c in r if re.fullmatch(r"\d+\.\d+", c)]
    assert decimals, rows[:3]
    assert all(len(c.split(".")[1]) <= 4 for c in decimals), decimals


def test_form_problems_read_in_vietnamese(vi_request: None) -> None:
    assert messages.form_problem("obligation_amount: must be a number") == "Nghĩa vụ tài chính (đồng): phải là số"
    assert messages.form_problem("decision: must be one of accept, refuse") == (
        "Quyết định: phải là một trong các lựa chọn đã cho")
    assert messages.form_problem("note: longer than 4000 characters") == "Ghi chú: dài quá 4000 ký tự"
    # wording the page does not know (e.g. Python's own): a Vietnamese sentence, never the English
    assert messages.form_problem("obligation_amount: could not convert string to float: '35.000.000'") == (
        "Nghĩa vụ tài chính (đồng): giá trị không hợp lệ")


def test_the_browser_shows_signals_and_a_history_in_vietnamese(site: Site, pages: Pages, tmp_path: Path) -> None:
    """What Chromium renders (innerText: only what is laid out and visible), on the browser tests' server."""
    page = pages.signed_in("supervisor")
    english, codes = engine_english() | catalogue_english(), raw_codes()
    page.goto(site.url("/audit/signals"))
    seen = page.locator("main").inner_text()
    assert page.locator("table[data-table=signals] tbody tr").count() > 10
    with site.lf.db.read() as s:
        refused = s.execute(select(EventRow.dossier_id, EventRow.seq).where(EventRow.type == "action_refused")
                            .order_by(EventRow.id).limit(1)).one()
    page.goto(site.url(f"/audit/dossiers/{refused[0]}?at={refused[1]}"))
    history = page.locator("main").inner_text()
    assert "Nhận xử lý: " in history or "Hoàn thành bước: " in history, history[:400]
    assert leaks(seen, english, codes) == [] and leaks(history, english, codes) == []
    shot = tmp_path / "history.png"
    page.screenshot(path=str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_english_pages_word_the_same_codes_in_english(demo: Landflow) -> None:
    client = create_app(demo).test_client()
    sign_in_page(client, "auditor")
    client.set_cookie("landflow_lang", "en")
    text = visible_text(client.get("/audit/signals?kind=unauthorised_attempt").get_data(as_text=True))
    assert "Claim: This step belongs to " in text and "not to the officer's unit" in text, text[:600]
    assert "Bước này" not in text and not ISO_DAY.search(text)
    text = visible_text(client.get("/audit/signals?kind=escalated").get_data(as_text=True))
    assert "overdue by more than 1 working day; reported to the unit head:" in text, text[:600]


def test_the_history_shows_only_reasons_officers_typed(vi_request: None) -> None:
    from api.web.audit import summary

    returned = {"item": 2, "reason": "Thiếu trích lục", "to_step": "receive"}
    assert "Thiếu trích lục" in summary("returned", returned, None)
    # an event kind this page does not know, whose reason is the engine's English: not shown as is
    assert summary("procedure_incident", {"reason": "gateway Gateway_1 failed: KeyError 'x'"}, None) == ""
