"""Migrating a dossier that stands inside an embedded sub-process (decision 0157): the rebuild only puts
a dossier at a step of the top-level process, so one at a step inside a box (in either version) is
planned "cannot move" with its own reason, and a dossier before the box moves and runs the new box."""

from __future__ import annotations

from sqlalchemy import select

from engine.bootstrap import Landflow
from engine.history import verify
from engine.migration import runs
from engine.migration.plan import CANNOT, MOVES
from engine.store import DossierRow, WorkItemRow
from tests.conftest import officer
from tests.support.bpmn_builder import Procedure, posting_procedure

OWNERS = {"receive": "desk.w1", "post": "land.w1", "close_posting": "land.w1", "sign": "chair.w1"}


def boxed(sla: str = "P6D", post_sla: str = "P2D") -> Procedure:
    """posting_test without the box's timer (a waiting timer is a reason of its own not to move) and with
    the box's last step in the land officer's lane (the small organisation has no economic division)."""
    proc = posting_procedure(sla=sla)
    proc.nodes = [n for n in proc.nodes if n.id not in ("too_long", "escalate", "escalated")]
    proc.flows = [f for f in proc.flows if f.id not in ("f5", "f6")]
    for n in proc.nodes:
        if n.id == "close_posting":
            n.attrs = {}
        if n.id == "post":
            n.props["sla"] = post_sla
    return proc


def open_step(lf: Landflow, did: int) -> WorkItemRow:
    with lf.db.read() as s:
        (item,) = s.scalars(select(WorkItemRow).where(WorkItemRow.dossier_id == did,
                                                      WorkItemRow.state.in_(("ready", "claimed")))).all()
        return item


def advance(lf: Landflow, did: int) -> str:
    item = open_step(lf, did)
    lf.runtime.complete(officer(lf, OWNERS[item.step]), item.id, {})
    return item.step


def test_a_dossier_inside_a_sub_process_is_reported_and_one_before_it_moves(lf: Landflow) -> None:
    sup = officer(lf, "supervisor")
    lf.runtime.deploy(sup, boxed().to_xml())
    before = lf.runtime.open(officer(lf, "desk.w1"), "posting_test", "W1", {"name": "A"}, {}).id
    inside = lf.runtime.open(officer(lf, "desk.w1"), "posting_test", "W1", {"name": "B"}, {}).id
    assert advance(lf, inside) == "receive" and open_step(lf, inside).step == "post"
    lf.runtime.deploy(sup, boxed(sla="P7D", post_sla="P3D").to_xml())
    plan = runs.make(lf.runtime, sup, "posting_test", 1, 2)
    by_id = {d.dossier_id: d for d in plan.dossiers}
    assert (by_id[inside].status, by_id[inside].reason) == (CANNOT, "in_subprocess")
    assert by_id[before].status == MOVES
    run = runs.batch(lf.runtime, sup, runs.start(lf.runtime, sup, plan).id)
    assert (run.moved, run.finished) == (1, True)
    for did in (before, inside):
        while True:
            with lf.db.read() as s:
                d = s.get(DossierRow, did)
                assert d is not None
                if d.status == "done":
                    break
            advance(lf, did)
        with lf.db.read() as s:
            v = verify(s, lf.procedures, did)
        assert v.ok, v.problems
    with lf.db.read() as s:
        moved, stayed = s.get(DossierRow, before), s.get(DossierRow, inside)
        assert moved is not None and stayed is not None
        assert lf.procedures.get(s, moved.procedure_version_id).version == 2
        assert lf.procedures.get(s, stayed.procedure_version_id).version == 1
