"""Procedure incidents: a defect of the procedure met at run time is refused without blame, recorded in
the dossier's chain for supervisors, and resolved by a supervisor moving the dossier to a step."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from api.problems import status_of
from engine import history
from engine.bootstrap import Landflow
from engine.errors import Conflict
from engine.runtime import CommandRefused
from engine.runtime.incidents import MAX_TASK_DEPTH, ProcedureIncident
from engine.scheduler.sweep import Sweeper
from engine.store import AuditEntryRow, DossierRow, DossierStateRow
from tests.conftest import officer
from tests.engine.test_commands import events, items, signals, snapshot_of
from tests.support import defective

DESK = "desk.w1"


def deploy(lf: Landflow, proc: Any) -> None:
    lf.runtime.deploy(officer(lf, "supervisor"), proc.to_xml())


def open_one(lf: Landflow, key: str) -> int:
    return lf.runtime.open(officer(lf, DESK), key, "W1", {"name": "Nguyễn Văn A"}, {}).id


def open_item(lf: Landflow, dossier_id: int) -> Any:
    (item,) = [i for i in items(lf, dossier_id) if i.state in ("ready", "claimed")]
    return item


def dossier_row(lf: Landflow, dossier_id: int) -> DossierRow:
    with lf.db.read() as s:
        row = s.get(DossierRow, dossier_id)
        assert row is not None
        return row


def verified(lf: Landflow, dossier_id: int) -> None:
    with lf.db.read() as s:
        result = history.verify(s, lf.procedures, dossier_id)
    assert result.ok, result.problems


def assert_incident(lf: Landflow, dossier_id: int, err: ProcedureIncident, cause: str, element: str,
                    before: dict[str, Any], n_events: int) -> None:
    """Refused without blame, nothing changed in the workflow, the incident in the chain for supervisors."""
    assert (err.kind, err.code, isinstance(err, Conflict), err.cause, err.element) == (
        "conflict", "procedure_incident", True, cause, element)
    after = snapshot_of(lf, dossier_id)
    assert after["items"] == before["items"] and after["status"] == before["status"]
    evs = events(lf, dossier_id)
    assert len(evs) == n_events + 1
    assert (evs[-1].type, evs[-1].actor, evs[-1].unit) == ("incident_raised", "system", None)
    assert f'"element":"{element}"' in evs[-1].payload and f'"cause":"{cause}"' in evs[-1].payload
    assert [s[:2] for s in signals(lf, dossier_id)] == [("procedure_incident", None)]
    assert not [s for s in signals(lf) if s[0] == "unauthorised_attempt"]
    assert dossier_row(lf, dossier_id).incident == element
    verified(lf, dossier_id)


def test_a_deadlock_is_an_incident_of_the_command_that_caused_it(lf: Landflow) -> None:
    deploy(lf, defective.deadlock())
    did = open_one(lf, "deadlock_test")
    lf.runtime.complete(officer(lf, DESK), open_item(lf, did).id, {"fast": True})
    before, n = snapshot_of(lf, did), len(events(lf, did))
    with pytest.raises(ProcedureIncident) as info:
        lf.runtime.complete(officer(lf, DESK), open_item(lf, did).id, {})
    assert_incident(lf, did, info.value, "stuck", "join", before, n)
    assert open_item(lf, did).step == "a"  # visibly stuck at its step, not lost
    # clicking again records the attempt, with no second signal
    with pytest.raises(ProcedureIncident):
        lf.runtime.complete(officer(lf, DESK), open_item(lf, did).id, {})
    assert [e.type for e in events(lf, did)][-2:] == ["incident_raised", "incident_raised"]
    assert '"repeat":true' in events(lf, did)[-1].payload
    assert [s[0] for s in signals(lf, did)] == ["procedure_incident"]
    verified(lf, did)


def test_a_condition_failing_at_run_time_is_an_incident_not_misconduct(lf: Landflow) -> None:
    deploy(lf, defective.missing_key())
    did = open_one(lf, "missing_key_test")
    before, n = snapshot_of(lf, did), len(events(lf, did))
    with pytest.raises(ProcedureIncident) as info:
        lf.runtime.complete(officer(lf, DESK), open_item(lf, did).id, {})  # `note` left empty
    assert_incident(lf, did, info.value, "procedure_error", "gw", before, n)
    assert not [e for e in events(lf, did) if e.type == "action_refused"]


def test_a_script_gateway_loop_is_an_incident(lf: Landflow) -> None:
    deploy(lf, defective.script_loop())
    did = open_one(lf, "script_loop_test")
    before, n = snapshot_of(lf, did), len(events(lf, did))
    with pytest.raises(ProcedureIncident) as info:
        lf.runtime.complete(officer(lf, DESK), open_item(lf, did).id, {})
    assert info.value.element in ("count", "gw")
    assert_incident(lf, did, info.value, "loop", info.value.element or "", before, n)


def test_a_user_task_loop_is_an_incident_before_the_step_vanishes(lf: Landflow) -> None:
    deploy(lf, defective.user_loop())
    did = open_one(lf, "user_loop_test")
    rounds = 0
    with pytest.raises(ProcedureIncident) as info:
        while True:
            item = open_item(lf, did)  # every accepted command leaves the step open
            before, n = snapshot_of(lf, did), len(events(lf, did))
            lf.runtime.complete(officer(lf, DESK), item.id, {"again": True})
            rounds += 1
            assert rounds < MAX_TASK_DEPTH
    assert rounds > 50
    assert_incident(lf, did, info.value, "loop", "receive", before, n)


def test_oversized_workflow_data_is_an_incident_and_no_snapshot_is_written(lf: Landflow) -> None:
    deploy(lf, defective.big_data())
    did = open_one(lf, "big_data_test")
    with lf.db.read() as s:
        snap = s.get(DossierStateRow, did)
        assert snap is not None
        stored = (snap.seq, snap.version, snap.state)
    before, n = snapshot_of(lf, did), len(events(lf, did))
    with pytest.raises(ProcedureIncident) as info:
        lf.runtime.complete(officer(lf, DESK), open_item(lf, did).id, {})
    assert_incident(lf, did, info.value, "data_too_large", "a", before, n)
    with lf.db.read() as s:
        snap = s.get(DossierStateRow, did)
        assert snap is not None and (snap.seq, snap.version, snap.state) == stored


def test_a_supervisor_moves_the_dossier_to_a_step_and_its_history_verifies(lf: Landflow) -> None:
    deploy(lf, defective.deadlock())
    did = open_one(lf, "deadlock_test")
    lf.runtime.complete(officer(lf, DESK), open_item(lf, did).id, {"fast": True})
    with pytest.raises(ProcedureIncident):
        lf.runtime.complete(officer(lf, DESK), open_item(lf, did).id, {})
    version = dossier_row(lf, did).version
    with pytest.raises(CommandRefused) as refused:
        lf.runtime.move_to_step(officer(lf, DESK), did, "after", "chỗ tắc của quy trình")
    assert (refused.value.code, status_of(refused.value)) == ("wrong_role", 403)
    with pytest.raises(CommandRefused) as refused:
        lf.runtime.move_to_step(officer(lf, "supervisor"), did, "nowhere", "lý do")
    assert refused.value.code == "illegal_target"
    lf.runtime.move_to_step(officer(lf, "supervisor"), did, "after", "Quy trình tắc ở cổng gộp", version)
    row = dossier_row(lf, did)
    assert row.incident is None and row.status == "in_progress"
    closed = [i for i in items(lf, did) if i.step == "a"]
    assert [(i.state, i.outcome) for i in closed] == [("cancelled", "moved")]
    moved = events(lf, did)[-1]
    assert (moved.type, moved.actor, moved.step) == ("moved", "supervisor", "after")
    verified(lf, did)
    lf.workflows.clear()  # the next command restores the workflow from its snapshot and the recorded move
    lf.runtime.complete(officer(lf, DESK), open_item(lf, did).id, {})
    assert dossier_row(lf, did).status == "done"
    verified(lf, did)
    # nothing to resolve any more
    did2 = open_one(lf, "deadlock_test")
    with pytest.raises(CommandRefused) as refused:
        lf.runtime.move_to_step(officer(lf, "supervisor"), did2, "after", "lý do")
    assert refused.value.code == "no_incident"


def test_moving_back_to_a_step_already_done(lf: Landflow) -> None:
    deploy(lf, defective.deadlock())
    did = open_one(lf, "deadlock_test")
    lf.runtime.complete(officer(lf, DESK), open_item(lf, did).id, {"fast": True})
    with pytest.raises(ProcedureIncident):
        lf.runtime.complete(officer(lf, DESK), open_item(lf, did).id, {})
    lf.runtime.move_to_step(officer(lf, "supervisor"), did, "receive", "Nhận lại hồ sơ từ đầu")
    assert open_item(lf, did).step == "receive"
    lf.runtime.complete(officer(lf, DESK), open_item(lf, did).id, {"fast": False})
    assert open_item(lf, did).step == "b"
    verified(lf, did)


def test_the_sweep_lists_dossiers_left_stuck_by_older_engines(lf: Landflow, monkeypatch: pytest.MonkeyPatch) -> None:
    deploy(lf, defective.deadlock())
    did = open_one(lf, "deadlock_test")
    lf.runtime.complete(officer(lf, DESK), open_item(lf, did).id, {"fast": True})
    with monkeypatch.context() as m:  # the engine before incidents: the command commits, nothing stays open
        m.setattr(type(lf.runtime), "_check_not_stuck", lambda self, work: None)
        lf.runtime.complete(officer(lf, DESK), open_item(lf, did).id, {})
    assert not [i for i in items(lf, did) if i.state in ("ready", "claimed")]
    sweeper = Sweeper(lf)
    assert sweeper.stuck() == [did]
    result = sweeper.sweep()
    assert result.recorded.get("procedure_incident") == 1
    assert sweeper.stuck() == []
    assert dossier_row(lf, did).incident == "join"
    assert [s[:2] for s in signals(lf, did)] == [("procedure_incident", None)]
    assert sweeper.sweep().recorded.get("procedure_incident") is None  # listed once
    verified(lf, did)
    lf.runtime.move_to_step(officer(lf, "supervisor"), did, "after", "Quy trình tắc ở cổng gộp")
    assert open_item(lf, did).step == "after"
    verified(lf, did)
    lf.workflows.clear()
    lf.runtime.complete(officer(lf, DESK), open_item(lf, did).id, {})
    assert dossier_row(lf, did).status == "done"
    verified(lf, did)


def test_an_incident_at_opening_goes_to_the_audit_log_without_blame(lf: Landflow) -> None:
    deploy(lf, defective.missing_key_at_start())
    with pytest.raises(ProcedureIncident):
        open_one(lf, "missing_key_start")
    with lf.db.read() as s:
        entries = list(s.scalars(select(AuditEntryRow).where(AuditEntryRow.type == "incident_raised")))
        assert s.scalar(select(DossierRow.id)) is None
    assert len(entries) == 1 and '"element":"gw"' in entries[0].payload
    assert [s[:2] for s in signals(lf)] == [("procedure_incident", None)]


def test_a_history_recorded_before_the_bounds_still_verifies(lf: Landflow, monkeypatch: pytest.MonkeyPatch) -> None:
    """Replay re-runs what was recorded, unbounded: a script loop that an older engine let run (998 steps,
    then SpiffWorkflow's silent stop) verifies, the sweep turns the dossier into an incident, and a
    supervisor moves it on."""
    import engine.runtime.load as load
    import engine.runtime.workflow as workflow

    deploy(lf, defective.script_loop())
    with monkeypatch.context() as m:  # the engine before incidents
        m.setattr(load, "bound", lambda wf: wf)
        m.setattr(workflow, "bound", lambda wf: wf)
        m.setattr(type(lf.runtime), "_check_not_stuck", lambda self, work: None)
        did = open_one(lf, "script_loop_test")
        lf.runtime.complete(officer(lf, DESK), open_item(lf, did).id, {})
    assert not [i for i in items(lf, did) if i.state in ("ready", "claimed")]
    verified(lf, did)
    assert Sweeper(lf).sweep().recorded.get("procedure_incident") == 1
    assert dossier_row(lf, did).incident is not None
    verified(lf, did)
    # the tree is past SpiffWorkflow's depth limit; the move grows the step from higher up, visibly
    lf.runtime.move_to_step(officer(lf, "supervisor"), did, "a", "Vòng lặp tự động của quy trình cũ")
    assert open_item(lf, did).step == "a"
    lf.workflows.clear()
    lf.runtime.complete(officer(lf, DESK), open_item(lf, did).id, {})
    assert dossier_row(lf, did).status == "done"
    verified(lf, did)
