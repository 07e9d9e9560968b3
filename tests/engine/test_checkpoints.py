"""Signed checkpoints catch what the per-dossier chain check cannot: a chain rewritten consistently."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from engine.bootstrap import Landflow
from engine.checkpoints import create_checkpoint, ensure_key, merkle_root, verify_checkpoints
from engine.clock import FixedClock
from engine.history import verify
from engine.integrity import verify_everything
from engine.runtime import CommandRefused
from engine.signatures import key_id, public_key_text, read_private_key
from engine.store import CaseEventRow, CheckpointRow
from tests.conftest import officer
from tests.support.tamper import rewrite_chain


@pytest.fixture
def key_path(tmp_path: Path) -> Path:
    path = tmp_path / "keys" / "checkpoint.pem"
    assert ensure_key(path) and not ensure_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    return path


def history(lf: Landflow) -> list[int]:
    """Three dossiers; on the second, the wrong officer tries to complete the verify step."""
    rt, desk = lf.runtime, officer(lf, "desk.w1")
    ids = []
    for name in ("A", "B", "C"):
        st = rt.open(desk, "small_test", "W1", {"name": name})
        rt.complete(desk, st.items[1].id, {"complete": True})
        ids.append(st.id)
    with lf.db.read() as s:
        verify_item = s.execute(text("SELECT id FROM work_item WHERE dossier_id = :d AND step = 'verify'"),
                                {"d": ids[1]}).scalar_one()
    with pytest.raises(CommandRefused):
        rt.complete(officer(lf, "land.c2"), verify_item, {"eligible": True, "area": 1})
    return ids


def erase_last_event(lf: Landflow, did: int) -> None:
    """The insider erases the refused attempt (the dossier's last event) and its signal, then rebuilds
    the chain so that it is consistent again."""
    with lf.db.engine.begin() as c:
        last = c.execute(text("SELECT max(seq) FROM case_event WHERE dossier_id = :d"), {"d": did}).scalar_one()
        kind = c.execute(text("SELECT type FROM case_event WHERE dossier_id = :d AND seq = :s"),
                         {"d": did, "s": last}).scalar_one()
        assert kind == "action_refused"
        c.execute(text("DELETE FROM case_event WHERE dossier_id = :d AND seq = :s"), {"d": did, "s": last})
        c.execute(text("DELETE FROM signal WHERE dossier_id = :d AND seq = :s"), {"d": did, "s": last})
        c.execute(text("UPDATE dossier SET last_seq = :s WHERE id = :d"), {"d": did, "s": last - 1})
    rewrite_chain(lf.db, did, lambda seq, etype, payload: payload)


def test_a_consistent_rewrite_passes_the_chain_check_but_not_the_checkpoint(small: Landflow, key_path: Path,
                                                                            clock: FixedClock) -> None:
    lf = small
    ids = history(lf)
    key = read_private_key(key_path)
    first = create_checkpoint(lf.db, key, clock.now())
    clock.advance(hours=1)
    lf.runtime.claim(officer(lf, "land.w1"), _open_item(lf, ids[2]))
    second = create_checkpoint(lf.db, key, clock.now())
    public = public_key_text(key.public_key())
    with lf.db.read() as s:
        report = verify_checkpoints(s, public)
        assert report.ok and report.checked == 2
        # the second checkpoint stores only the dossier that moved; the root still covers all three
        heads = s.execute(text("SELECT checkpoint_id, dossier_id FROM checkpoint_head ORDER BY 1, 2")).all()
        assert [tuple(h) for h in heads] == [(first.id, ids[0]), (first.id, ids[1]), (first.id, ids[2]),
                                             (second.id, ids[2])]
        rows = s.execute(text("SELECT id, last_seq, head_hash FROM dossier ORDER BY id")).all()
        assert json.loads(s.get(CheckpointRow, second.id).record)["root"] == merkle_root(  # type: ignore[union-attr]
            [(r[0], r[1], r[2]) for r in rows])

    erase_last_event(lf, ids[1])

    with lf.db.read() as s:
        result = verify(s, lf.procedures, ids[1])
        assert result.ok, result.problems  # the chain and the replay are consistent again
        report = verify_checkpoints(s, public)
    assert not report.ok
    assert {p.get("dossier") for p in report.problems} == {ids[1], None}
    assert f"dossier {ids[1]}" in report.problems[0]["message"] and report.problems[0]["checkpoint"] == first.id
    # the erased event also shows in the signed event counts
    assert [p["checkpoint"] for p in report.problems if "dossier" not in p] == [second.id]
    full = verify_everything(lf.db, lf.procedures, key_path)
    assert full.first is not None and full.first["layer"] == "checkpoint" and full.first["dossier"] == ids[1]
    assert [f["layer"] for f in full.findings] == ["checkpoint"] * 2


def test_forged_leaves_a_deleted_checkpoint_or_another_key_are_caught(small: Landflow, key_path: Path,
                                                                     clock: FixedClock, tmp_path: Path) -> None:
    lf = small
    ids = history(lf)
    key = read_private_key(key_path)
    for _ in range(3):
        create_checkpoint(lf.db, key, clock.now())
        clock.advance(minutes=30)
    public = public_key_text(key.public_key())
    other = tmp_path / "other.pem"
    ensure_key(other)
    with lf.db.read() as s:
        assert verify_checkpoints(s, public).ok
        wrong = verify_checkpoints(s, public_key_text(read_private_key(other).public_key()))
    assert [p["checkpoint"] for p in wrong.problems] == [1, 2, 3]
    assert "unknown key" in wrong.problems[0]["message"]  # located: the checkpoint, the key it names
    assert key_id(public)[:16] in wrong.problems[0]["message"]

    erase_last_event(lf, ids[1])
    with lf.db.engine.begin() as c:  # ... and make the signed leaf agree with the rewritten chain
        seq, head = c.execute(text("SELECT last_seq, head_hash FROM dossier WHERE id = :d"), {"d": ids[1]}).one()
        c.execute(text("UPDATE checkpoint_head SET last_seq = :s, head_hash = :h WHERE dossier_id = :d"),
                  {"s": seq, "h": head, "d": ids[1]})
    with lf.db.read() as s:
        report = verify_checkpoints(s, public)
    assert [p["checkpoint"] for p in report.problems] == [1, 2, 3]
    assert all("do not give the signed root" in p["message"] for p in report.problems)

    with lf.db.engine.begin() as c:
        c.execute(text("DELETE FROM checkpoint WHERE id = 2"))
    with lf.db.read() as s:
        report = verify_checkpoints(s, public)
    assert any(p["checkpoint"] == 3 and "missing or was changed" in p["message"] for p in report.problems)


def _open_item(lf: Landflow, did: int) -> int:
    with lf.db.read() as s:
        return s.execute(text("SELECT id FROM work_item WHERE dossier_id = :d AND state = 'ready'"),
                         {"d": did}).scalar_one()


def test_deleting_events_is_caught_by_the_count(small: Landflow, key_path: Path, clock: FixedClock) -> None:
    lf = small
    ids = history(lf)
    create_checkpoint(lf.db, read_private_key(key_path), clock.now())
    with lf.db.engine.begin() as c:
        c.execute(text("DELETE FROM signal"))
        c.execute(text("DELETE FROM case_event WHERE dossier_id = :d"), {"d": ids[0]})
    with lf.db.read() as s:
        report = verify_checkpoints(s, public_key_text(read_private_key(key_path).public_key()))
        n = s.scalar(select(CaseEventRow.id).limit(1))
    assert n is not None
    messages: list[Any] = [p["message"] for p in report.problems]
    assert any(f"dossier {ids[0]}" in m and "is missing" in m for m in messages)
    assert any("events were deleted" in m for m in messages)
