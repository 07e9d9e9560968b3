"""Decision signatures by X.509 certificates (engine/certificates.py): the chain to the configured root,
validity at the signing time, key usage and the CRL; every refused signature is a recorded refusal with its
own code; Ed25519 keys only as the named development option."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from config.settings import Settings
from engine.bootstrap import Landflow
from engine.clock import FixedClock
from engine.history import verify
from engine.jsoncanon import iso
from engine.runtime import CommandRefused
from engine.signatures import decision_document, public_key_text, register_key
from engine.store import WorkItemRow
from tests.conftest import officer
from tests.engine.test_signatures import events, item
from tests.support.bpmn_builder import small_procedure
from tests.support.pki import Issued, Pki, new_key, sign_bytes


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """Production settings: certificates only, the CRL in a file the tests write."""
    return replace(settings, ed25519_keys=False, crl=str(tmp_path / "ca.crl"), trust_roots=tmp_path / "trust")


@pytest.fixture
def pki(lf: Landflow, clock: FixedClock, tmp_path: Path) -> Pki:
    p = Pki(clock.now() - timedelta(days=365))
    p.write_roots(tmp_path / "trust")
    (tmp_path / "ca.crl").write_bytes(p.crl([], clock.now()))
    return p


@pytest.fixture
def dossier(lf: Landflow) -> dict[str, Any]:
    """The small procedure with `sign` marked signed; a dossier waiting at `sign`."""
    proc = small_procedure()
    next(n for n in proc.nodes if n.id == "sign").props["signed"] = "true"
    lf.runtime.deploy(officer(lf, "supervisor"), proc.to_xml())
    rt = lf.runtime
    st = rt.open(officer(lf, "desk.w1"), "small_test", "W1", {"name": "A"})
    rt.complete(officer(lf, "desk.w1"), st.items[1].id, {"complete": True})
    rt.complete(officer(lf, "land.w1"), item(lf, st.id, "verify").id, {"eligible": True, "area": 120})
    rt.complete(officer(lf, "land.w1"), item(lf, st.id, "post").id, {})
    return {"id": st.id, "code": st.code, "item": item(lf, st.id, "sign")}


def register(lf: Landflow, username: str, bundle: str) -> None:
    with lf.db.write() as s:
        register_key(s, username, bundle, "admin", lf.clock.now())
    lf.directory.refresh()


def sign(lf: Landflow, who: Issued, code: str, sign_item: WorkItemRow, *, age: timedelta = timedelta(seconds=5),
         officer_name: str = "chair.w1") -> dict[str, str]:
    at = iso(lf.clock.now() - age)
    doc = decision_document(code, "sign", sign_item.ordinal, {}, officer_name, at)
    return {"signed_at": at, "value": base64.b64encode(sign_bytes(who.key, doc)).decode(),
            "document": base64.b64encode(doc).decode()}


def refused(lf: Landflow, did: int, sign_item: WorkItemRow, sig: dict[str, str]) -> str:
    before = len(events(lf, did))
    with pytest.raises(CommandRefused) as info:
        lf.runtime.complete(officer(lf, "chair.w1"), sign_item.id, {}, signature=sig)
    evs = events(lf, did)
    assert len(evs) == before + 1 and evs[-1].type == "action_refused" and evs[-1].actor == "chair.w1"
    assert json.loads(evs[-1].payload)["code"] == info.value.code
    assert item(lf, did, "sign").state == "ready"
    return info.value.code


@pytest.mark.parametrize("kind", ["ec", "rsa"])
def test_a_decision_signed_with_a_trusted_certificate_is_accepted_and_verify_rechecks_it(
        lf: Landflow, pki: Pki, dossier: dict[str, Any], kind: str) -> None:
    chair = pki.officer("Chủ tịch UBND phường W1", new_key(kind))
    register(lf, "chair.w1", pki.bundle(chair))
    lf.runtime.complete(officer(lf, "chair.w1"), dossier["item"].id, {},
                        signature=sign(lf, chair, dossier["code"], dossier["item"]))
    done = [e for e in events(lf, dossier["id"]) if e.type == "completed" and e.step == "sign"]
    assert json.loads(done[0].payload)["signature"]["key"] == pki.bundle(chair)
    with lf.db.read() as s:
        assert verify(s, lf.procedures, dossier["id"]).ok


def test_revoked_expired_wrong_chain_and_wrong_usage_certificates_are_refused_and_recorded(
        lf: Landflow, pki: Pki, dossier: dict[str, Any], tmp_path: Path, clock: FixedClock) -> None:
    did, it, code = dossier["id"], dossier["item"], dossier["code"]
    # expired: valid for a year that ended a month ago
    old = pki.officer("chair old", start=clock.now() - timedelta(days=400), days=365)
    register(lf, "chair.w1", pki.bundle(old))
    assert refused(lf, did, it, sign(lf, old, code, it)) == "certificate_expired"
    # wrong chain: same names, another root that is not configured
    stranger = Pki(pki.start)
    forged = stranger.officer("chair.w1")
    register(lf, "chair.w1", stranger.bundle(forged))
    assert refused(lf, did, it, sign(lf, forged, code, it)) == "certificate_untrusted"
    # a certificate for encryption only
    enc = pki.officer("chair enc", usage="encrypt")
    register(lf, "chair.w1", pki.bundle(enc))
    assert refused(lf, did, it, sign(lf, enc, code, it)) == "certificate_key_usage"
    # revoked: in the CA's CRL
    good = pki.officer("chair.w1")
    register(lf, "chair.w1", pki.bundle(good))
    (tmp_path / "ca.crl").write_bytes(pki.crl([good.cert], clock.now()))
    assert refused(lf, did, it, sign(lf, good, code, it)) == "certificate_revoked"
    # a CRL that cannot be read is never a pass
    (tmp_path / "ca.crl").write_bytes(b"not a crl")
    assert refused(lf, did, it, sign(lf, good, code, it)) == "revocation_unknown"
    (tmp_path / "ca.crl").write_bytes(pki.crl([], clock.now()))
    lf.runtime.complete(officer(lf, "chair.w1"), it.id, {}, signature=sign(lf, good, code, it))


def test_a_signature_over_another_dossiers_decision_is_refused_with_its_own_code(
        lf: Landflow, pki: Pki, dossier: dict[str, Any]) -> None:
    chair = pki.officer("chair.w1")
    register(lf, "chair.w1", pki.bundle(chair))
    other = lf.runtime.open(officer(lf, "desk.w1"), "small_test", "W1", {"name": "B"})
    it = dossier["item"]
    assert refused(lf, dossier["id"], it, sign(lf, chair, other.code, it)) == "signature_other_dossier"
    # over this dossier's decision, but for another officer's name: another document
    assert refused(lf, dossier["id"], it, sign(lf, chair, dossier["code"], it, officer_name="land.w1")) \
        == "signature_wrong_document"
    # without the document, only "does not match"
    sig = sign(lf, chair, other.code, it)
    del sig["document"]
    assert refused(lf, dossier["id"], it, sig) == "bad_signature"


def test_ed25519_keys_are_refused_outside_the_development_option(lf: Landflow, pki: Pki,
                                                                  dossier: dict[str, Any]) -> None:
    from engine.signatures import sign_decision

    key = Ed25519PrivateKey.generate()
    register(lf, "chair.w1", public_key_text(key.public_key()))
    sig = sign_decision(key, dossier["code"], "sign", dossier["item"].ordinal, {}, "chair.w1",
                        lf.clock.now()).as_dict()
    assert refused(lf, dossier["id"], dossier["item"], sig) == "key_not_certificate"
    lf.runtime.settings.trust.ed25519_keys = True  # LANDFLOW_ED25519_KEYS=1
    lf.runtime.complete(officer(lf, "chair.w1"), dossier["item"].id, {}, signature=sig)


def test_only_a_certificate_is_registered_never_a_key(lf: Landflow, pki: Pki) -> None:
    from engine.certificates import SignatureProblem, read_bundle

    chair = pki.officer("chair.w1")
    with pytest.raises(SignatureProblem) as info:
        read_bundle(chair.key_pem() + chair.pem.encode())
    assert info.value.code == "certificate_only"
    with pytest.raises(SignatureProblem) as info:
        read_bundle(b"hello")
    assert info.value.code == "bad_certificate"
    from cryptography.hazmat.primitives import serialization
    der = chair.cert.public_bytes(serialization.Encoding.DER)
    assert read_bundle(der) == chair.pem
    with lf.db.read() as s:
        assert s.scalar(select(WorkItemRow.id).limit(1)) is None
