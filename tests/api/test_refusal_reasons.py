"""A drawn refusal over HTTP: refused at reception or found not eligible, the completion needs its
reason (422 problem+json, invalid input, nothing changed) and leaves a `returned` signal; the demo
history (api/simulation.py) gives every refusal its reason."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from api.simulation import Stats
from engine.bootstrap import Landflow
from engine.clock import FixedClock
from engine.store import CaseEventRow

PROBLEM = "application/problem+json"
APPLICANT = {"name": "Lê Văn Tám", "id_number": "048090001234"}


def item_at(dossier: dict[str, Any], step: str) -> dict[str, Any]:
    (item,) = [i for i in dossier["work_items"] if i["step"] == step and i["state"] in ("ready", "claimed")]
    return item


def open_dossier(desk: Any) -> dict[str, Any]:
    resp = desk.post("/api/v1/dossiers", json={"procedure": "land_transfer", "commune": "20242",
                                               "applicant": APPLICANT, "parcel": {"sheet": "12"}, "data": {}})
    assert resp.status_code == 201, resp.json
    return dict(resp.json)


def refused_without_reason(who: Any, item: dict[str, Any], did: int, data: dict[str, Any]) -> None:
    before = who.get(f"/api/v1/dossiers/{did}")
    for blank in ({}, {"refusal_reason": ""}, {"refusal_reason": "   "}, {"return_reason": "\n"}):
        sent = {k: v for k, v in data.items() if k not in ("refusal_reason", "return_reason")}
        sent.update({k: v for k, v in blank.items() if k in data})
        resp = who.post(f"/api/v1/work-items/{item['id']}/complete", json={"data": sent})
        assert resp.status_code == 422 and resp.mimetype == PROBLEM, resp.json
        assert resp.json["code"] == "missing_reason" and resp.json["detail"]
    after = who.get(f"/api/v1/dossiers/{did}")
    assert after.json["work_items"] == before.json["work_items"] and after.json["status"] == "in_progress"


def test_a_refusal_at_reception_needs_its_reason(sign_in: Any, demo_clock: FixedClock) -> None:
    desk, auditor = sign_in("desk.haichau"), sign_in("auditor")
    dossier = open_dossier(desk)
    did, receive = dossier["id"], item_at(dossier, "receive")
    demo_clock.advance(minutes=30)
    data = {"decision": "refuse", "kind": "transfer", "refusal_reason": "Ngoài thẩm quyền của Bộ phận Một cửa"}
    refused_without_reason(desk, receive, did, data)
    assert auditor.get("/api/v1/signals", query_string={"kind": "returned"}).json == []
    resp = desk.post(f"/api/v1/work-items/{receive['id']}/complete", json={"data": data})
    assert resp.status_code == 200, resp.json
    assert (resp.json["status"], resp.json["outcome"]) == ("done", "refused")
    signals = auditor.get("/api/v1/signals", query_string={"kind": "returned"}).json
    assert [(s["officer"], s["dossier"], s["unit"], s["reason"]) for s in signals] == [
        ("desk.haichau", did, "20242", "Ngoài thẩm quyền của Bộ phận Một cửa")]


def test_not_eligible_needs_its_reason_and_eligible_does_not(sign_in: Any, demo_clock: FixedClock) -> None:
    desk, branch, auditor = sign_in("desk.haichau"), sign_in("branch.haichau"), sign_in("auditor")
    eligible, refused = open_dossier(desk), open_dossier(desk)
    for d in (eligible, refused):
        resp = desk.post(f"/api/v1/work-items/{item_at(d, 'receive')['id']}/complete",
                         json={"data": {"decision": "accept", "kind": "transfer"}})
        assert resp.status_code == 200, resp.json
        d.update(resp.json)
    demo_clock.advance(hours=2)
    resp = branch.post(f"/api/v1/work-items/{item_at(eligible, 'check_rights')['id']}/complete",
                       json={"data": {"eligible": True}})  # no reason asked: eligible is no refusal
    assert resp.status_code == 200 and item_at(resp.json, "send_form19")
    check = item_at(refused, "check_rights")
    data = {"eligible": False, "return_reason": "Đất đang có tranh chấp"}
    refused_without_reason(branch, check, refused["id"], data)
    resp = branch.post(f"/api/v1/work-items/{check['id']}/complete", json={"data": data})
    assert resp.status_code == 200 and item_at(resp.json, "return_dossier")
    signals = auditor.get("/api/v1/signals", query_string={"kind": "returned"}).json
    assert [(s["officer"], s["dossier"], s["reason"]) for s in signals] == [
        ("branch.haichau", refused["id"], "Đất đang có tranh chấp")]


def test_the_demo_history_gives_every_refusal_its_reason(simulated: Stats, demo_lf: Landflow) -> None:
    with demo_lf.db.read() as s:
        payloads = [(t, json.loads(p)) for t, p in s.execute(
            select(CaseEventRow.type, CaseEventRow.payload).where(CaseEventRow.type.in_(
                ("completed", "action_refused"))))]
    refusals = [p for t, p in payloads if t == "completed" and p.get("refused")]
    assert refusals and all(p["reason"].strip() for p in refusals)
    assert not [p for t, p in payloads if t == "action_refused" and p.get("code") == "missing_reason"]
