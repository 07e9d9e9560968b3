"""Migration of running dossiers over HTTP and the CLI: the dry run, the run in batches, its status,
and the refusals (not a supervisor, unknown version, bad input), each recorded."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner
from sqlalchemy import select

from api.cli import main
from engine.bootstrap import Landflow
from engine.store import AuditEntryRow
from tests.support import versions

KEY = versions.KEY


def open_at(desk: Any, land: Any, step: str) -> int:
    dossier = desk.post("/api/v1/dossiers", json={"procedure": KEY, "commune": "20242",
                                                  "applicant": {"name": "Trần Văn B"}}).json
    items = dossier["work_items"]
    who = {"receive": desk, "check": land}
    for s in ["receive", "check", "survey"]:
        if s == step:
            return int(dossier["id"])
        (item,) = [i for i in items if i["state"] == "ready"]
        resp = who.get(s, land).post(f"/api/v1/work-items/{item['id']}/complete", json={"data": {}})
        assert resp.status_code == 200, resp.get_data(as_text=True)
        items = resp.json["work_items"]
    raise AssertionError(step)


def test_plan_run_in_batches_and_status(demo_lf: Landflow, sign_in: Any) -> None:
    sup = demo_lf.directory.get().officers["supervisor"]
    demo_lf.runtime.deploy(sup, versions.version1().to_xml())
    desk, land, supervisor = sign_in("desk.haichau"), sign_in("land.haichau"), sign_in("supervisor")
    at_check, at_survey = open_at(desk, land, "check"), open_at(desk, land, "survey")
    demo_lf.runtime.deploy(sup, versions.version2().to_xml())
    url = f"/api/v1/procedures/{KEY}/migrations"

    resp = supervisor.post(f"{url}/plan", json={"from_version": 1, "to_version": 2})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    statuses = {d["dossier_id"]: d["status"] for d in resp.json["dossiers"]}
    assert statuses == {at_check: "moves", at_survey: "needs_mapping"}
    resp = supervisor.post(f"{url}/plan", json={"from_version": 1, "to_version": 2, "mapping": {"survey": "inspect"}})
    assert resp.json["counts"] == {"moves": 2, "needs_mapping": 0, "cannot": 0}
    seen = {str(d["dossier_id"]): d["state_version"] for d in resp.json["dossiers"]}

    run = supervisor.post(url, json={"from_version": 1, "to_version": 2, "mapping": {"survey": "inspect"},
                                     "seen": seen})
    assert run.status_code == 201, run.get_data(as_text=True)
    assert (run.json["total"], run.json["position"], run.json["finished"]) == (2, 0, False)
    rid = run.json["id"]
    step = supervisor.post(f"/api/v1/migrations/{rid}/batch", json={"size": 1})
    assert (step.status_code, step.json["moved"], step.json["percent"]) == (200, 1, 50)
    step = supervisor.post(f"/api/v1/migrations/{rid}/batch", json={})
    assert (step.json["moved"], step.json["finished"]) == (2, True)
    got = supervisor.get(f"/api/v1/migrations/{rid}")
    assert got.status_code == 200 and got.json["moved"] == 2
    for did in (at_check, at_survey):
        verified = supervisor.get(f"/api/v1/dossiers/{did}/verify")
        assert verified.status_code == 200 and verified.json["ok"], verified.json
    evs = supervisor.get(f"/api/v1/dossiers/{at_survey}/events").json
    (moved,) = [e for e in evs if e["type"] == "migrated"]
    assert moved["payload"]["steps"][0]["to_step"] == "inspect"
    replayed = supervisor.get(f"/api/v1/dossiers/{at_survey}/replay")
    assert replayed.status_code == 200, replayed.get_data(as_text=True)


def test_refusals_are_recorded_and_bad_input_changes_nothing(demo_lf: Landflow, sign_in: Any) -> None:
    sup = demo_lf.directory.get().officers["supervisor"]
    demo_lf.runtime.deploy(sup, versions.version1().to_xml())
    demo_lf.runtime.deploy(sup, versions.version2().to_xml())
    desk, supervisor = sign_in("desk.haichau"), sign_in("supervisor")
    url = f"/api/v1/procedures/{KEY}/migrations"
    resp = desk.post(f"{url}/plan", json={"from_version": 1, "to_version": 2})
    assert (resp.status_code, resp.mimetype, resp.json["code"]) == (403, "application/problem+json", "wrong_role")
    resp = desk.post(url, json={"from_version": 1, "to_version": 2})
    assert (resp.status_code, resp.json["code"]) == (403, "wrong_role")
    resp = supervisor.post(f"{url}/plan", json={"from_version": 1, "to_version": 9})
    assert (resp.status_code, resp.json["code"]) == (404, "no_such_version")
    resp = supervisor.post(f"{url}/plan", json={"from_version": 1, "to_version": 2, "deadlines": "whenever"})
    assert resp.status_code == 422
    resp = supervisor.post(url, json={"from_version": 2, "to_version": 1})
    assert (resp.status_code, resp.json["code"]) == (422, "bad_migration_plan")
    assert supervisor.get("/api/v1/migrations/99").status_code == 404
    assert desk.get("/api/v1/migrations/99").status_code == 403
    with demo_lf.db.read() as s:
        refused = [json.loads(a.payload) for a in s.scalars(select(AuditEntryRow).where(
            AuditEntryRow.type == "action_refused"))]
    assert {(r["action"], r["code"]) for r in refused} >= {
        ("migration_plan", "wrong_role"), ("migration_plan", "no_such_version"),
        ("migration_start", "bad_migration_plan"), ("migration_status", "wrong_role")}


def test_cli_plans_with_a_mapping_and_runs(demo_lf: Landflow, sign_in: Any, monkeypatch: Any) -> None:
    sup = demo_lf.directory.get().officers["supervisor"]
    demo_lf.runtime.deploy(sup, versions.version1().to_xml())
    desk, land = sign_in("desk.haichau"), sign_in("land.haichau")
    at_survey = open_at(desk, land, "survey")
    demo_lf.runtime.deploy(sup, versions.version2().to_xml())
    monkeypatch.setenv("LANDFLOW_DATABASE_URL", demo_lf.settings.database_url)
    monkeypatch.setenv("LANDFLOW_VAR_DIR", str(demo_lf.settings.var_dir))
    monkeypatch.setenv("LANDFLOW_DEMO", "1")
    runner = CliRunner()
    common = ["--from", "1", "--to", "2"]  # --as supervisor by default
    out = runner.invoke(main, ["migrate", "plan", KEY, *common, "--csv", "-"])
    assert out.exit_code == 0, out.output
    assert out.output.splitlines()[0] == "dossier_id,code,status,moves,reason,suggestion,detail"
    assert f"{at_survey}," in out.output and ",needs_mapping,," in out.output
    out = runner.invoke(main, ["migrate", "plan", KEY, *common, "--map", "survey"])
    assert out.exit_code != 0 and "old_step=new_step" in out.output
    out = runner.invoke(main, ["migrate", "run", KEY, *common, "--map", "survey=inspect"])
    assert out.exit_code == 0, out.output
    assert "moved 1, skipped 0" in out.output
    out = runner.invoke(main, ["migrate", "status", "1", "--as", "supervisor"])
    assert out.exit_code == 0 and "(finished)" in out.output
    out = runner.invoke(main, ["migrate", "status", "1", "--as", "desk.haichau"])
    assert out.exit_code == 1 and "refused" in out.output
