"""A land_transfer dossier from receipt to result, entirely over HTTP, with the demo accounts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from engine.bootstrap import Landflow
from engine.clock import FixedClock
from engine.signatures import officer_key, sign_decision
from tests.api.conftest import Caller
from tests.support.decisions import records_issued

PROBLEM = "application/problem+json"


def item_at(dossier: dict[str, Any], step: str) -> dict[str, Any]:
    (item,) = [i for i in dossier["work_items"] if i["step"] == step and i["state"] in ("ready", "claimed")]
    return item


def test_land_transfer_from_receipt_to_result(sign_in: Any, app: Flask, demo_clock: FixedClock, demo_lf: Landflow,
                                              tmp_path: Path) -> None:
    desk, branch, tax = sign_in("desk.haichau"), sign_in("branch.haichau"), sign_in("tax.haichau")
    auditor = sign_in("auditor")
    assert desk.officer == {"username": "desk.haichau", "name": "Nguyễn Thị Thu Hà", "unit": "20242",
                            "roles": ["one_stop_desk"]}

    resp = desk.post("/api/v1/dossiers", json={
        "procedure": "land_transfer", "commune": "20242",
        "applicant": {"name": "Lê Văn Tám", "id_number": "048090001234"},
        "parcel": {"sheet": "12", "number": "345", "area": 120.5}, "data": {}})
    assert resp.status_code == 201, resp.json
    dossier = resp.json
    did = dossier["id"]
    assert resp.headers["Location"].endswith(f"/api/v1/dossiers/{did}")
    assert resp.headers["ETag"] == f'"{dossier["version"]}"'
    assert dossier["code"].startswith("000.01.90.H17-260302-")
    assert (dossier["status"], dossier["procedure"], dossier["commune"]) == ("in_progress", "land_transfer", "20242")
    receive = item_at(dossier, "receive")
    assert (receive["role"], receive["unit"], receive["state"]) == ("one_stop_desk", "20242", "ready")

    work = desk.get("/api/v1/worklist").json
    assert [w["id"] for w in work] == [receive["id"]]
    assert work[0]["dossier_code"] == dossier["code"]

    demo_clock.advance(hours=1)
    resp = desk.post(f"/api/v1/work-items/{receive['id']}/complete",
                     json={"data": {"decision": "accept", "kind": "transfer"}})
    assert resp.status_code == 200, resp.json
    check = item_at(resp.json, "check_rights")
    assert (check["unit"], check["role"]) == ("CN-KV01", "registration_branch")
    assert desk.get("/api/v1/worklist").json == []
    assert [w["id"] for w in branch.get("/api/v1/worklist").json] == [check["id"]]

    # an officer of another branch, who cannot read the dossier, cannot take it: 404 as for a missing
    # item (nothing about the dossier leaks), recorded on their own record (not in the dossier's history),
    # visible in /signals
    other = sign_in("branch.bengiang")
    before = branch.get(f"/api/v1/dossiers/{did}")
    resp = other.post(f"/api/v1/work-items/{check['id']}/claim")
    assert resp.status_code == 404 and resp.mimetype == PROBLEM
    assert (resp.json["code"], resp.json["status"]) == ("not_found", 404)
    assert {"type", "title", "detail"} <= set(resp.json) and "CN-KV01" not in resp.json["detail"]
    signals = auditor.get("/api/v1/signals", query_string={"kind": "unauthorised_attempt"}).json
    assert [(s["officer"], s["dossier"], s["unit"]) for s in signals] == [("branch.bengiang", None, "CN-KV12")]
    assert "claim" in signals[0]["reason"]
    after = branch.get(f"/api/v1/dossiers/{did}")
    assert after.headers["ETag"] == before.headers["ETag"]
    assert after.json["work_items"] == before.json["work_items"]

    # a stale If-Match is refused with 412 and changes nothing
    version = int(after.headers["ETag"].strip('"'))
    resp = branch.post(f"/api/v1/work-items/{check['id']}/claim", headers={"If-Match": f'"{version - 1}"'})
    assert resp.status_code == 412 and resp.json["code"] == "stale_version"
    resp = branch.post(f"/api/v1/work-items/{check['id']}/claim", headers={"If-Match": f'"{version}"'})
    assert resp.status_code == 200, resp.json
    assert item_at(resp.json, "check_rights")["assignee"] == "branch.haichau"
    assert resp.headers["ETag"] == f'"{version + 1}"'

    steps: list[tuple[Caller, str, dict[str, Any]]] = [
        (branch, "check_rights", {"eligible": True}),
        (branch, "send_form19", {}),
        (tax, "tax_assess", {"obligation_amount": 12_500_000, "notice_no": "TB-01"}),
        (tax, "tax_payment", {"payment_date": "2026-03-09", "receipt_no": "BL-77"}),
        (branch, "update_register", {}),
        (desk, "return_result", {}),
    ]
    current = resp.json
    for who, step, data in steps:
        demo_clock.advance(minutes=50)
        item = item_at(current, step)
        etag = who.get(f"/api/v1/dossiers/{did}").headers["ETag"]
        body: dict[str, Any] = {"data": data}
        if step == "update_register":  # the certificate is a decision the branch officer signs
            unsigned = who.post(f"/api/v1/work-items/{item['id']}/complete", json=body, headers={"If-Match": etag})
            assert unsigned.status_code == 422 and unsigned.json["code"] == "signature_required"
            etag = who.get(f"/api/v1/dossiers/{did}").headers["ETag"]
            key = officer_key(demo_lf.db, tmp_path / "keys", who.username, demo_clock.now())
            body["signature"] = sign_decision(key, dossier["code"], step, item["ordinal"], data, who.username,
                                              demo_clock.now()).as_dict()
        resp = who.post(f"/api/v1/work-items/{item['id']}/complete", json=body, headers={"If-Match": etag})
        assert resp.status_code == 200, (step, resp.json)
        current = resp.json
    assert current["status"] == "done" and current["outcome"] == "issued"
    assert all(i["state"] == "done" for i in current["work_items"])
    assert [i["step"] for i in current["work_items"]] == [
        "receive", "check_rights", "send_form19", "tax_assess", "tax_payment", "update_register", "return_result"]

    records_issued(app)  # the decision record is issued beside the answers (api/slips/issuer.py)
    events = auditor.get(f"/api/v1/dossiers/{did}/events").json
    # (branch.bengiang's attempt is not in it: it could not read the dossier)
    # the office's record of the signed decision comes beside the answers: after it, wherever it falls
    records = [e for e in events if e["type"] == "slip_issued"]
    assert [e["type"] for e in events if e["type"] != "slip_issued"] == [
        "opened", "completed", "action_refused", "claimed", "completed", "completed", "completed", "completed",
        "action_refused", "completed", "completed"]
    signed = [e for e in events if e["type"] == "completed" and "signature" in e["payload"]]
    assert len(signed) == 1 and signed[0]["payload"]["signature"]["signed_at"]  # the signed decision is in the log
    assert [(r["payload"]["slip"], r["payload"]["as_of"]) for r in records] == [
        (kind, signed[0]["seq"]) for kind in ("decision", "register_page", "issuance_record")]
    assert records[0]["seq"] > signed[0]["seq"]
    assert all(e["prev_hash"] == p["hash"] for p, e in zip(events, events[1:], strict=False))
    assert events[2]["actor"] == "branch.haichau" and events[2]["payload"]["code"] == "stale_version"
    assert auditor.get(f"/api/v1/dossiers/{did}/verify").json == {
        "ok": True, "events": 14, "chain_ok": True, "replay_ok": True, "first_bad_seq": None, "problems": []}
    replayed = auditor.get(f"/api/v1/dossiers/{did}/replay", query_string={"at": 2}).json
    assert replayed["as_of_seq"] == 2 and replayed["state"]["status"] == "in_progress"
    assert [(i["step"], i["state"]) for i in replayed["state"]["work_items"]] == [
        ("receive", "done"), ("check_rights", "ready")]


def test_the_auditor_reads_everything_and_changes_nothing(sign_in: Any) -> None:
    desk, auditor = sign_in("desk.haichau"), sign_in("auditor")
    dossier = desk.post("/api/v1/dossiers", json={"procedure": "land_transfer", "commune": "20242",
                                                  "applicant": {"name": "A"}}).json
    item = dossier["work_items"][0]
    assert auditor.get(f"/api/v1/dossiers/{dossier['id']}").status_code == 200
    for path, body in ((f"/api/v1/work-items/{item['id']}/claim", {}),
                       (f"/api/v1/work-items/{item['id']}/complete", {"data": {"decision": "accept",
                                                                                "kind": "transfer"}}),
                       (f"/api/v1/dossiers/{dossier['id']}/cancel", {"reason": "thử"}),
                       ("/api/v1/dossiers", {"procedure": "land_transfer", "commune": "20242",
                                             "applicant": {"name": "B"}})):
        resp = auditor.post(path, json=body)
        assert resp.status_code == 403 and resp.json["code"] == "read_only", (path, resp.json)
    after = desk.get(f"/api/v1/dossiers/{dossier['id']}").json
    assert after["version"] == dossier["version"] and after["work_items"] == dossier["work_items"]
    kinds = [s["kind"] for s in auditor.get("/api/v1/signals", query_string={"officer": "auditor"}).json]
    assert kinds == ["unauthorised_attempt"] * 4
