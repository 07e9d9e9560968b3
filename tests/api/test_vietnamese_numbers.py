"""Issue 12, defect 2, over HTTP: the tax officer types the amount the Vietnamese way. A typo is a 422
in the history, never an `unauthorised_attempt` against the officer."""

from __future__ import annotations

from typing import Any

from engine.bootstrap import Landflow
from engine.clock import FixedClock


def item_at(dossier: dict[str, Any], step: str) -> dict[str, Any]:
    (item,) = [i for i in dossier["work_items"] if i["step"] == step and i["state"] in ("ready", "claimed")]
    return item


def test_a_tax_amount_typed_35_000_000_is_accepted_and_a_typo_is_no_misconduct(
        sign_in: Any, demo_clock: FixedClock, demo_lf: Landflow) -> None:
    desk, branch, tax, auditor = (sign_in(u) for u in ("desk.haichau", "branch.haichau", "tax.haichau", "auditor"))
    dossier = desk.post("/api/v1/dossiers", json={"procedure": "land_transfer", "commune": "20242",
                                                  "applicant": {"name": "Lê Văn Tám"}}).json
    for who, step, data in ((desk, "receive", {"decision": "accept", "kind": "transfer"}),
                            (branch, "check_rights", {"eligible": True}), (branch, "send_form19", {})):
        demo_clock.advance(minutes=30)
        resp = who.post(f"/api/v1/work-items/{item_at(dossier, step)['id']}/complete", json={"data": data})
        assert resp.status_code == 200, resp.json
        dossier = resp.json
    url = f"/api/v1/work-items/{item_at(dossier, 'tax_assess')['id']}/complete"
    for typed in ("35.000.00", "1.500"):
        resp = tax.post(url, json={"data": {"obligation_amount": typed}})
        assert resp.status_code == 422 and resp.json["code"] == "invalid_data", resp.json
        assert "could not convert" not in resp.json["detail"]
    resp = tax.post(url, json={"data": {"obligation_amount": "35.000.000", "notice_no": "TB-01"}})
    assert resp.status_code == 200, resp.json
    events = auditor.get(f"/api/v1/dossiers/{dossier['id']}/events").json
    refused = [e["payload"] for e in events if e["type"] == "action_refused"]
    assert [(p["code"], p["category"]) for p in refused] == [("invalid_data", "invalid_input")] * 2
    assert events[-1]["type"] == "completed" and events[-1]["payload"]["data"]["obligation_amount"] == 35_000_000
    assert auditor.get("/api/v1/signals", query_string={"officer": "tax.haichau"}).json == []
