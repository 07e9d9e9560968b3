"""The decision document over HTTP: a client signs exactly what it is given, and the engine accepts it."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask

from engine.bootstrap import Landflow
from engine.clock import FixedClock
from engine.signatures import officer_key
from tests.api.test_land_transfer_flow import item_at
from tests.support.decisions import records_issued

PROBLEM = "application/problem+json"


def by_hand(code: str, step: str, item: int, data: dict[str, Any], officer: str, signed_at: str) -> str:
    """The decision document as README ('Digital signatures of decisions') defines it."""
    return json.dumps({"purpose": "landflow-decision/1", "dossier": code, "step": step, "item": item, "data": data,
                       "officer": officer, "signed_at": signed_at}, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)


def events_of(auditor: Any, did: int) -> list[dict[str, Any]]:
    return auditor.get(f"/api/v1/dossiers/{did}/events").json


def test_sign_the_document_the_engine_gives(sign_in: Any, app: Flask, demo_lf: Landflow, demo_clock: FixedClock,
                                            tmp_path: Path) -> None:
    desk, branch, tax, auditor = (sign_in(u) for u in ("desk.haichau", "branch.haichau", "tax.haichau", "auditor"))
    dossier = desk.post("/api/v1/dossiers", json={"procedure": "land_transfer", "commune": "20242",
                                                  "applicant": {"name": "Lê Văn Tám"}}).json
    did, code = dossier["id"], dossier["code"]
    steps = [(desk, "receive", {"decision": "accept", "kind": "transfer"}),
             (branch, "check_rights", {"eligible": True}), (branch, "send_form19", {})]
    current = dossier
    for who, step, data in steps:
        demo_clock.advance(minutes=30)
        resp = who.post(f"/api/v1/work-items/{item_at(current, step)['id']}/complete", json={"data": data})
        assert resp.status_code == 200, resp.json
        current = resp.json

    # an unsigned step: the document is given (signed false) and shows how the engine normalises data
    tax_item = item_at(current, "tax_assess")
    resp = tax.get(f"/api/v1/work-items/{tax_item['id']}/decision",
                   query_string={"data": json.dumps({"obligation_amount": "12,5", "notice_no": "TB-01"})})
    assert resp.status_code == 200, resp.json
    assert (resp.json["signed"], resp.json["data"]) == (False, {"obligation_amount": 12.5, "notice_no": "TB-01"})
    for who, step, data in ((tax, "tax_assess", {"obligation_amount": 12.5, "notice_no": "TB-01"}),
                            (tax, "tax_payment", {"payment_date": "2026-03-02"})):
        demo_clock.advance(minutes=30)
        current = who.post(f"/api/v1/work-items/{item_at(current, step)['id']}/complete", json={"data": data}).json

    item = item_at(current, "update_register")
    path = f"/api/v1/work-items/{item['id']}/decision"
    # before the officer has a key: the document, and public_key null (complete would refuse)
    first = branch.get(path)
    assert first.status_code == 200 and first.json["public_key"] is None
    assert first.json["signed_at"] == demo_clock.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    key: Ed25519PrivateKey = officer_key(demo_lf.db, tmp_path / "keys", "branch.haichau", demo_clock.now())
    demo_clock.advance(minutes=5)
    signed_at = (demo_clock.now() - timedelta(seconds=30)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    resp = branch.post(path, json={"data": {}, "signed_at": signed_at})
    assert resp.status_code == 200, resp.json
    doc = resp.json
    assert doc["document"] == by_hand(code, "update_register", item["ordinal"], {}, "branch.haichau", signed_at)
    assert doc["sha256"] == hashlib.sha256(doc["document"].encode()).hexdigest()
    assert (doc["dossier"], doc["dossier_code"], doc["work_item"], doc["item"], doc["step"], doc["signed"]) == (
        did, code, item["id"], item["ordinal"], "update_register", True)
    assert doc["public_key"] and doc["public_key"].startswith("ed25519:")
    assert branch.get(path, query_string={"data": "{}", "signed_at": signed_at}).json == doc  # GET = POST
    seq_before = len(events_of(auditor, did))

    # sign the bytes given, with nothing from landflow's code, and complete
    value = base64.b64encode(key.sign(doc["document"].encode("utf-8"))).decode()
    wrong = branch.post(f"/api/v1/work-items/{item['id']}/complete",
                        json={"data": {"note": "x"}, "signature": {"signed_at": signed_at, "value": value}})
    assert wrong.status_code == 422  # update_register has no `note` field: refused before any signature check
    resp = branch.post(f"/api/v1/work-items/{item['id']}/complete",
                       json={"data": {}, "signature": {"signed_at": signed_at, "value": value}})
    assert resp.status_code == 200, resp.json
    records_issued(app)  # the answer came first; the office's record follows beside it
    events = events_of(auditor, did)
    assert events[-4]["type"] == "completed" and events[-4]["payload"]["signature"]["value"] == value
    # the office then issues the decision record and the documents the step declares (docs/signatures.md)
    assert [(e["type"], e["payload"]["slip"], e["payload"]["as_of"]) for e in events[-3:]] == [
        ("slip_issued", kind, events[-4]["seq"]) for kind in ("decision", "register_page", "issuance_record")]
    assert len(events) == seq_before + 5  # the refused completion, the signed one, its 3 papers; reading added nothing
    assert auditor.get(f"/api/v1/dossiers/{did}/verify").json["ok"] is True


def test_only_the_officer_who_may_complete_gets_the_document(sign_in: Any, demo_clock: FixedClock) -> None:
    desk, auditor = sign_in("desk.haichau"), sign_in("auditor")
    dossier = desk.post("/api/v1/dossiers", json={"procedure": "land_transfer", "commune": "20242",
                                                  "applicant": {"name": "Trần Thị B"}}).json
    did, item = dossier["id"], dossier["work_items"][0]
    path = f"/api/v1/work-items/{item['id']}/decision"
    count = len(events_of(auditor, did))

    # out of the caller's read scope: 404, exactly as a missing item, and nothing recorded
    for resp in (sign_in("desk.bengiang").get(path), desk.get("/api/v1/work-items/999999999/decision")):
        assert (resp.status_code, resp.mimetype, resp.json["code"]) == (404, PROBLEM, "not_found")
    assert len(events_of(auditor, did)) == count

    # in scope but not theirs to complete, bad form data, a stale or malformed signed_at: refused and
    # recorded in the dossier's history like the command they prepare
    demo_clock.advance(minutes=1)
    old = (demo_clock.now() - timedelta(hours=1)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    cases = [
        (sign_in("land.haichau").get(path), 403, "wrong_role"),
        (desk.post(path, json={"data": {"decision": "maybe"}}), 422, "invalid_data"),
        (desk.post(path, json={"data": {"decision": "accept", "kind": "transfer"}, "signed_at": old}), 422,
         "signature_expired"),
        (desk.get(path, query_string={"data": json.dumps({"decision": "accept", "kind": "transfer"}),
                                      "signed_at": "yesterday"}), 422, "bad_signature"),
    ]
    for resp, status, code in cases:
        assert (resp.status_code, resp.mimetype, resp.json["code"]) == (status, PROBLEM, code), resp.json
    events = events_of(auditor, did)[count:]
    assert [(e["type"], e["actor"], e["payload"]["action"], e["payload"]["code"]) for e in events] == [
        ("action_refused", "land.haichau", "prepare_decision", "wrong_role"),
        ("action_refused", "desk.haichau", "prepare_decision", "invalid_data"),
        ("action_refused", "desk.haichau", "prepare_decision", "signature_expired"),
        ("action_refused", "desk.haichau", "prepare_decision", "bad_signature")]
    assert all(e["payload"]["item"] == item["ordinal"] and e["step"] == "receive" for e in events)
    # a query whose data is not a JSON object is the request's shape: 422, not the engine's business
    for bad in ("[1, 2]", "{not json", "[" * 2000):  # deeper than json recurses; URL < 8000
        resp = desk.get(path, query_string={"data": bad})
        assert (resp.status_code, resp.json["code"]) == (422, "invalid_request")
    assert len(events_of(auditor, did)) == count + 4
    # the item done: its document is no longer given
    desk.post(f"/api/v1/work-items/{item['id']}/complete", json={"data": {"decision": "accept", "kind": "transfer"}})
    resp = desk.get(path)
    assert (resp.status_code, resp.json["code"]) == (409, "not_ready")
