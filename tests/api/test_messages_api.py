"""Another agency's answer over HTTP: POST /api/v1/messages with the dossier's code, the message name, its
data and an idempotency key; refusals are problem+json and recorded in the dossier's chain."""

from __future__ import annotations

from typing import Any

from engine.bootstrap import Landflow
from tests.support.bpmn_builder import message_procedure


def waiting_dossier(demo_lf: Landflow, sign_in: Any) -> tuple[int, str]:
    demo_lf.runtime.deploy(demo_lf.directory.get().officers["supervisor"], message_procedure().to_xml())
    desk, land = sign_in("desk.haichau"), sign_in("land.haichau")
    dossier = desk.post("/api/v1/dossiers", json={"procedure": "message_test", "commune": "20242",
                                                  "applicant": {"name": "Trần Văn B"}}).json
    (receive,) = dossier["work_items"]
    resp = desk.post(f"/api/v1/work-items/{receive['id']}/complete", json={"data": {}})
    for _ in ("verify", "send_form19"):
        (ready,) = [i for i in resp.json["work_items"] if i["state"] == "ready"]
        resp = land.post(f"/api/v1/work-items/{ready['id']}/complete", json={"data": {}})
        assert resp.status_code == 200, resp.get_data(as_text=True)
    assert [i for i in resp.json["work_items"] if i["state"] == "ready"] == []
    return dossier["id"], dossier["code"]


def test_the_tax_office_delivers_its_notice(demo_lf: Landflow, sign_in: Any) -> None:
    did, code = waiting_dossier(demo_lf, sign_in)
    tax, land, other_tax = sign_in("tax.haichau"), sign_in("land.haichau"), sign_in("tax.haivan")
    notice = {"dossier": code, "message": "tax_notice", "data": {"amount": "35.000.000", "notice_no": "TB-7"},
              "key": "thue-cs01-TB-7"}
    refusals = [
        (land.post("/api/v1/messages", json={**notice, "key": "a"}), 403, "wrong_role"),
        (other_tax.post("/api/v1/messages", json={**notice, "key": "b"}), 403, "wrong_unit"),
        (tax.post("/api/v1/messages", json={**notice, "data": {"amount": "x"}, "key": "c"}), 422, "invalid_data"),
        (tax.post("/api/v1/messages", json={**notice, "dossier": "000.00.00.H17-000000-9999"}), 404, "not_found"),
    ]
    for resp, status, code_ in refusals:
        assert (resp.status_code, resp.mimetype, resp.json["code"]) == (status, "application/problem+json", code_)
    bad_key = tax.post("/api/v1/messages", json={**notice, "key": "két sắt"})
    assert bad_key.status_code == 422  # the body's shape: no engine command ran
    first = tax.post("/api/v1/messages", json=notice)
    assert first.status_code == 201, first.get_data(as_text=True)
    assert (first.json["code"], first.json["message"], first.json["element"]) == (code, "tax_notice", "tax_wait")
    again = tax.post("/api/v1/messages", json=notice)
    assert (again.status_code, again.json, again.headers["Idempotent-Replayed"]) == (200, first.json, "true")
    late = tax.post("/api/v1/messages", json={**notice, "key": "thue-cs01-TB-8"})
    assert (late.status_code, late.json["code"]) == (409, "not_awaiting")
    dossier = land.get(f"/api/v1/dossiers/{did}").json
    assert [i["step"] for i in dossier["work_items"] if i["state"] == "ready"] == ["sign"]
    kinds = [e["type"] for e in sign_in("auditor").get(f"/api/v1/dossiers/{did}/events?limit=200").json]
    assert kinds.count("message_received") == 1
    assert kinds.count("action_refused") == 4  # wrong role, wrong unit, bad data, not awaiting (404: audit log)
    verified = sign_in("auditor").get(f"/api/v1/dossiers/{did}/verify")
    assert verified.status_code == 200 and verified.json["ok"], verified.json


def test_the_endpoint_is_in_the_openapi_document(client: Any) -> None:
    spec = client.get("/api/v1/openapi.json").json
    post = spec["paths"]["/api/v1/messages"]["post"]
    assert {"201", "200", "403", "404", "409", "422"} <= set(post["responses"])
