"""The failed-sign-in limit (api/limits.py) has one key and one counter for the API and the pages
(issue 13, point 3), on the real Flask app over SQLite and PostgreSQL.

Two bypasses are closed: spellings of a username that find the same account (blanks around it,
capitals) used to count as different names, and the API and the pages used to keep separate counters,
so a username locked out on one signed in on the other.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from api.app import create_app
from engine.accounts import normal_username
from engine.bootstrap import build
from engine.clock import FixedClock
from tests.conftest import local
from tests.support.figures import Figures
from tests.web.conftest import csrf_of

from .conftest import DemoDatabase

RATE = 5


@pytest.fixture
def client(demo_db: DemoDatabase) -> Iterator[FlaskClient]:
    lf = build(demo_db.settings(login_rate=f"{RATE}/minute"), clock=FixedClock(local(2026, 3, 2, 8, 0)))
    yield create_app(lf).test_client()
    lf.close()


def page_sign_in(client: FlaskClient, username: str, password: str) -> int:
    token = csrf_of(client.get("/login").get_data(as_text=True))
    resp = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    if resp.status_code == 303:
        client.post("/logout", data={"csrf_token": csrf_of(client.get("/welcome").get_data(as_text=True))})
    return resp.status_code


def api_sign_in(client: FlaskClient, username: str, password: str) -> int:
    return client.post("/api/v1/auth/token", json={"username": username, "password": password}).status_code


def test_one_normalisation_for_the_look_up_and_the_limit() -> None:
    composed, decomposed = "ph\u01b0\u1edbc", unicodedata.normalize("NFD", "ph\u01b0\u1edbc")
    assert composed != decomposed
    assert normal_username(f" \t{decomposed.upper()}\u00a0 ") == composed
    assert normal_username("  Desk.HaiChau ") == "desk.haichau"


def test_spellings_of_one_username_share_its_count_on_the_pages(client: FlaskClient, figures: Figures) -> None:
    spellings = [" " * i + "desk.haichau" for i in range(RATE - 2)] + ["DESK.HaiChau", "desk.haichau\t "]
    assert [page_sign_in(client, name, "wrong") for name in spellings] == [401] * RATE
    # each of those spellings signs in as desk.haichau, so the limit holds for every one of them
    assert page_sign_in(client, " " * 40 + "desk.haichau", "demo") == 429
    assert page_sign_in(client, "Desk.Haichau", "demo") == 429
    assert api_sign_in(client, "  DESK.haichau", "demo") == 429
    # another officer is not held up
    assert page_sign_in(client, "land.haichau", "demo") == 303
    figures.add("hostile", RATE + 3)
    figures.add("refusals_checked", 3)


def test_the_api_and_the_pages_share_one_counter(client: FlaskClient, figures: Figures) -> None:
    assert [api_sign_in(client, "desk.haichau", "wrong") for _ in range(RATE)] == [401] * RATE
    assert page_sign_in(client, "desk.haichau", "demo") == 429  # locked on the API: locked on the pages
    assert [page_sign_in(client, "branch.haichau", "wrong") for _ in range(RATE)] == [401] * RATE
    assert api_sign_in(client, "branch.haichau", "demo") == 429  # and the other way round
    # failures on both add up: two on the API and three on the pages lock the name out
    assert [api_sign_in(client, "land.haichau", "wrong") for _ in range(2)] == [401] * 2
    assert [page_sign_in(client, "land.haichau", "wrong") for _ in range(RATE - 2)] == [401] * (RATE - 2)
    assert api_sign_in(client, "land.haichau", "demo") == 429
    assert page_sign_in(client, "tax.haichau", "demo") == 303 and api_sign_in(client, "tax.haichau", "demo") == 200
    figures.add("hostile", 3 * RATE + 3)
    figures.add("refusals_checked", 3)
