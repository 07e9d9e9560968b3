"""What-if before deploying: a made history replayed through the version in force and a candidate."""

from __future__ import annotations

import pytest

from engine.bootstrap import Landflow
from engine.clock import FixedClock
from engine.whatif import WhatIfRefused, what_if
from tests.support.whatif_history import KEY, make_history, whatif_procedure


def test_a_slow_new_step_lowers_the_on_time_rate_and_is_named_a_bottleneck(lf: Landflow,
                                                                           clock: FixedClock) -> None:
    now = make_history(lf, clock)
    report = what_if(lf, KEY, whatif_procedure(with_survey=True).to_xml(), months=6, seed=1, until=now.date())
    base, cand = report.in_force, report.candidate
    assert len(base.outcomes) == len(cand.outcomes) == 12
    assert base.on_time_rate == 1.0  # the history was all on time, and so is its replay
    assert cand.on_time_rate is not None and cand.on_time_rate < 0.5
    assert len(cand.late) >= 6 and not base.late
    assert [s.step for s in cand.bottlenecks][0] == "survey"
    assert report.new_bottlenecks == ["survey"]
    survey = cand.steps["survey"]
    assert survey.source == "limit" and survey.mean_work == lf.calendar.minutes("P3D")
    assert survey.unit == "BR1"
    # load: the branch gets the eligible dossiers (4 of 5), the version in force never sends it any
    assert sum(report.candidate.load["BR1"].values()) == 10
    assert "BR1" not in base.load
    assert report.capacity["W1"] >= 3  # desk, land officer and chairman each had one item at a time


def test_a_candidate_identical_to_the_version_in_force_gives_the_baseline_figures(lf: Landflow,
                                                                                 clock: FixedClock) -> None:
    now = make_history(lf, clock)
    report = what_if(lf, KEY, whatif_procedure().to_xml(), months=6, seed=7, until=now.date())
    base, cand = report.in_force.as_dict(), report.candidate.as_dict()
    for d in (base, cand):
        d.pop("label"), d.pop("version")
    assert base == cand
    assert report.new_bottlenecks == []


def test_the_same_seed_gives_the_same_report(lf: Landflow, clock: FixedClock) -> None:
    now = make_history(lf, clock)
    candidate = whatif_procedure(with_survey=True).to_xml()
    first = what_if(lf, KEY, candidate, months=6, seed=3, until=now.date()).as_dict()
    second = what_if(lf, KEY, candidate, months=6, seed=3, until=now.date()).as_dict()
    assert first == second


def test_a_window_that_ends_before_the_history_has_no_dossiers(lf: Landflow, clock: FixedClock) -> None:
    make_history(lf, clock, dossiers=3)
    from tests.conftest import local
    report = what_if(lf, KEY, whatif_procedure().to_xml(), months=1, until=local(2026, 1, 2, 8, 0).date())
    assert report.in_force.outcomes == [] and report.in_force.on_time_rate is None


@pytest.mark.parametrize(("bpmn", "key", "months", "code"), [
    (b"<not-bpmn/>", KEY, 6, "invalid_file"),
    (None, "other_key", 6, "other_procedure"),
    (None, KEY, 0, "invalid_months"),
    (None, KEY, 25, "invalid_months"),
])
def test_refusals(lf: Landflow, clock: FixedClock, bpmn: bytes | None, key: str, months: int, code: str) -> None:
    now = make_history(lf, clock, dossiers=1)
    with pytest.raises(WhatIfRefused) as err:
        what_if(lf, key, bpmn or whatif_procedure().to_xml(), months=months, until=now.date())
    assert err.value.code == code


def test_the_working_axis_agrees_with_the_calendar(lf: Landflow) -> None:
    """The simulation's cached clock gives what `add` and `between` give, across weekends and Tết 2026."""
    from datetime import timedelta

    from engine.whatif.axis import WorkingAxis
    from tests.conftest import local

    origin = local(2026, 1, 30, 0, 0)
    axis = WorkingAxis(lf.calendar, origin)
    day = lf.calendar.day_minutes
    for minute in [0, 1, 239, 240, 330, day - 1, day, day + 1, 5 * day, 12 * day + 17, 40 * day, 3 * day]:
        assert axis.instant_of(minute) == lf.calendar.add(origin, minute), minute
    instant = origin
    for _ in range(90):
        instant += timedelta(hours=13, minutes=7)
        assert axis.minute_of(instant) == lf.calendar.between(origin, instant), instant


def test_a_boundary_timer_fires_in_working_time_and_interrupts_the_step(lf: Landflow, clock: FixedClock) -> None:
    """verify took 5 working hours from its creation in the history; a 1-hour interrupting timer on it
    sends every dossier to the chairman instead (the timer fires in simulated working time)."""
    now = make_history(lf, clock)
    report = what_if(lf, KEY, whatif_procedure(escalate_after="PT1H").to_xml(), months=6, seed=1,
                     until=now.date())
    cand = report.candidate
    assert [o.problem for o in cand.outcomes] == [None] * 12
    assert cand.steps["escalate"].items == 12 and "sign" not in cand.steps and "notify" not in cand.steps
    slow = what_if(lf, KEY, whatif_procedure(escalate_after="P3D").to_xml(), months=6, seed=1, until=now.date())
    assert "escalate" not in slow.candidate.steps  # verify always ends before a 3-day timer
    assert slow.candidate.as_dict()["on_time_rate"] == report.in_force.as_dict()["on_time_rate"]


def test_a_consultation_in_the_redesign_loads_each_agency(lf: Landflow, clock: FixedClock) -> None:
    """The survey redesigned as a consultation of the branch and the tax office at once (decision 0163):
    each eligible dossier (10 of 12) gives each agency one item; the consultation is one step in the
    report, and no dossier fails for lack of an answer the history never recorded."""
    from tests.support.bpmn_builder import MultiInstance

    now = make_history(lf, clock)
    proc = whatif_procedure(with_survey=True)
    (survey,) = [n for n in proc.nodes if n.id == "survey"]
    survey.props.update(instances="registration_branch|tax_office", form="opinion:text!")
    survey.multi = MultiInstance()
    report = what_if(lf, KEY, proc.to_xml(), months=6, seed=1, until=now.date())
    cand = report.candidate
    assert [o.problem for o in cand.outcomes] == [None] * 12
    assert sum(cand.load["BR1"].values()) == sum(cand.load["TAX1"].values()) == 10
    assert cand.steps["survey"].items == 20
