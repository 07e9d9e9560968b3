"""bench engine: durable commands/s completing land_transfer steps on the SQLite file, against
SpiffWorkflow stepping the same BPMN in memory, in the same run. Target ratio >= 0.5.

The durable side runs the real engine: every completion is a transaction on ./var-like SQLite (WAL,
synchronous=NORMAL) that locks the dossier, runs the step, appends a hash-chained event, updates the
projections and snapshots the workflow. The reference side does only the SpiffWorkflow part.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from config.settings import ROOT, Settings
from engine.bootstrap import build, load_bundled_organisation, seed
from engine.definitions import check
from engine.runtime.workflow import SCRIPT_ENGINE
from engine.signatures import officer_key, sign_decision

from .common import CLOCK, LAND_TRANSFER_PATH, timer, write_result

BPMN = ROOT / "workflows" / "land" / "land_transfer.bpmn"


def in_memory(n: int) -> tuple[int, float]:
    checked, problems = check(BPMN.read_bytes(), [], {
        "one_stop_desk", "registration_branch", "tax_office", "commune_land_officer", "commune_chairman"})
    assert checked is not None, problems
    steps = 0
    with timer() as elapsed:
        for _ in range(n):
            wf = BpmnWorkflow(checked.spec, checked.subprocess_specs, script_engine=SCRIPT_ENGINE)
            wf.do_engine_steps()
            for step, data in LAND_TRANSFER_PATH:
                (task,) = wf.get_tasks(state=TaskState.READY, manual=True)
                assert task.task_spec.name == step
                task.data.update(data)
                task.run()
                wf.do_engine_steps()
                steps += 1
            assert wf.is_completed()
    return steps, elapsed()


def durable(n: int, directory: Path) -> dict[str, float]:
    settings = Settings.from_env({}, database_url=f"sqlite:///{directory / 'bench.db'}", var_dir=directory,
                             ed25519_keys=True)  # the development option: benches sign with Ed25519
    lf = build(settings)
    lf.db.create_all()
    org = load_bundled_organisation(settings)
    seed(lf, org, with_officers=True)
    o = lf.directory.get().officers
    actors = {"receive": o["desk.haichau"], "check_rights": o["branch.haichau"], "send_form19": o["branch.haichau"],
              "tax_assess": o["tax.haichau"], "tax_payment": o["tax.haichau"],
              "update_register": o["branch.haichau"], "return_result": o["desk.haichau"]}
    lf.runtime.deploy(o["supervisor"], BPMN.read_bytes())
    # update_register is a signed decision: the branch officer signs it (engine/signatures.py)
    key = officer_key(lf.db, directory / "keys", "branch.haichau", lf.clock.now())
    lf.directory.refresh()
    o = lf.directory.get().officers
    actors = {step: o[officer.username] for step, officer in actors.items()}
    dossiers = [lf.runtime.open(o["desk.haichau"], "land_transfer", "20242", {"name": f"A{i}"}, {})
                for i in range(n)]
    commands = 0
    with timer() as elapsed:
        for step, data in LAND_TRANSFER_PATH:
            for i, st in enumerate(dossiers):
                (item,) = st.open_items()  # the state a command returns names the next item
                assert item.step == step and item.id is not None
                signature = None
                if step == "update_register":
                    signature = sign_decision(key, st.code, step, item.ordinal, data, "branch.haichau",
                                              lf.clock.now()).as_dict()
                dossiers[i] = lf.runtime.complete(actors[step], item.id, data, signature=signature)
                commands += 1
    seconds = elapsed()
    lf.close()
    return {"commands": commands, "seconds": seconds, "per_second": commands / seconds}


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dossiers", type=int, default=300)
    parser.add_argument("--cpu", action="store_true",
                        help="time both sides in this process's CPU time, not wall-clock time: on a machine "
                             "that other work keeps busy, the wall-clock ratio swings with the load (SQLite's "
                             "commits then wait on the disk, outside this process's CPU)")
    args = parser.parse_args(argv)
    CLOCK[0] = "cpu" if args.cpu else "wall"
    steps, seconds = in_memory(args.dossiers)
    reference = steps / seconds
    with tempfile.TemporaryDirectory() as tmp:
        d = durable(args.dossiers, Path(tmp))
    ratio = d["per_second"] / reference
    figures = {"dossiers": args.dossiers, "clock": CLOCK[0], "in_memory_steps_per_s": round(reference, 1),
               "durable_commands_per_s": round(d["per_second"], 1), "durable_commands": d["commands"]}
    result = write_result("engine", ratio, 0.5, figures)
    print(f"in memory: {reference:,.0f} steps/s; durable: {d['per_second']:,.0f} commands/s; "
          f"ratio {ratio:.3f} (target >= 0.5)")
    return result


if __name__ == "__main__":
    main()
