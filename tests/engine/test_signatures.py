"""Signed decisions: a signing step needs its officer's own valid signature; refusals are recorded;
`verify` re-checks every recorded signature."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from api.problems import status_of
from engine.bootstrap import Landflow
from engine.clock import FixedClock
from engine.history import verify
from engine.runtime import CommandRefused
from engine.signatures import public_key_text, register_key, sign_decision
from engine.store import CaseEventRow, DossierRow, SignalRow, WorkItemRow
from tests.conftest import officer
from tests.support.bpmn_builder import small_procedure
from tests.support.tamper import rewrite_chain


@pytest.fixture
def signing(lf: Landflow, clock: FixedClock) -> dict[str, Any]:
    """The small procedure with `sign` marked signed; a dossier waiting at `sign`; keys for two officers."""
    proc = small_procedure()
    next(n for n in proc.nodes if n.id == "sign").props["signed"] = "true"
    lf.runtime.deploy(officer(lf, "supervisor"), proc.to_xml())
    keys = {u: Ed25519PrivateKey.generate() for u in ("chair.w1", "land.w1")}
    with lf.db.write() as s:
        for u, k in keys.items():
            register_key(s, u, public_key_text(k.public_key()), "admin", clock.now())
    lf.directory.refresh()
    rt = lf.runtime
    st = rt.open(officer(lf, "desk.w1"), "small_test", "W1", {"name": "A"})
    rt.complete(officer(lf, "desk.w1"), st.items[1].id, {"complete": True})
    rt.complete(officer(lf, "land.w1"), item(lf, st.id, "verify").id, {"eligible": True, "area": 120})
    rt.complete(officer(lf, "land.w1"), item(lf, st.id, "post").id, {})
    sign = item(lf, st.id, "sign")
    return {"lf": lf, "dossier": st.id, "code": st.code, "item": sign, "keys": keys}


def item(lf: Landflow, did: int, step: str) -> WorkItemRow:
    with lf.db.read() as s:
        row = s.scalar(select(WorkItemRow).where(WorkItemRow.dossier_id == did, WorkItemRow.step == step,
                                                 WorkItemRow.state.in_(("ready", "claimed"))))
    assert row is not None
    return row


def events(lf: Landflow, did: int) -> list[CaseEventRow]:
    with lf.db.read() as s:
        return list(s.scalars(select(CaseEventRow).where(CaseEventRow.dossier_id == did).order_by(CaseEventRow.seq)))


def signature(w: dict[str, Any], signer: str, officer_name: str = "chair.w1", data: dict[str, Any] | None = None,
              age: timedelta = timedelta(seconds=5)) -> dict[str, str]:
    lf: Landflow = w["lf"]
    return sign_decision(w["keys"][signer], w["code"], "sign", w["item"].ordinal, data or {}, officer_name,
                         lf.clock.now() - age).as_dict()


@pytest.mark.parametrize("case,code,status", [
    ("missing", "signature_required", 422),
    ("other_officers_key", "bad_signature", 403),
    ("other_document", "bad_signature", 403),
    ("expired", "signature_expired", 403),
    ("garbage", "bad_signature", 403),
])
def test_a_signing_step_without_a_valid_signature_is_refused_and_recorded(signing: dict[str, Any], case: str,
                                                                          code: str, status: int) -> None:
    lf, did = signing["lf"], signing["dossier"]
    sig = {
        "missing": None,
        # land.w1 signs the chairman's decision document with their own key
        "other_officers_key": signature(signing, "land.w1"),
        # a valid signature by the chairman, but over another dossier's decision
        "other_document": {**sign_decision(signing["keys"]["chair.w1"], "OTHER-CODE", "sign", signing["item"].ordinal,
                                           {}, "chair.w1", lf.clock.now()).as_dict()},
        "expired": signature(signing, "chair.w1", age=timedelta(hours=2)),
        "garbage": {"signed_at": "yesterday", "value": "!!"},
    }[case]
    before = len(events(lf, did))
    with pytest.raises(CommandRefused) as info:
        lf.runtime.complete(officer(lf, "chair.w1"), signing["item"].id, {}, signature=sig)
    assert (info.value.code, status_of(info.value)) == (code, status)
    evs = events(lf, did)
    assert len(evs) == before + 1 and evs[-1].type == "action_refused" and evs[-1].actor == "chair.w1"
    assert json.loads(evs[-1].payload)["code"] == code
    assert item(lf, did, "sign").state == "ready"
    with lf.db.read() as s:
        # signing with another key or over another document is acting as someone else; a missing or expired
        # signature is a refusal, not misconduct (docs/decisions/0050-refusal-categories.md)
        assert [x.kind for x in s.scalars(select(SignalRow).where(SignalRow.dossier_id == did))] == \
            (["unauthorised_attempt"] if code == "bad_signature" else [])


def test_a_valid_signature_is_recorded_and_verify_rechecks_it(signing: dict[str, Any]) -> None:
    lf, did = signing["lf"], signing["dossier"]
    sig = signature(signing, "chair.w1")
    lf.runtime.complete(officer(lf, "chair.w1"), signing["item"].id, {}, signature=sig)
    done = [e for e in events(lf, did) if e.type == "completed" and e.step == "sign"]
    recorded = json.loads(done[0].payload)["signature"]
    assert recorded["value"] == sig["value"] and recorded["signed_at"] == sig["signed_at"]
    assert recorded["key"] == public_key_text(signing["keys"]["chair.w1"].public_key())
    # the chairman rotates keys: the old decision still verifies (the old key was registered)
    with lf.db.write() as s:
        register_key(s, "chair.w1", public_key_text(Ed25519PrivateKey.generate().public_key()), "admin",
                     lf.clock.now())
    with lf.db.read() as s:
        assert verify(s, lf.procedures, did).ok
    # an insider swaps the signature for the land officer's and rebuilds the chain consistently
    forged = signature(signing, "land.w1")

    def edit(seq: int, etype: str, payload: dict[str, Any]) -> dict[str, Any]:
        if etype == "completed" and "signature" in payload:
            payload["signature"] = {**forged, "key": public_key_text(signing["keys"]["land.w1"].public_key())}
        return payload

    rewrite_chain(lf.db, did, edit)
    with lf.db.read() as s:
        result = verify(s, lf.procedures, did)
        assert result.chain_ok and not result.replay_ok
        assert any("signing key was never registered for chair.w1" in p for p in result.problems)
        d = s.get(DossierRow, did)
        assert d is not None


def test_a_step_not_marked_signed_needs_no_signature(signing: dict[str, Any]) -> None:
    lf = signing["lf"]
    st = lf.runtime.open(officer(lf, "desk.w1"), "small_test", "W1", {"name": "B"})
    lf.runtime.complete(officer(lf, "desk.w1"), st.items[1].id, {"complete": True})
    assert item(lf, st.id, "verify").step == "verify"


def test_demo_keys_are_made_once_registered_and_kept_private(lf: Landflow, tmp_path: Any) -> None:
    from engine.signatures import officer_key

    first = officer_key(lf.db, tmp_path / "officers", "chair.w1", lf.clock.now())
    again = officer_key(lf.db, tmp_path / "officers", "chair.w1", lf.clock.now())
    assert public_key_text(first.public_key()) == public_key_text(again.public_key())
    assert oct((tmp_path / "officers" / "chair.w1.pem").stat().st_mode & 0o777) == "0o600"
    lf.directory.refresh()
    assert officer(lf, "chair.w1").public_key == public_key_text(first.public_key())


def test_a_signed_refusal_needs_its_reason_before_a_document_is_prepared(lf: Landflow) -> None:
    """A refusing choice of a signed step: no document to sign without the reason (the same refusal as
    `complete`, recorded), and the document holds the reason when given."""
    proc = small_procedure()
    next(n for n in proc.nodes if n.id == "verify").props["signed"] = "true"
    lf.runtime.deploy(officer(lf, "supervisor"), proc.to_xml())
    rt = lf.runtime
    st = rt.open(officer(lf, "desk.w1"), "small_test", "W1", {"name": "A"})
    rt.complete(officer(lf, "desk.w1"), st.items[1].id, {"complete": True})
    verify_item = item(lf, st.id, "verify")
    for blank in ({}, {"note": "   "}):
        with pytest.raises(CommandRefused) as err:
            rt.prepare_decision(officer(lf, "land.w1"), verify_item.id, {"eligible": False, "area": 5, **blank})
        assert (err.value.kind, err.value.code) == ("invalid", "missing_reason")
    refused = [json.loads(e.payload) for e in events(lf, st.id) if e.type == "action_refused"]
    assert [(r["action"], r["code"]) for r in refused] == [("prepare_decision", "missing_reason")] * 2
    draft = rt.prepare_decision(officer(lf, "land.w1"), verify_item.id, {"eligible": False, "area": 5,
                                                                          "note": "đất tranh chấp"})
    assert json.loads(draft.document)["data"]["note"] == "đất tranh chấp"
    assert rt.prepare_decision(officer(lf, "land.w1"), verify_item.id, {"eligible": True, "area": 5}).signed
