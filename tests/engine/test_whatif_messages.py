"""What-if with a message catch event (decisions 0147, 0160): a simulated dossier that waits for the tax
office's notice gets it after a wait drawn from the recorded waits of that event (working minutes from the
event that made the dossier wait to its `message_received`), with the data the recorded notice carried;
the wait pauses the clock as the event says. Before, every such dossier stopped at the wait ("stuck")."""

from __future__ import annotations

from datetime import date, datetime

from engine.bootstrap import Landflow
from engine.clock import FixedClock
from engine.whatif import what_if
from tests.conftest import local, officer
from tests.support.bpmn_builder import message_procedure
from tests.support.whatif_history import _open, working_days

DOSSIERS = 6


def history(lf: Landflow, clock: FixedClock) -> datetime:
    """Six dossiers of message_test, one a working day from Mon 05/01/2026: received 08:00, checked and
    sent to the tax office by 10:00; the notice comes two working days later at 10:00 (16 working hours);
    signed at 11:00."""
    lf.runtime.deploy(officer(lf, "supervisor"), message_procedure().to_xml())
    rt = lf.runtime
    days = working_days(lf, date(2026, 1, 5), DOSSIERS + 2)
    for n, day in enumerate(days[:DOSSIERS]):
        def at(h: int, d: date = day) -> datetime:
            return local(d.year, d.month, d.day, h)

        clock.set(at(8))
        st = rt.open(officer(lf, "desk.w1"), "message_test", "W1", {"name": f"Người nộp {n}"})
        rt.complete(officer(lf, "desk.w1"), _open(rt, st.id, "receive"), {})
        clock.set(at(9))
        rt.complete(officer(lf, "land.w1"), _open(rt, st.id, "verify"), {})
        clock.set(at(10))
        rt.complete(officer(lf, "land.w1"), _open(rt, st.id, "send_form19"), {})
        later = days[n + 2]
        clock.set(local(later.year, later.month, later.day, 10))
        rt.deliver_message(officer(lf, "tax.1"), st.code, "tax_notice", {"amount": 1_000_000 + n,
                                                                           "notice_no": f"TB-{n}"}, f"k-{n}")
        clock.set(local(later.year, later.month, later.day, 11))
        rt.complete(officer(lf, "chair.w1"), _open(rt, st.id, "sign"), {})
    end = local(2026, 2, 2, 8)
    clock.set(end)
    return end


def test_the_simulated_notice_comes_after_a_recorded_wait_and_the_clock_pauses(lf: Landflow,
                                                                               clock: FixedClock) -> None:
    now = history(lf, clock)
    report = what_if(lf, "message_test", message_procedure().to_xml(), months=2, seed=5, until=now.date())
    for variant in (report.in_force, report.candidate):
        assert [o.problem for o in variant.outcomes] == [None] * DOSSIERS  # none stuck at the wait
        wait = variant.steps["tax_wait"]
        assert (wait.items, wait.source) == (DOSSIERS, "observed")
        assert wait.mean_wait == 2 * lf.calendar.day_minutes  # every recorded notice came 2 working days later
        # 1 + 2 + 1 + 1 working days of limit, the wait excluded: all on time, as recorded
        assert variant.on_time_rate == 1.0
    # a limit of 2 working days: with the wait excluded every dossier is still on time (about 3 working
    # hours of steps); with the wait counted (clock "run") the two days of waiting make every one late
    for clock_while_waiting, rate in (("paused", 1.0), ("run", 0.0)):
        tight = message_procedure()
        tight.props["sla"] = "P2D"
        next(n for n in tight.nodes if n.id == "tax_wait").props["clock"] = clock_while_waiting
        cand = what_if(lf, "message_test", tight.to_xml(), months=2, seed=5, until=now.date()).candidate
        assert cand.steps["tax_wait"].items == DOSSIERS
        assert cand.on_time_rate == rate, clock_while_waiting
