"""OCSP where the CA's responder answers (engine/ocsp.py): a certificate its CA says is revoked is refused
and recorded even when the CRL does not list it yet; an answer that cannot be had or trusted (no
responder, a stranger's signature, stale) leaves the CRL to decide; answers are kept until their
nextUpdate. The responder is a real HTTP server answering RFC 6960 requests (tests/support/ocsp_responder.py)."""

from __future__ import annotations

import json
import socket
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from config.settings import Settings
from engine.bootstrap import Landflow
from engine.clock import FixedClock
from engine.history import verify
from tests.conftest import officer
from tests.engine.test_certificates import dossier, pki, refused, register, sign
from tests.engine.test_signatures import events
from tests.support.ocsp_responder import responder
from tests.support.pki import Pki, issue, new_key

__all__ = ["dossier", "pki"]  # fixtures shared with test_certificates


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """Production settings with OCSP from the responder each certificate names, and an (empty) CRL."""
    return replace(settings, ed25519_keys=False, crl=str(tmp_path / "ca.crl"), trust_roots=tmp_path / "trust",
                   ocsp="aia")


def closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/ocsp"


def last_refusal(lf: Landflow, did: int) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(events(lf, did)[-1].payload)
    return payload


def test_a_certificate_its_ca_says_is_revoked_is_refused_though_no_crl_lists_it(
        lf: Landflow, pki: Pki, dossier: dict[str, Any], clock: FixedClock) -> None:
    did, it, code = dossier["id"], dossier["item"], dossier["code"]
    with responder(pki, clock.now()) as ca:
        chair = pki.officer("chair.w1", ocsp_url=ca.url)
        ca.known[chair.cert.serial_number] = chair.cert
        ca.revoked[chair.cert.serial_number] = clock.now() - timedelta(hours=2)
        register(lf, "chair.w1", pki.bundle(chair))
        assert refused(lf, did, it, sign(lf, chair, code, it)) == "certificate_revoked"
        assert "OCSP" in last_refusal(lf, did)["message"] and ca.asked == 1
        # a certificate the responder says is good is accepted; its answer is kept until nextUpdate
        good = pki.officer("chair.w1", ocsp_url=ca.url)
        ca.known[good.cert.serial_number] = good.cert
        register(lf, "chair.w1", pki.bundle(good))
        lf.runtime.complete(officer(lf, "chair.w1"), it.id, {}, signature=sign(lf, good, code, it))
        assert ca.asked == 2
        lf.runtime.settings.trust.prefetch_ocsp(pki.bundle(good), clock.now() + timedelta(hours=3))
        assert ca.asked == 2  # still fresh: not asked again
        lf.runtime.settings.trust.prefetch_ocsp(pki.bundle(good), clock.now() + timedelta(hours=5))
        assert ca.asked == 3  # past nextUpdate (4 h): asked again
    with lf.db.read() as s:
        assert verify(s, lf.procedures, did).ok


def test_answers_that_cannot_be_had_or_trusted_leave_the_crl_to_decide(
        lf: Landflow, pki: Pki, dossier: dict[str, Any], clock: FixedClock, tmp_path: Path) -> None:
    did, it, code = dossier["id"], dossier["item"], dossier["code"]
    with responder(pki, clock.now()) as ca:
        # no responder listening: the CRL, which lists the certificate, decides
        unreachable = pki.officer("chair.w1", ocsp_url=closed_port())
        register(lf, "chair.w1", pki.bundle(unreachable))
        (tmp_path / "ca.crl").write_bytes(pki.crl([unreachable.cert], clock.now()))
        assert refused(lf, did, it, sign(lf, unreachable, code, it)) == "certificate_revoked"
        assert "OCSP" not in last_refusal(lf, did)["message"]
        (tmp_path / "ca.crl").write_bytes(pki.crl([], clock.now()))
        # a responder certificate the CA made for OCSP signing is believed
        ca.signer = issue("OCSP responder", new_key(), pki.intermediate, ca=False, start=pki.start, usage="ocsp")
        delegated = pki.officer("chair.w1", ocsp_url=ca.url)
        ca.known[delegated.cert.serial_number] = delegated.cert
        ca.revoked[delegated.cert.serial_number] = clock.now() - timedelta(hours=1)
        register(lf, "chair.w1", pki.bundle(delegated))
        assert refused(lf, did, it, sign(lf, delegated, code, it)) == "certificate_revoked"
        assert "OCSP" in last_refusal(lf, did)["message"]
        # "revoked" signed by a stranger's key, then a stale "revoked": neither is believed
        for untrusted in ("stranger", "stale"):
            ca.signer = Pki(pki.start).intermediate if untrusted == "stranger" else None
            ca.this_update_shift = -timedelta(days=1) if untrusted == "stale" else timedelta(0)
            cert = pki.officer("chair.w1", ocsp_url=ca.url)
            ca.known[cert.cert.serial_number] = cert.cert
            ca.revoked[cert.cert.serial_number] = clock.now() - timedelta(days=3)
            register(lf, "chair.w1", pki.bundle(cert))
            lf.runtime.settings.trust.prefetch_ocsp(pki.bundle(cert), clock.now())
            chain = [cert.cert, pki.intermediate.cert]
            assert lf.runtime.settings.trust.ocsp_answer(chain[0], chain[1], clock.now()) is None, untrusted
        assert ca.asked == 3
        # the last "revoked" that was not believed (stale) is accepted: the CRL does not list it
        lf.runtime.complete(officer(lf, "chair.w1"), it.id, {}, signature=sign(lf, cert, code, it))


def test_one_configured_responder_answers_for_certificates_that_name_none(
        lf: Landflow, pki: Pki, dossier: dict[str, Any], clock: FixedClock) -> None:
    did, it, code = dossier["id"], dossier["item"], dossier["code"]
    chair = pki.officer("chair.w1")  # no Authority Information Access
    register(lf, "chair.w1", pki.bundle(chair))
    with responder(pki, clock.now()) as ca:
        ca.known[chair.cert.serial_number] = chair.cert
        ca.known[pki.intermediate.cert.serial_number] = pki.intermediate.cert
        ca.revoked[chair.cert.serial_number] = clock.now() - timedelta(hours=1)
        lf.runtime.settings.trust.ocsp = ca.url
        assert refused(lf, did, it, sign(lf, chair, code, it)) == "certificate_revoked"
        assert ca.asked == 2  # the officer's certificate and the intermediate, each of its issuer
        lf.runtime.settings.trust.ocsp = ""  # without OCSP the same signature passes (the CRL is empty)
        lf.runtime.complete(officer(lf, "chair.w1"), it.id, {}, signature=sign(lf, chair, code, it))
