"""What a restored database holds, by the signed checkpoints (engine/backup): the copies written outside
the database, the last checkpoint covered, the events no checkpoint covers, and the signed events a
restored copy lacks, named dossier by dossier; copies that are forged, out of order or incomplete are
not believed."""

from __future__ import annotations

import dataclasses
import gzip
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.backup.copies import copy_name, read_copies, write_copies
from engine.backup.coverage import Coverage, coverage
from engine.backup.sqlite import backup_sqlite, restore_sqlite
from engine.bootstrap import Landflow, build
from engine.checkpoints import create_checkpoint, ensure_key, load_verifying_key
from engine.clock import FixedClock
from engine.runtime.state import DossierState
from engine.signatures import read_private_key
from engine.store import DossierRow
from tests.conftest import officer

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # a file to copy


def receive(lf: Landflow, name: str) -> DossierState:
    return lf.runtime.open(officer(lf, "desk.w1"), "small_test", "W1", {"name": name})


def step(lf: Landflow, st: DossierState) -> None:
    """One more event on a just-received dossier: the desk completes its first step."""
    item = st.items[1].id
    assert item is not None
    lf.runtime.complete(officer(lf, "desk.w1"), item, {"complete": True})


def checkpoint(lf: Landflow, key: Path, copies: Path) -> int:
    number = create_checkpoint(lf.db, read_private_key(key), lf.clock.now()).id
    write_copies(lf.db, copies)
    return number


def report(lf: Landflow, key: Path, copies: Path | None) -> Coverage:
    with lf.db.read() as s:
        return coverage(s, load_verifying_key(key), copies)


@pytest.fixture
def key(tmp_path: Path) -> Path:
    path = tmp_path / "keys" / "checkpoint.pem"
    ensure_key(path)
    return path


@SQLITE_ONLY
def test_a_restored_copy_says_what_it_holds_and_what_it_lost(small: Landflow, clock: FixedClock, key: Path,
                                                             tmp_path: Path) -> None:
    copies = tmp_path / "copies"
    sa, sb = receive(small, "A"), receive(small, "B")
    b = sb.id
    empty = report(small, key, copies)
    assert empty.last_checkpoint is None and empty.uncovered_dossiers == 2 and empty.last_copy is None
    assert empty.uncovered_events == empty.events > 0
    assert checkpoint(small, key, copies) == 1
    assert write_copies(small.db, copies) == 0  # idempotent: nothing new to write
    step(small, sa)
    after_one = report(small, key, copies)
    assert after_one.last_checkpoint is not None and after_one.last_checkpoint["id"] == 1
    assert (after_one.uncovered_events, after_one.uncovered_dossiers) == (1, 1)
    assert after_one.findings == [] and after_one.missing_dossiers == []

    db_file = Path(small.settings.database_url.removeprefix("sqlite:///"))
    backup_sqlite(db_file, tmp_path / "backup.db")  # holds checkpoint 1 and A's step, not what follows
    clock.advance(minutes=5)
    step(small, sb)
    c = receive(small, "C").id
    assert checkpoint(small, key, copies) == 2
    with small.db.read() as s:
        live = {int(d): int(q) for d, q in s.execute(select(DossierRow.id, DossierRow.last_seq))}

    restored_file = tmp_path / "restored" / "landflow.db"
    restore_sqlite(tmp_path / "backup.db", restored_file)
    restored = build(dataclasses.replace(small.settings, database_url=f"sqlite:///{restored_file}"), clock=clock)
    try:
        lost = report(restored, key, copies)
        assert lost.last_checkpoint is not None and lost.last_checkpoint["id"] == 1
        assert lost.last_copy is not None and lost.last_copy["id"] == 2
        by_dossier = {m["dossier"]: m for m in lost.missing_dossiers}
        assert set(by_dossier) == {b, c}
        assert by_dossier[b]["signed"] == live[b] and by_dossier[b]["held"] == live[b] - 1
        assert by_dossier[c]["held"] == 0 and by_dossier[c]["code"] is None
        assert lost.missing_events == 1 + live[c]
        messages = [f["message"] for f in lost.findings]
        assert any("checkpoint(s) 2 were signed" in m for m in messages)
        assert any(m.startswith(f"dossier {b} (") and f"signed {live[b]} event(s), the database holds "
                   f"{live[b] - 1}: event {live[b]} missing" in m for m in messages), messages
        assert any(f"dossier {c}: checkpoint 2" in m and "no such dossier" in m for m in messages), messages
        # the restored server takes new acts: B's lost seq now holds another event than the one signed
        clock.advance(minutes=5)
        step(restored, sb)
        again = report(restored, key, copies)
        assert any(f"dossier {b} (" in f["message"] and "different hash" in f["message"] for f in again.findings)
    finally:
        restored.close()


