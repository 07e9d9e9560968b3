"""Decision 766 satisfaction (group 5) from the applicants' ratings: counted per desk, 5.4 from lateness
and dissatisfaction, one rating a dossier."""

from __future__ import annotations

import pytest

from engine.bootstrap import Landflow
from engine.ratings import RatingRefused, rate
from engine.runtime import CommandRefused
from engine.satisfaction import satisfaction
from tests.conftest import local, officer
from tests.engine.test_digitisation import run_to_end


def test_ratings_feed_the_satisfaction_indicators(small: Landflow) -> None:
    desk = officer(small, "desk.w1")
    ids = [small.runtime.open(desk, "small_test", "W1", {"name": f"A{n}"}, {}).id for n in range(4)]
    for did in ids[:3]:
        run_to_end(small, did, result_scan=False)
    rate(small.runtime, ids[0], "W1", "very_satisfied", None)
    rate(small.runtime, ids[1], "W1", "not_satisfied", "Phải đi lại nhiều lần")
    with pytest.raises(CommandRefused) as once:  # once a dossier
        rate(small.runtime, ids[0], "W1", "satisfied", None)
    assert once.value.code == "already_rated"
    with pytest.raises(CommandRefused) as open_one:  # only after the hand-back
        rate(small.runtime, ids[3], "W1", "satisfied", None)
    assert open_one.value.code == "not_handed_back"
    with pytest.raises(RatingRefused):
        rate(small.runtime, ids[2], "W1", "not_satisfied", "  ")
    with small.db.read() as s:
        w1, total = satisfaction(s, local(2026, 1, 1), local(2027, 1, 1), small.clock.now())
    assert (w1.key, w1.dossiers, w1.very_satisfied, w1.satisfied, w1.not_satisfied) == ("W1", 4, 1, 0, 1)
    assert w1.satisfied_rate == 0.5 and total.rated == 2
    # 5.4 = 100% - (late + not satisfied) / dossiers; nothing is late on this fixed clock
    assert w1.late == 0 and w1.index_54 == pytest.approx(0.75)
    assert w1.points == pytest.approx(0.75 * 6 / 0.9, abs=0.01)
