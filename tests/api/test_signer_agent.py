"""The local signing agent against a real PKCS#11 token (SoftHSM2): the key is generated on the token and
never leaves it; the agent signs the decision document the engine gives; the engine accepts a trusted
certificate and refuses, and records, an expired, revoked or wrong-chain one and a signature over another
dossier's decision."""

from __future__ import annotations

import base64
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from api.signer_agent import TokenSigner, serve
from config.settings import Settings
from engine.bootstrap import Landflow
from engine.certificates import verify_with_certificate
from engine.clock import FixedClock
from engine.signatures import decision_document, register_key
from tests.api.test_land_transfer_flow import item_at
from tests.support.pki import Pki
from tests.support.softhsm import Token, process_token

ORIGIN = "http://landflow.test"


@pytest.fixture(scope="session")
def token(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The process's SoftHSM2 token (tests/support/softhsm.py), shared with the browser test."""
    return process_token(tmp_path_factory.mktemp("softhsm"))


@pytest.fixture
def agent(token: dict[str, Any]) -> Iterator[str]:
    t: Token = token["token"]
    signer = TokenSigner(t.module, t.label, t.pin, "officer-ec").open()
    server = serve(signer, ORIGIN, 0, say=lambda _m: None)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    signer.close()


def call(url: str, path: str, body: dict[str, Any] | None = None, origin: str = ORIGIN,
         method: str | None = None) -> tuple[int, dict[str, str], dict[str, Any]]:
    req = urllib.request.Request(url + path, data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Origin": origin, "Content-Type": "application/json"}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            raw = r.read()
            return r.status, dict(r.headers), json.loads(raw) if raw else {}
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read() or b"{}")


def agent_signature(url: str, document: str, signed_at: str) -> dict[str, str]:
    status, _h, body = call(url, "/sign", {"document": base64.b64encode(document.encode()).decode()})
    assert status == 200, body
    return {"signed_at": signed_at, "value": body["value"], "document": base64.b64encode(document.encode()).decode()}


@pytest.fixture
def pki(demo_settings: Settings, demo_clock: FixedClock, tmp_path: Path, demo_lf: Landflow) -> Pki:
    p = Pki(demo_clock.now() - timedelta(days=100))
    p.write_roots(demo_settings.trust_roots)
    (tmp_path / "ca.crl").write_bytes(p.crl([], demo_clock.now()))
    demo_lf.runtime.settings.trust.crl = str(tmp_path / "ca.crl")  # LANDFLOW_CRL
    demo_lf.runtime.settings.trust.ed25519_keys = False  # production: certificates only
    return p


def register(lf: Landflow, bundle: str) -> None:
    with lf.db.write() as s:
        register_key(s, "branch.haichau", bundle, "admin", lf.clock.now())
    lf.directory.refresh()


def test_the_agent_signs_on_the_token_and_the_engine_judges_the_certificate(
        sign_in: Any, demo_lf: Landflow, demo_clock: FixedClock, pki: Pki, token: dict[str, Any], agent: str,
        tmp_path: Path) -> None:
    desk, branch, tax, auditor = (sign_in(u) for u in ("desk.haichau", "branch.haichau", "tax.haichau", "auditor"))
    current = desk.post("/api/v1/dossiers", json={"procedure": "land_transfer", "commune": "20242",
                                                  "applicant": {"name": "Lê Văn Tám"}}).json
    other = desk.post("/api/v1/dossiers", json={"procedure": "land_transfer", "commune": "20242",
                                                "applicant": {"name": "Trần Thị B"}}).json
    for who, step, data in ((desk, "receive", {"decision": "accept", "kind": "transfer"}),
                            (branch, "check_rights", {"eligible": True}), (branch, "send_form19", {}),
                            (tax, "tax_assess", {"obligation_amount": 12.5, "notice_no": "TB-01"}),
                            (tax, "tax_payment", {"payment_date": "2026-03-02"})):
        demo_clock.advance(minutes=30)
        current = who.post(f"/api/v1/work-items/{item_at(current, step)['id']}/complete", json={"data": data}).json
    did, item = current["id"], item_at(current, "update_register")
    complete = f"/api/v1/work-items/{item['id']}/complete"

    def attempt(cert_pem: str, doc_code: str | None = None) -> Any:
        register(demo_lf, cert_pem)
        doc = branch.post(f"/api/v1/work-items/{item['id']}/decision", json={"data": {}}).json
        text = doc["document"]
        if doc_code is not None:  # the same decision, but for another dossier
            text = decision_document(doc_code, doc["step"], doc["item"], {}, "branch.haichau",
                                     doc["signed_at"]).decode()
        return branch.post(complete, json={"data": {}, "signature": agent_signature(agent, text, doc["signed_at"])})

    ec_public = token["ec"]
    pem = lambda c: c.public_bytes(serialization.Encoding.PEM).decode() + pki.intermediate.pem  # noqa: E731
    expired = pki.certify(ec_public, "branch (expired)", start=demo_clock.now() - timedelta(days=800), days=365)
    stranger = Pki(pki.start)
    wrong_chain = stranger.certify(ec_public, "branch.haichau")
    revoked = pki.certify(ec_public, "branch (revoked)")
    good = pki.certify(ec_public, "Nguyễn Văn A (branch.haichau)")
    (tmp_path / "ca.crl").write_bytes(pki.crl([revoked], demo_clock.now()))
    before = len(auditor.get(f"/api/v1/dossiers/{did}/events").json)
    outcomes = [attempt(pem(expired)),
                attempt(wrong_chain.public_bytes(serialization.Encoding.PEM).decode() + stranger.intermediate.pem),
                attempt(pem(revoked)), attempt(pem(good), doc_code=other["code"])]
    assert [(r.status_code, r.json["code"]) for r in outcomes] == [
        (403, "certificate_expired"), (403, "certificate_untrusted"), (403, "certificate_revoked"),
        (403, "signature_other_dossier")]
    events = auditor.get(f"/api/v1/dossiers/{did}/events").json[before:]
    assert [(e["type"], e["actor"], e["payload"]["code"]) for e in events] == [
        ("action_refused", "branch.haichau", code) for code in
        ("certificate_expired", "certificate_untrusted", "certificate_revoked", "signature_other_dossier")]
    # the trusted, valid, unrevoked certificate of the token's key: accepted
    accepted = attempt(pem(good))
    assert accepted.status_code == 200, accepted.json
    done = [e for e in auditor.get(f"/api/v1/dossiers/{did}/events").json if e["type"] == "completed"][-1]
    assert done["step"] == "update_register" and done["payload"]["signature"]["key"] == pem(good)
    assert auditor.get(f"/api/v1/dossiers/{did}/verify").json["ok"] is True


def test_the_agent_answers_only_its_origin_and_signs_only_decisions(agent: str, token: dict[str, Any]) -> None:
    status, headers, _ = call(agent, "/sign", method="OPTIONS")
    assert status == 204 and headers["Access-Control-Allow-Origin"] == ORIGIN
    doc = decision_document("X-1", "sign", 1, {}, "someone", "2026-03-02T01:00:00.000000Z").decode()
    status, headers, _ = call(agent, "/sign", {"document": base64.b64encode(doc.encode()).decode()},
                              origin="http://evil.test")
    assert status == 403 and "Access-Control-Allow-Origin" not in headers
    status, _h, body = call(agent, "/sign", {"document": base64.b64encode(b"pay 1000000 VND to me").decode()})
    assert (status, body["error"]) == (422, "not_a_decision")
    status, _h, body = call(agent, "/sign", {"document": base64.b64encode(doc.encode()).decode()})
    assert status == 200
    # RSA tokens too: the same document signed with the token's RSA key (CKM_SHA256_RSA_PKCS)
    t: Token = token["token"]
    rsa = TokenSigner(t.module, t.label, t.pin, "officer-rsa").open()
    cert = token["rsa_cert"]
    verify_with_certificate(cert, doc.encode(), base64.b64encode(rsa.sign(doc.encode())).decode())
    assert rsa.certificate_pem == cert.public_bytes(serialization.Encoding.PEM).decode()  # found by the key's ID
    rsa.close()