@SQLITE_ONLY
def test_forged_missing_or_unreadable_copies_are_not_believed(small: Landflow, key: Path, tmp_path: Path) -> None:
    copies = tmp_path / "copies"
    receive(small, "A")
    checkpoint(small, key, copies)
    receive(small, "B")
    checkpoint(small, key, copies)
    assert [c.id for c in read_copies(copies)[0]] == [1, 2]

    second = copies / copy_name(2)
    body = json.loads(gzip.decompress(second.read_bytes()))
    second.write_bytes(gzip.compress(json.dumps({**body, "key_id": "ab" * 32}).encode()))
    unknown = report(small, key, copies)
    assert [f["message"] for f in unknown.findings] == [
        f"the copy of checkpoint 2 is signed by an unknown key ({'ab' * 6}…)"]
    other = tmp_path / "other" / "checkpoint.pem"  # a key history: each copy checked with the key it names
    ensure_key(other)
    with small.db.read() as s:
        both = coverage(s, [load_verifying_key(other), load_verifying_key(key)], copies)
    assert both.findings == unknown.findings
    second.write_bytes(gzip.compress(json.dumps(body).encode()))
    with small.db.read() as s:
        assert coverage(s, [load_verifying_key(other), load_verifying_key(key)], copies).findings == []
    body["leaves"][0][1] += 5  # claims more events than were signed
    second.write_bytes(gzip.compress(json.dumps(body).encode()))
    forged = report(small, key, copies)
    assert [f["message"] for f in forged.findings] == [
        "the copy of checkpoint 2: its leaves do not give the signed root"]
    assert forged.last_copy is not None and forged.last_copy["id"] == 1 and not forged.missing_dossiers

    body["record"] = body["record"].replace('"id":2', '"id":3')  # a record edited: the signature breaks
    second.write_bytes(gzip.compress(json.dumps(body).encode()))
    assert "does not carry a valid signature" in report(small, key, copies).findings[0]["message"]

    (copies / copy_name(1)).unlink()
    gap = report(small, key, copies)
    assert gap.findings[0]["message"].startswith("the copy of checkpoint 1 is missing") and gap.last_copy is None

    (copies / copy_name(1)).write_bytes(b"not gzip")
    assert any("cannot be read" in f["message"] for f in report(small, key, copies).findings)


@SQLITE_ONLY
def test_copies_signed_before_a_key_rotation_are_still_believed(small: Landflow, key: Path, tmp_path: Path) -> None:
    """`verify --all` reads the coverage with every key in the signed key history, not only the current one:
    a copy signed by the retired key is believed, one by an unknown key is not."""
    from api.cli.dossiers import what_the_database_holds
    from engine.checkpoints import rotate_key

    copies = tmp_path / "copies"
    small.settings = dataclasses.replace(small.settings, checkpoint_key=key)
    receive(small, "A")
    checkpoint(small, key, copies)
    rotate_key(key, small.clock.now())
    receive(small, "B")
    checkpoint(small, key, copies)
    assert what_the_database_holds(small, copies).findings == []
    first = copies / copy_name(1)
    body = json.loads(gzip.decompress(first.read_bytes()))
    first.write_bytes(gzip.compress(json.dumps({**body, "key_id": "cd" * 32}).encode()))
    assert [f["message"] for f in what_the_database_holds(small, copies).findings] == [
        f"the copy of checkpoint 1 is signed by an unknown key ({'cd' * 6}…)"]
