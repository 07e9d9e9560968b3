"""Reviews, absences and delay causes over HTTP with the demo accounts (problem+json refusals)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from engine.bootstrap import Landflow
from engine.clock import FixedClock

PROBLEM = "application/problem+json"


def returned(desk: Any, branch: Any) -> dict[str, Any]:
    """A land_transfer dossier sent back by the branch to reception; its `returned` signal."""
    dossier = desk.post("/api/v1/dossiers", json={
        "procedure": "land_transfer", "commune": "20242", "applicant": {"name": "Lê Văn Tám"},
        "parcel": {"sheet": "12", "number": "345"}, "data": {}}).json
    receive = next(i for i in dossier["work_items"] if i["step"] == "receive")
    dossier = desk.post(f"/api/v1/work-items/{receive['id']}/complete",
                        json={"data": {"decision": "accept", "kind": "transfer"}}).json
    check = next(i for i in dossier["work_items"] if i["step"] == "check_rights" and i["state"] == "ready")
    resp = branch.post(f"/api/v1/work-items/{check['id']}/return", json={"to_step": "receive", "reason": "thiếu"})
    assert resp.status_code == 200, resp.json
    signals = branch.get("/api/v1/signals", query_string={"kind": "returned", "dossier": dossier["id"]}).json
    assert len(signals) == 1
    return signals[0]


def test_review_over_http(sign_in: Any, demo_lf: Landflow, demo_clock: FixedClock) -> None:
    desk, branch, head = sign_in("desk.haichau"), sign_in("branch.haichau"), sign_in("head.cnkv01")
    inspector = sign_in("inspector")
    first, second = returned(desk, branch), returned(desk, branch)

    resp = desk.post("/api/v1/reviews", json={"dossier": first["dossier"], "seq": first["seq"], "kind": "returned"})
    assert resp.status_code == 403 and resp.mimetype == PROBLEM and resp.json["code"] == "wrong_role"
    resp = head.post("/api/v1/reviews", json={"dossier": first["dossier"], "seq": first["seq"], "kind": "returned"})
    assert resp.status_code == 201, resp.json
    review = resp.json
    assert (review["state"], review["officer"], review["unit"], review["signal_dossier_code"]) == \
        ("open", "branch.haichau", "CN-KV01", first["dossier_code"])
    assert [e["type"] for e in review["entries"]] == ["review_opened"]
    resp = inspector.post("/api/v1/reviews", json={"dossier": second["dossier"], "seq": second["seq"],
                                                   "kind": "returned"})
    assert resp.status_code == 201
    other = resp.json["id"]

    # bad input: 422 problem, nothing recorded
    resp = branch.post(f"/api/v1/reviews/{review['id']}/explanation", json={"explanation": 5})
    assert resp.status_code == 422 and resp.mimetype == PROBLEM
    resp = head.post(f"/api/v1/reviews/{review['id']}/verdict", json={"verdict": "shirking_confirmed", "reason": "x"})
    assert resp.status_code == 409 and resp.json["code"] == "explanation_pending"

    # the officer sees the reviews about them, explains; the head decides
    assert {r["id"] for r in branch.get("/api/v1/reviews").json} == {review["id"], other}
    resp = branch.post(f"/api/v1/reviews/{review['id']}/explanation", json={"explanation": "Tôi nhầm thành phần."})
    assert resp.status_code == 200 and resp.json["state"] == "explained"
    resp = head.post(f"/api/v1/reviews/{review['id']}/verdict",
                     json={"verdict": "shirking_confirmed", "reason": "Hồ sơ đã đủ."})
    assert resp.status_code == 200 and resp.json["verdict"] == "shirking_confirmed"
    branch.post(f"/api/v1/reviews/{other}/explanation", json={"explanation": "Chưa có chữ ký."})
    resp = inspector.post(f"/api/v1/reviews/{other}/verdict",
                          json={"verdict": "justified", "cause": "applicant", "reason": "Đơn thiếu chữ ký."})
    assert resp.status_code == 200

    kpi = head.get("/api/v1/reports/kpi", query_string={"group_by": "officer"}).json
    row = next(r for r in kpi["rows"] if r["key"] == "branch.haichau")
    assert (row["returns"], row["confirmed_shirking"], row["justified"]) == (2, 1, 1)
    # another unit's head does not see the review at all
    assert sign_in("head.haichau").get(f"/api/v1/reviews/{review['id']}").status_code == 404
    assert sign_in("head.haichau").get("/api/v1/reviews").json == []


def test_absence_and_delay_causes_over_http(sign_in: Any, demo_lf: Landflow, demo_clock: FixedClock) -> None:
    head = sign_in("head.haichau")
    today = demo_clock.now().astimezone(demo_lf.calendar.tz).date()
    body = {"officer": "land.haichau", "deputy": "desk.haichau", "from": today.isoformat(),
            "to": (today + timedelta(days=2)).isoformat(), "reason": "nghỉ phép"}
    resp = head.post("/api/v1/absences", json=body)
    assert resp.status_code == 422 and resp.json["code"] == "illegal_target"  # not a land officer
    resp = sign_in("land.haichau").post("/api/v1/absences", json=body)
    assert resp.status_code == 403 and resp.json["code"] == "wrong_role"
    resp = head.post("/api/v1/absences", json={**body, "to": (today - timedelta(days=1)).isoformat()})
    assert resp.status_code == 422 and resp.mimetype == PROBLEM
    assert head.get("/api/v1/absences").json == []

    report = head.get("/api/v1/reports/delay-causes", query_string={"group_by": "unit"})
    assert report.status_code == 200 and report.json["unit"] == "20242"
    assert sign_in("desk.haichau").get("/api/v1/reports/delay-causes").status_code == 403
    assert sign_in("inspector").get("/api/v1/reports/delay-causes",
                                    query_string={"from": date(2026, 1, 1).isoformat()}).status_code == 200
