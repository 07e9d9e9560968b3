"""The process-mining export, read back by pm4py (a test-only dependency)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pm4py
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from config.settings import ROOT
from engine.bootstrap import Landflow
from engine.clock import FixedClock
from engine.export import ExportFilter, write_ocel, write_xes
from engine.runtime import CommandRefused
from engine.signatures import public_key_text, register_key, sign_decision
from engine.store import DossierRow, WorkItemRow
from tests.conftest import officer

LAND_TRANSFER = ROOT / "workflows" / "land" / "land_transfer.bpmn"
HAPPY = [("receive", "desk.w1", {"decision": "accept", "kind": "transfer"}),
         ("check_rights", "branch.br1", {"eligible": True}),
         ("send_form19", "branch.br1", {}),
         ("tax_assess", "tax.1", {"obligation_amount": 1200000}),
         ("tax_payment", "tax.1", {"payment_date": "2026-02-10"}),
         ("update_register", "branch.br1", {}),
         ("return_result", "desk.w1", {})]


def current(lf: Landflow, did: int) -> WorkItemRow | None:
    with lf.db.read() as s:
        return s.scalar(select(WorkItemRow).where(WorkItemRow.dossier_id == did,
                                                  WorkItemRow.state.in_(("ready", "claimed"))))


@pytest.fixture
def transfers(lf: Landflow, clock: FixedClock) -> dict[str, Any]:
    """Four happy-path land transfers, one refused at the desk, one with a refused attempt and a return."""
    lf.runtime.deploy(officer(lf, "supervisor"), LAND_TRANSFER.read_bytes())
    key = Ed25519PrivateKey.generate()
    with lf.db.write() as s:
        register_key(s, "branch.br1", public_key_text(key.public_key()), "admin", clock.now())
    lf.directory.refresh()
    rt = lf.runtime

    def run(did: int, steps: list[tuple[str, str, dict[str, Any]]]) -> None:
        for step, who, data in steps:
            item = current(lf, did)
            assert item is not None and item.step == step
            clock.advance(hours=3)
            sig = None
            if step == "update_register":
                with lf.db.read() as s:
                    code = s.get(DossierRow, did).code  # type: ignore[union-attr]
                sig = sign_decision(key, code, step, item.ordinal, data, who, clock.now()).as_dict()
            rt.complete(officer(lf, who), item.id, data, signature=sig)

    happy = []
    for i in range(4):
        st = rt.open(officer(lf, "desk.w1"), "land_transfer", "W1", {"name": f"H{i}"}, {"sheet": 7, "number": i})
        run(st.id, HAPPY)
        happy.append(st.code)
    refused = rt.open(officer(lf, "desk.w1"), "land_transfer", "W1", {"name": "R"}, {"sheet": 7, "number": 99})
    run(refused.id, [("receive", "desk.w1", {"decision": "refuse", "kind": "transfer", "refusal_reason": "ngoài"})])
    messy = rt.open(officer(lf, "desk.w1"), "land_transfer", "W1", {"name": "M"}, {"id": "W1-7-100"})
    run(messy.id, HAPPY[:2])
    with pytest.raises(CommandRefused):
        rt.complete(officer(lf, "tax.1"), current(lf, messy.id).id, {})  # type: ignore[union-attr]
    rt.return_(officer(lf, "branch.br1"), current(lf, messy.id).id, "check_rights",  # type: ignore[union-attr]
               "thiếu hợp đồng công chứng")
    return {"happy": happy, "all": 6}


def test_xes_reads_back_and_happy_paths_replay_the_bpmn_with_fitness_one(transfers: dict[str, Any], lf: Landflow,
                                                                          tmp_path: Path) -> None:
    path = tmp_path / "log.xes"
    n_traces, n_events = write_xes(lf.db, ExportFilter(procedure="land_transfer"), path)
    assert n_traces == transfers["all"]
    log = pm4py.read_xes(str(path))
    assert log["case:concept:name"].nunique() == n_traces and len(log) == n_events
    kinds = set(log["landflow:kind"])
    assert kinds == {"step", "refusal", "signal"}
    refusal = log[log["landflow:kind"] == "refusal"].iloc[0]
    assert refusal["concept:name"] == "refused: complete" and "wrong_role" in refusal["landflow:reason"]
    returned = log[log["concept:name"] == "signal: returned"]  # the engine's return, and the desk's drawn refusal
    assert sorted(zip(returned["org:resource"], returned["landflow:reason"], strict=True)) == [
        ("branch.br1", "thiếu hợp đồng công chứng"), ("desk.w1", "ngoài")]
    assert {"schedule", "complete", "ate_abort"} <= set(log["lifecycle:transition"])
    done = log[(log["lifecycle:transition"] == "complete") & (log["landflow:kind"] == "step")]
    assert set(done["org:group"]) == {"W1", "BR1", "TAX1"} and set(done["org:role"]) == {
        "one_stop_desk", "registration_branch", "tax_office"}

    happy = done[done["case:concept:name"].isin(transfers["happy"])]
    assert happy["case:concept:name"].nunique() == 4
    bpmn = pm4py.read_bpmn(str(LAND_TRANSFER))
    net, im, fm = pm4py.convert_to_petri_net(bpmn)
    fitness = pm4py.fitness_token_based_replay(happy, net, im, fm)
    assert fitness["log_fitness"] == 1.0 and fitness["perc_fit_traces"] == 100.0
    # the messy dossier (returned, not finished) does not fit: the replay can fail
    messy = done[~done["case:concept:name"].isin(transfers["happy"])]
    assert pm4py.fitness_token_based_replay(messy, net, im, fm)["perc_fit_traces"] < 100.0


def test_ocel_reads_back_with_its_objects_and_events(transfers: dict[str, Any], lf: Landflow, tmp_path: Path) -> None:
    path = tmp_path / "log.ocel.json"
    n_objects, n_events = write_ocel(lf.db, ExportFilter(), path)
    ocel = pm4py.read_ocel2_json(str(path))
    assert len(ocel.objects) == n_objects and len(ocel.events) == n_events
    types = ocel.objects["ocel:type"].value_counts().to_dict()
    with lf.db.read() as s:
        dossiers = s.scalar(select(func.count()).select_from(DossierRow))
    # 6 dossiers, 6 parcels (5 by sheet/number, 1 by id), 3 officers, 3 units
    assert types == {"dossier": dossiers, "parcel": 6, "officer": 3, "unit": 3}
    doc = json.loads(path.read_text(encoding="utf-8"))
    xes_events = write_xes(lf.db, ExportFilter(), tmp_path / "all.xes")[1]
    assert len(doc["events"]) == xes_events
    rel = ocel.relations
    assert set(rel["ocel:qualifier"]) == {"dossier", "resource", "group", "parcel"}


def test_filters_by_procedure_and_period(transfers: dict[str, Any], lf: Landflow, tmp_path: Path,
                                         clock: FixedClock) -> None:
    assert write_xes(lf.db, ExportFilter(procedure="first_registration"), tmp_path / "none.xes") == (0, 0)
    with lf.db.read() as s:
        received = sorted(s.scalars(select(DossierRow.received_at)))
    later = ExportFilter(start=received[4])
    assert write_xes(lf.db, later, tmp_path / "later.xes")[0] == 2
    assert write_xes(lf.db, ExportFilter(end=received[4]), tmp_path / "earlier.xes")[0] == 4
