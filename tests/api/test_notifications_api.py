"""Consent taken at reception in the API's open body, recorded in the `opened` event; the notifications
that failed or are late listed for the desk (GET /api/v1/notifications/troubles), never with the address."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from sqlalchemy import select

from engine.bootstrap import Landflow
from engine.notifications.sender import Sender
from engine.store import CaseEventRow, NotificationRow
from tests.api.test_reception_api import body


def notify_of(lf: Landflow, dossier_id: int) -> Any:
    with lf.db.read() as s:
        payload = s.scalars(select(CaseEventRow.payload).where(CaseEventRow.dossier_id == dossier_id,
                                                               CaseEventRow.seq == 1)).one()
    return json.loads(payload)["fx"]["dossier"]["applicant"].get("notify")


def channels(lf: Landflow, dossier_id: int) -> list[str]:
    with lf.db.read() as s:
        return sorted(s.scalars(select(NotificationRow.channel).where(NotificationRow.dossier_id == dossier_id)))


def fail_everything(lf: Landflow) -> None:
    """Run the sender as outside demo mode with nothing configured: every row fails, for the desk to see."""
    demo = lf.settings
    lf.settings = dataclasses.replace(demo, demo=False)
    try:
        Sender(lf).run_once()
    finally:
        lf.settings = demo


def test_consent_in_the_open_body(sign_in: Any, demo_lf: Landflow) -> None:
    desk = sign_in("desk.haichau")
    b = body()
    b["applicant"]["notify"] = {"consent": True}  # the channels: those with an address
    d = desk.post("/api/v1/dossiers", json=b)
    assert d.status_code == 201, d.get_data(as_text=True)
    assert notify_of(demo_lf, d.json["id"]) == {"consent": True, "channels": ["email", "sms"]}
    assert channels(demo_lf, d.json["id"]) == ["email", "sms"]

    b = body()
    b["applicant"]["notify"] = {"consent": True, "channels": ["sms"]}
    only_sms = desk.post("/api/v1/dossiers", json=b).json["id"]
    assert channels(demo_lf, only_sms) == ["sms"]

    no_consent = desk.post("/api/v1/dossiers", json=body()).json["id"]
    assert notify_of(demo_lf, no_consent) is None and channels(demo_lf, no_consent) == []

    b = body()
    del b["applicant"]["email"]
    b["applicant"]["notify"] = {"consent": True, "channels": ["email"]}
    refused = desk.post("/api/v1/dossiers", json=b)
    assert refused.status_code == 422 and "applicant.notify: email needs applicant.email" in refused.json["detail"]
    b["applicant"]["notify"] = {"consent": "yes"}
    assert desk.post("/api/v1/dossiers", json=b).status_code == 422


def test_failed_notifications_in_the_api_for_the_desk(sign_in: Any, demo_lf: Landflow) -> None:
    desk = sign_in("desk.haichau")
    b = body()
    b["applicant"]["notify"] = {"consent": True, "channels": ["sms"]}
    d = desk.post("/api/v1/dossiers", json=b).json
    assert desk.get("/api/v1/notifications/troubles").json == []
    fail_everything(demo_lf)
    (row,) = desk.get("/api/v1/notifications/troubles").json
    assert (row["dossier"], row["dossier_code"], row["kind"], row["channel"], row["state"]) == \
        (d["id"], d["code"], "received", "sms", "failed")
    assert row["error"].startswith("not_configured") and "0905" not in json.dumps(row)  # never the number
    assert sign_in("desk.bengiang").get("/api/v1/notifications/troubles").json == []  # another desk's
    assert sign_in("land.haichau").get("/api/v1/notifications/troubles").status_code == 403
    assert len(sign_in("supervisor").get("/api/v1/notifications/troubles").json) == 1
