"""Decision 766 group 4 (digitisation) counted from the papers held: scans at reception, electronic results."""

from __future__ import annotations

import pytest

from engine.bootstrap import Landflow
from engine.digitisation import digitisation
from engine.papers.documents import Upload, add_document
from tests.conftest import local, officer
from tests.engine.test_commands import items
from tests.support.files import pdf


def run_to_end(lf: Landflow, did: int, result_scan: bool) -> None:
    steps = {"receive": ("desk.w1", {"complete": True}), "verify": ("land.w1", {"eligible": True, "area": 80}),
             "post": ("land.w1", {}), "sign": ("chair.w1", {}), "handover": ("desk.w1", {})}
    while True:
        open_ = [i for i in items(lf, did) if i.state in ("ready", "claimed")]
        if not open_:
            return
        who, data = steps[open_[0].step]
        if open_[0].step == "handover" and result_scan:
            add_document(lf.runtime, officer(lf, "desk.w1"), did, Upload.of(pdf("GCN"), "gcn.pdf", 10**6), lf.blobs,
                         kind="result")
        lf.runtime.complete(officer(lf, who), open_[0].id, data)


def test_digitisation_indicators_follow_the_papers_held(small: Landflow) -> None:
    desk = officer(small, "desk.w1")
    ids = [small.runtime.open(desk, "small_test", "W1", {"name": f"A{n}"}, {}).id for n in range(4)]
    for did in ids[:3]:  # three of four scanned at reception
        add_document(small.runtime, desk, did, Upload.of(pdf(), "don.pdf", 10**6), small.blobs)
    run_to_end(small, ids[0], result_scan=True)   # finished with an electronic result
    run_to_end(small, ids[1], result_scan=False)  # finished, result on paper only
    with small.db.read() as s:
        (w1, total) = digitisation(s, local(2026, 1, 1), local(2027, 1, 1))
    assert w1.key == "W1" and total.key == "all"
    r41, r42 = w1.indicators
    assert (r41.numerator, r41.denominator) == (1, 2)
    assert r41.points == 3.0                                  # 50% of 6, no threshold
    # digitised: scanned and, when finished, with an electronic result: ids[0] and ids[2] of 4
    assert (r42.numerator, r42.denominator) == (2, 4)
    assert r42.points == pytest.approx(0.5 * 4 / 0.8)
    assert w1.points == pytest.approx(3.0 + 2.5)
