"""Decision 766 publicity (group 1), what landflow can know: receipts issued, delays announced with an apology,
papers a signed checkpoint covers (provable by anyone)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.bootstrap import Landflow
from engine.checkpoints import create_checkpoint, ensure_key
from engine.clock import FixedClock
from engine.papers.documents import Upload, add_document, record_slip
from engine.publicity import publicity
from engine.signatures import read_private_key
from tests.conftest import local, officer
from tests.engine.test_digitisation import pdf


def test_publicity_counts_receipts_announced_delays_and_verifiable_papers(small: Landflow, clock: FixedClock,
                                                                        tmp_path: Path) -> None:
    rt, desk = small.runtime, officer(small, "desk.w1")
    ids = [rt.open(desk, "small_test", "W1", {"name": f"A{n}"}, {}).id for n in range(4)]
    for did in ids[:3]:  # three of four got their receipt
        record_slip(rt, desk, did, "receipt", 1, f"{did}/TNHS", pdf(f"receipt {did}"), small.blobs)
    add_document(rt, desk, ids[0], Upload.of(pdf("GCN"), "gcn.pdf", 10**6), small.blobs, kind="result")
    add_document(rt, desk, ids[0], Upload.of(pdf("scan"), "don.pdf", 10**6), small.blobs)  # received: not counted
    key = tmp_path / "checkpoint.pem"
    ensure_key(key)
    create_checkpoint(small.db, read_private_key(key), clock.now())
    record_slip(rt, desk, ids[3], "receipt", 1, f"{ids[3]}/TNHS", pdf("late receipt"), small.blobs)  # not yet signed
    clock.set(local(2026, 2, 10, 9, 0))  # one working day before the appointment: ids[1] is told the new date
    rt.apologise(desk, ids[1], "quá tải hồ sơ", local(2026, 2, 24, 9, 0))
    clock.set(local(2026, 2, 12, 9, 0))  # the others are now late, told nothing
    with small.db.read() as s:
        w1, total = publicity(s, local(2026, 1, 1), local(2027, 1, 1), clock.now())
    assert (w1.key, w1.dossiers, w1.receipts) == ("W1", 4, 4)
    assert w1.receipt_rate == 1.0
    assert (w1.delayed, w1.announced) == (4, 1) and w1.announced_rate == pytest.approx(0.25)
    assert (w1.papers, w1.verifiable) == (5, 4) and w1.verifiable_rate == pytest.approx(0.8)
    assert total.key == "all" and total.as_dict()["papers"] == 5
    with small.db.read() as s:  # a period with nothing received: no rates, no division by zero
        empty = publicity(s, local(2025, 1, 1), local(2025, 2, 1), clock.now())
    assert [r.key for r in empty] == ["all"] and empty[0].receipt_rate is None
