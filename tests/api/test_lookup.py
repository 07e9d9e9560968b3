"""The citizen's lookup and rating: right and wrong proofs answer alike, nothing personal leaks, the rate
limit engages, a rating is taken once after the hand-back."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from api.lookup_key import lookup_key
from engine.bootstrap import Landflow
from engine.lookup import lookup_token
from tests.api.test_reception_api import body
from tests.reliability.land import STEP_DATA, STEP_OFFICER

PERSONAL = ("048090001234", "0905 123 456", "0905123456", "an@example.vn", "12 Lê Lợi")


def received(sign_in: Any) -> dict[str, Any]:
    b = body()
    b["applicant"]["address"] = "12 Lê Lợi, Hải Châu"
    resp = sign_in("desk.haichau").post("/api/v1/dossiers", json=b)
    assert resp.status_code == 201
    return resp.json


def run_to(lf: Landflow, dossier_id: int, last: str) -> None:
    """Complete the land_transfer steps up to and including `last` as their owners."""
    from sqlalchemy import select

    from engine.store import WorkItemRow
    officers = lf.directory.get().officers
    while True:
        with lf.db.read() as s:
            item = s.scalar(select(WorkItemRow).where(WorkItemRow.dossier_id == dossier_id,
                                                      WorkItemRow.state.in_(("ready", "claimed"))))
        if item is None:
            return
        data = dict(STEP_DATA[item.step])
        signature = None
        signer = officers[STEP_OFFICER[item.step]]
        if item.step == "update_register":
            from api.web.signing import sign as web_sign  # the demo key, as the pages sign in demo mode
            from engine.accounts import get_account
            account = get_account(lf.db, STEP_OFFICER[item.step])
            assert account is not None
            signer, signature = web_sign(lf, account, officers[STEP_OFFICER[item.step]], "demo", b"", None,
                                          lf_code(lf, dossier_id), item.step, item.ordinal, data)
        lf.runtime.complete(signer, item.id, data, signature=signature)
        if item.step == last:
            return


def lf_code(lf: Landflow, dossier_id: int) -> str:
    from sqlalchemy import select

    from engine.store import DossierRow
    with lf.db.read() as s:
        return str(s.scalar(select(DossierRow.code).where(DossierRow.id == dossier_id)))


def visible(html: str) -> str:
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_right_and_wrong_proofs(client: FlaskClient, sign_in: Any, demo_lf: Landflow) -> None:
    d = received(sign_in)
    ok = client.get("/api/v1/public/lookup", query_string={"code": d["code"], "digits": "1234"})
    assert ok.status_code == 200 and ok.json["state"] == "processing" and ok.json["late"] is False
    assert ok.json["units"] == ["Hải Châu"]  # the desk still holds its reception step
    wrong_digits = client.get("/api/v1/public/lookup", query_string={"code": d["code"], "digits": "9999"})
    wrong_code = client.get("/api/v1/public/lookup", query_string={"code": d["code"] + "9", "digits": "1234"})
    assert wrong_digits.status_code == wrong_code.status_code == 404
    assert wrong_digits.json == wrong_code.json
    token = lookup_token(lookup_key(demo_lf.settings), d["code"])
    by_token = client.get("/api/v1/public/lookup", query_string={"code": d["code"], "token": token})
    assert by_token.status_code == 200 and by_token.json == ok.json
    # the page: the same answer for both wrong proofs, word for word
    page_wrong_digits = client.get("/tra-cuu", query_string={"ma": d["code"], "so": "9999"})
    page_wrong_code = client.get("/tra-cuu", query_string={"ma": d["code"] + "9", "so": "1234"})
    assert page_wrong_digits.status_code == page_wrong_code.status_code == 404
    assert visible(page_wrong_digits.get_data(as_text=True)).replace(d["code"] + "9", d["code"]) == \
        visible(page_wrong_code.get_data(as_text=True)).replace(d["code"] + "9", d["code"])
    page = client.get("/tra-cuu", query_string={"ma": d["code"], "t": token})
    assert page.status_code == 200 and "Đang giải quyết" in page.get_data(as_text=True)
    assert client.get("/lookup").status_code == 301


def test_nothing_personal_is_shown(client: FlaskClient, sign_in: Any, demo_lf: Landflow) -> None:
    d = received(sign_in)
    api = client.get("/api/v1/public/lookup", query_string={"code": d["code"], "digits": "1234"})
    page = client.get("/tra-cuu", query_string={"ma": d["code"], "so": "1234"})
    texts = [json.dumps(api.json, ensure_ascii=False), visible(page.get_data(as_text=True))]
    officers = [o for o in demo_lf.directory.get().officers.values()]
    for text in texts:
        for value in PERSONAL:
            assert value not in text
        for o in officers:
            assert o.name not in text and o.username not in text
    assert "Nguyễn Văn An" not in texts[0]


def test_supplement_list_result_ready_hand_back_and_one_rating(client: FlaskClient, sign_in: Any,
                                                               demo_lf: Landflow) -> None:
    d = received(sign_in)
    run_to(demo_lf, d["id"], "receive")
    branch = sign_in("branch.haichau")
    item = [i for i in branch.get(f"/api/v1/dossiers/{d['id']}").json["work_items"] if i["state"] == "ready"][0]
    asked = "Hợp đồng chuyển nhượng có công chứng"
    assert branch.post(f"/api/v1/work-items/{item['id']}/request-supplement", json={"reason": asked}).status_code == 200
    proof = {"code": d["code"], "digits": "1234"}
    got = client.get("/api/v1/public/lookup", query_string=proof).json
    assert got["state"] == "awaiting_supplement" and got["asked"] == asked
    page = client.get("/tra-cuu", query_string={"ma": d["code"], "so": "1234"}).get_data(as_text=True)
    assert asked in visible(page)
    assert sign_in("desk.haichau").post(f"/api/v1/dossiers/{d['id']}/receive-supplement",
                                        json={"note": "đã nhận"}).status_code == 200
    rating = {**proof, "rating": "very_satisfied"}
    assert client.post("/api/v1/public/rating", json=rating).status_code == 409  # not handed back yet
    run_to(demo_lf, d["id"], "update_register")
    assert client.get("/api/v1/public/lookup", query_string=proof).json["state"] == "result_ready"
    run_to(demo_lf, d["id"], "return_result")
    got = client.get("/api/v1/public/lookup", query_string=proof).json
    assert got["state"] == "handed_back" and got["can_rate"] is True
    assert client.post("/api/v1/public/rating", json={**proof, "rating": "not_satisfied"}).status_code == 422
    resp = client.post("/api/v1/public/rating", json=rating)
    assert resp.status_code == 200 and resp.json["rated"] == "very_satisfied" and resp.json["can_rate"] is False
    assert client.post("/api/v1/public/rating", json=rating).status_code == 409  # once
    assert sign_in("auditor").get(f"/api/v1/dossiers/{d['id']}/verify").json["ok"] is True


def test_the_lookup_rate_limit_engages(client: FlaskClient, sign_in: Any) -> None:
    d = received(sign_in)
    codes = [client.get("/api/v1/public/lookup", query_string={"code": d["code"], "digits": f"{n:04d}"}).status_code
             for n in range(31)]
    assert codes[:30].count(404) == 30 and codes[30] == 429
    assert client.get("/tra-cuu", query_string={"ma": d["code"], "so": "1234"}).status_code == 429  # one counter


@pytest.fixture(autouse=True)
def _limits_reset(app: Any) -> None:
    """Each test's app has its own limiter (memory storage): nothing to reset across tests."""


def test_odd_codes_and_tokens_are_a_plain_not_found(client: FlaskClient) -> None:
    for query in ({"code": "[¥Û$", "token": "đđđđđđđđđđ"}, {"code": "x", "digits": "１２３４"}):
        resp = client.get("/api/v1/public/lookup", query_string=query)
        assert resp.status_code in (400, 404) and resp.mimetype == "application/problem+json", resp.json
