"""Procedure incidents over HTTP: 409 `procedure_incident` without blame; supervisors list the stopped
dossiers and move one to a step."""

from __future__ import annotations

from typing import Any

from engine.bootstrap import Landflow
from engine.store import SignalRow
from tests.support import defective


def test_an_incident_answers_409_and_a_supervisor_moves_the_dossier_on(demo_lf: Landflow, sign_in: Any) -> None:
    demo_lf.runtime.deploy(demo_lf.directory.get().officers["supervisor"], defective.deadlock().to_xml())
    desk, supervisor = sign_in("desk.haichau"), sign_in("supervisor")
    dossier = desk.post("/api/v1/dossiers", json={"procedure": "deadlock_test", "commune": "20242",
                                                  "applicant": {"name": "Trần Văn B"}}).json
    did = dossier["id"]
    (receive,) = dossier["work_items"]
    resp = desk.post(f"/api/v1/work-items/{receive['id']}/complete", json={"data": {"fast": True}})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    (a,) = [i for i in resp.json["work_items"] if i["state"] == "ready"]
    resp = desk.post(f"/api/v1/work-items/{a['id']}/complete", json={"data": {}})
    assert resp.status_code == 409
    assert resp.mimetype == "application/problem+json"
    assert resp.json["code"] == "procedure_incident"
    with demo_lf.db.read() as s:
        kinds = [(x.kind, x.officer) for x in s.query(SignalRow).filter(SignalRow.dossier_id == did)]
    assert kinds == [("procedure_incident", None)]

    assert desk.get("/api/v1/incidents").status_code == 403
    listed = supervisor.get("/api/v1/incidents")
    assert listed.status_code == 200
    (incident,) = listed.json
    assert (incident["dossier"], incident["element"], incident["cause"], incident["action"], incident["by"],
            incident["open_steps"]) == (did, "join", "stuck", "complete", "desk.haichau", ["a"])

    resp = desk.post(f"/api/v1/dossiers/{did}/move-to-step", json={"to_step": "after", "reason": "tắc"})
    assert (resp.status_code, resp.json["code"]) == (403, "wrong_role")
    resp = supervisor.post(f"/api/v1/dossiers/{did}/move-to-step", json={"to_step": "after"})
    assert (resp.status_code, resp.json["code"]) == (422, "missing_reason")
    resp = supervisor.post(f"/api/v1/dossiers/{did}/move-to-step",
                           json={"to_step": "after", "reason": "Quy trình tắc ở cổng gộp song song"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert [i["step"] for i in resp.json["work_items"] if i["state"] == "ready"] == ["after"]
    assert supervisor.get("/api/v1/incidents").json == []
    history = supervisor.get(f"/api/v1/dossiers/{did}/verify")
    assert history.status_code == 200 and history.json["ok"], history.json
