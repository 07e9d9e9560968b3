"""land_transfer over HTTP with the Hải Châu demo officers: who owns each step, what its form needs,
and signing the one signed decision (update_register) with a key registered for the officer."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from engine.signatures import officer_key, sign_decision
from tests.support.live_server import PROBLEM, Http, Reply

from .conftest import DemoDatabase

STEP_OFFICER = {
    "receive": "desk.haichau", "check_rights": "branch.haichau", "send_form19": "branch.haichau",
    "tax_assess": "tax.haichau", "tax_payment": "tax.haichau", "update_register": "branch.haichau",
    "return_result": "desk.haichau",
}
STEP_DATA: dict[str, dict[str, Any]] = {
    "receive": {"decision": "accept", "kind": "transfer"}, "check_rights": {"eligible": True},
    "send_form19": {}, "tax_assess": {"obligation_amount": 12_500_000, "notice_no": "TB-01"},
    "tax_payment": {"payment_date": "2026-03-09", "receipt_no": "BL-77"}, "update_register": {},
    "return_result": {},
}
EVENT_OF = {"claim": "claimed", "release": "released", "complete": "completed", "transfer": "transferred",
            "return": "returned", "request-supplement": "supplement_requested", "open": "opened"}


def open_body(n: int) -> dict[str, Any]:
    return {"procedure": "land_transfer", "commune": "20242",
            "applicant": {"name": f"Người nộp {n}", "id_number": f"0480900{n:05d}"},
            "parcel": {"sheet": "12", "number": str(n), "area": 100 + n}, "data": {}}


def open_items(dossier: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in dossier["work_items"] if i["state"] in ("ready", "claimed")]


class Signer:
    """Keys of the officers who sign decisions, made and registered (in the database) on first use.

    The workload's threads share one Signer: the first use is under a lock, or two threads would each
    make and register a key, the second registration rotating the first away, and the thread holding
    the first key would sign decisions the server rightly refuses (CI saw that as a 403 bad_signature).
    """

    def __init__(self, db: DemoDatabase, key_dir: Path):
        self.db, self.key_dir = db, key_dir
        self.keys: dict[str, Ed25519PrivateKey] = {}
        self.lock = threading.Lock()

    def key(self, username: str) -> Ed25519PrivateKey:
        with self.lock:
            if username not in self.keys:
                lf = self.db.engine()
                try:
                    self.keys[username] = officer_key(lf.db, self.key_dir, username, datetime.now(UTC))
                finally:
                    lf.close()
            return self.keys[username]

    def body(self, username: str, code: str, item: dict[str, Any]) -> dict[str, Any]:
        data = STEP_DATA[item["step"]]
        body: dict[str, Any] = {"data": data}
        if item["step"] == "update_register":
            body["signature"] = sign_decision(self.key(username), code, item["step"], item["ordinal"], data,
                                              username, datetime.now(UTC)).as_dict()
        return body


def is_problem(reply: Reply) -> bool:
    """A refusal as the API promises it: problem+json with type, title, status and detail."""
    if reply.mimetype != PROBLEM:
        return False
    body = reply.json
    return isinstance(body, dict) and {"type", "title", "status", "detail"} <= set(body) and \
        body["status"] == reply.status


def add_officer(http: Http, admin: str, username: str, unit: str, role: str, password: str) -> None:
    reply = http.post("/api/v1/officers", token=admin, json_body={
        "username": username, "name": username, "unit": unit, "roles": [role], "password": password})
    assert reply.status == 201, (reply.status, reply.body[:300])
