"""Proof bundles: a paper's SHA-256 in its dossier's chain, the chain's head under a signed checkpoint (RFC 6962
inclusion proof), checked offline; and the checkpoint key rotated over the years."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import text

from engine.bootstrap import Landflow
from engine.checkpoints import (
    create_checkpoint,
    ensure_key,
    merkle_root,
    rotate_key,
    verify_checkpoints,
    verifying_ring,
)
from engine.clock import FixedClock
from engine.keyhistory import KeyHistory, KeyHistoryProblem, history_path, ring_from_text
from engine.papers.documents import Upload, add_document
from engine.proofcheck import KeyRing, audit_path, check_bundle, leaf_hash, root_from_path, tree_hash
from engine.proofs import proof_bundle
from engine.signatures import public_key_text, read_private_key
from tests.conftest import officer
from tests.support.tamper import rewrite_chain

PDF = b"%PDF-1.4\n% a result, as the desk scanned it\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def test_the_checkpoint_tree_is_rfc_6962_and_every_audit_path_leads_to_its_root() -> None:
    for n in range(1, 34):
        leaves = [(i * 3 + 1, i + 2, hashlib.sha256(str(i).encode()).hexdigest()) for i in range(n)]
        hashes = [leaf_hash(*leaf) for leaf in leaves]
        root = tree_hash(hashes)
        assert root.hex() == merkle_root(leaves)  # the tree checkpoints have always signed
        for i in range(n):
            path = audit_path(hashes, i)
            assert root_from_path(hashes[i], i, n, path) == root
            if n > 1:  # another leaf, index or size does not lead there
                assert root_from_path(hashes[(i + 1) % n], i, n, path) != root
                assert root_from_path(hashes[i], (i + 1) % n, n, path) != root


@pytest.fixture
def key_path(tmp_path: Path) -> Path:
    path = tmp_path / "keys" / "checkpoint.pem"
    ensure_key(path)
    return path


def paper(lf: Landflow, data: bytes = PDF) -> tuple[int, str, int]:
    """A dossier with a result file added (`document_added`), and two others around it: (dossier, sha256 of the
    file, the dossier's open work item)."""
    rt, desk = lf.runtime, officer(lf, "desk.w1")
    states = [rt.open(desk, "small_test", "W1", {"name": name}) for name in ("A", "B", "C")]
    upload = Upload.of(data, "result.pdf", 10_000_000)
    add_document(rt, desk, states[1].id, upload, lf.blobs, kind="result")
    item = states[1].items[1].id
    assert item is not None
    return states[1].id, upload.sha256, item


def test_a_paper_proves_offline_and_a_changed_byte_does_not(small: Landflow, key_path: Path,
                                                           clock: FixedClock) -> None:
    lf = small
    did, sha, item = paper(lf)
    with lf.db.read() as s:  # before any checkpoint: in the chain, not yet covered
        pending = proof_bundle(s, sha)
    assert pending is not None and pending["checkpoint"] is None
    ring = KeyRing.of(public_key_text(read_private_key(key_path).public_key()))
    assert check_bundle(pending, ring, sha).where == "pending"

    create_checkpoint(lf.db, read_private_key(key_path), clock.now())
    clock.advance(minutes=5)
    rt, desk = lf.runtime, officer(lf, "desk.w1")
    rt.complete(desk, item, {"complete": True})  # the chain grows after the checkpoint
    with lf.db.read() as s:
        bundle = proof_bundle(s, sha)
        assert proof_bundle(s, "0" * 64) is None and proof_bundle(s, "not a hash") is None
    assert bundle is not None and bundle["checkpoint"]["id"] == 1 and bundle["tree_size"] == 3
    assert [e["s"] for e in bundle["events"]] == [2]  # the paper's event is the signed head
    report = check_bundle(json.loads(json.dumps(bundle)), ring, hashlib.sha256(PDF).hexdigest())
    assert report.ok, report.problem
    assert any("Merkle root" in s for s in report.steps) and any("Ed25519" in s for s in report.steps)

    changed = bytearray(PDF)
    changed[12] ^= 1
    bad = check_bundle(bundle, ring, hashlib.sha256(bytes(changed)).hexdigest())
    assert not bad.ok and bad.where == "file"
    ensure_key(key_path.with_name("other.pem"))
    other = KeyRing.of(public_key_text(read_private_key(key_path.with_name("other.pem")).public_key()))
    wrong_key = check_bundle(bundle, other, sha)
    assert wrong_key.where == "signature" and "unknown key" in (wrong_key.problem or "")


def test_a_chain_rewritten_after_the_checkpoint_no_longer_proves_and_the_report_says_where(
        small: Landflow, key_path: Path, clock: FixedClock) -> None:
    lf = small
    did, sha, _item = paper(lf)
    create_checkpoint(lf.db, read_private_key(key_path), clock.now())
    ring = KeyRing.of(public_key_text(read_private_key(key_path).public_key()))
    # the insider changes the applicant's name and recomputes every hash: the chain alone is consistent
    rewrite_chain(lf.db, did, lambda seq, etype, p: {**p, "data": {"name": "Z"}} if etype == "opened" else p)
    with lf.db.read() as s:
        bundle = proof_bundle(s, sha)
    assert bundle is not None
    report = check_bundle(bundle, ring, sha)
    assert not report.ok and report.where == "chain"
    assert f"dossier {did}" in (report.problem or "") and "changed after checkpoint 1" in (report.problem or "")

    # ... and also makes the stored head agree: the audit path no longer leads to the signed root
    with lf.db.engine.begin() as c:
        head: str = c.execute(text("SELECT head_hash FROM dossier WHERE id = :d"), {"d": did}).scalar_one()
        c.execute(text("UPDATE checkpoint_head SET head_hash = :h WHERE dossier_id = :d"), {"h": head, "d": did})
    with lf.db.read() as s:
        bundle = proof_bundle(s, sha)
    assert bundle is not None
    report = check_bundle(bundle, ring, sha)
    assert not report.ok and report.where == "merkle" and "checkpoint 1" in (report.problem or "")


def test_after_a_rotation_old_checkpoints_verify_and_a_stray_key_is_located(small: Landflow, key_path: Path,
                                                                            clock: FixedClock) -> None:
    lf = small
    _did, sha, _item = paper(lf)
    old = read_private_key(key_path)
    create_checkpoint(lf.db, old, clock.now())
    with lf.db.read() as s:
        before = proof_bundle(s, sha)
    clock.advance(hours=1)
    old_id, new_id, retired = rotate_key(key_path, clock.now())
    assert retired.exists() and old_id != new_id
    new = read_private_key(key_path)
    assert public_key_text(new.public_key()) != public_key_text(old.public_key())
    history = KeyHistory.load(history_path(key_path))
    assert [e["key_id"] for e in history.entries] == [old_id, new_id]
    clock.advance(hours=1)
    lf.runtime.open(officer(lf, "desk.w1"), "small_test", "W1", {"name": "D"})
    create_checkpoint(lf.db, new, clock.now())
    ring = verifying_ring(key_path)
    with lf.db.read() as s:
        assert verify_checkpoints(s, ring).ok  # the old key's checkpoint and the new one's
        # the published key alone is now the new one: the old checkpoint is located, not lost
        alone = verify_checkpoints(s, public_key_text(new.public_key()))
    assert [p["checkpoint"] for p in alone.problems] == [1] and "unknown key" in alone.problems[0]["message"]
    assert before is not None and check_bundle(before, ring, sha).ok  # an old slip's proof still holds
    assert check_bundle(before, ring_from_text(history.text()), sha).ok

    # the retired key signs a checkpoint after it was handed over: located, named as out of its time
    clock.advance(hours=1)
    create_checkpoint(lf.db, old, clock.now())
    with lf.db.read() as s:
        report = verify_checkpoints(s, verifying_ring(key_path))
    assert [p["checkpoint"] for p in report.problems] == [3]
    assert "outside the time its key" in report.problems[0]["message"]


def test_a_key_history_that_was_tampered_with_is_refused_naming_the_entry(key_path: Path,
                                                                         clock: FixedClock) -> None:
    rotate_key(key_path, clock.now())
    clock.advance(days=1)
    rotate_key(key_path, clock.now())
    text_ = history_path(key_path).read_text(encoding="utf-8")
    assert len(KeyHistory.parse(text_).entries) == 3
    data = json.loads(text_)
    stranger = key_path.with_name("stranger.pem")
    ensure_key(stranger)
    data["keys"][2]["public"] = public_key_text(read_private_key(stranger).public_key())
    with pytest.raises(KeyHistoryProblem, match="entry 3"):
        KeyHistory.parse(json.dumps(data))
    data = json.loads(text_)
    data["keys"][1]["valid_from"] = "2020-01-01T00:00:00.000000Z"  # moved back in time: its signatures break
    with pytest.raises(KeyHistoryProblem, match="entry 2"):
        KeyHistory.parse(json.dumps(data))
