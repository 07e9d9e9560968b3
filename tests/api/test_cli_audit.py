"""`landflow` commands of deadlines and accountability, run in-process against a real SQLite file."""

from __future__ import annotations

import csv
import io
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from api.cli import main
from config.settings import Settings
from engine.bootstrap import build
from engine.signatures import read_private_key, sign_decision
from engine.store import OfficerRow
from tests.support.bpmn_builder import small_procedure
from tests.support.tamper import rewrite_chain


def text_of(result: Result) -> str:
    """The output with rich's line wrapping undone."""
    return " ".join(result.output.split())


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {"LANDFLOW_VAR_DIR": str(tmp_path / "var"), "LANDFLOW_DEMO": "1",
              "LANDFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'lf.db'}"}
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    return values


def test_init_keygen_sign_checkpoint_verify_kpi_export(env: dict[str, str], tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["init", "--no-procedures"]).exit_code == 0
    key = Path(env["LANDFLOW_VAR_DIR"]) / "keys" / "checkpoint.pem"
    assert key.exists() and stat.S_IMODE(key.stat().st_mode) == 0o600
    proc = small_procedure()
    next(n for n in proc.nodes if n.id == "receive").props["signed"] = "true"
    path = tmp_path / "small.bpmn"
    path.write_bytes(proc.to_xml())
    assert runner.invoke(main, ["deploy", str(path)]).exit_code == 0

    officer_key = tmp_path / "desk.pem"
    result = runner.invoke(main, ["officers", "keygen", "desk.haichau", "--out", str(officer_key)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(officer_key.stat().st_mode) == 0o600
    assert runner.invoke(main, ["officers", "keygen", "nobody", "--out", str(tmp_path / "x.pem")]).exit_code == 1
    assert runner.invoke(main, ["officers", "keygen", "desk.haichau", "--out", str(officer_key)]).exit_code == 1

    lf = build(Settings.from_env())
    desk = lf.directory.get().officers["desk.haichau"]
    with lf.db.read() as s:
        assert s.scalar(select(OfficerRow.public_key).where(OfficerRow.username == "desk.haichau"))
    st = lf.runtime.open(desk, "small_test", "20242", {"name": "A"}, {"sheet": 3, "number": 4})
    item = st.items[1]
    sig = sign_decision(read_private_key(officer_key), st.code, "receive", 1, {"complete": True}, desk.username,
                        lf.clock.now())
    assert item.id is not None
    lf.runtime.complete(desk, item.id, {"complete": True}, signature=sig.as_dict())
    lf.close()

    result = runner.invoke(main, ["sweep"])
    assert result.exit_code == 0 and "no notices" in text_of(result) and "1 KPI fact" in text_of(result)
    result = runner.invoke(main, ["checkpoint"])
    assert result.exit_code == 0 and "checkpoint 1: 1 dossier(s), 2 event(s)" in text_of(result)
    result = runner.invoke(main, ["verify", "--all"])
    assert result.exit_code == 0, result.output
    assert "1 dossier(s) and 1 checkpoint(s) checked, 0 finding(s)" in text_of(result)

    result = runner.invoke(main, ["kpi", "--group-by", "officer", "--csv", "-"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [(r["key"], r["handled"], r["on_time"]) for r in rows] == [("desk.haichau", "1", "1")]
    result = runner.invoke(main, ["kpi", "--group-by", "procedure", "--six-clear"])
    assert result.exit_code == 0 and "small_test" in text_of(result) and "100%" in text_of(result)
    assert runner.invoke(main, ["kpi", "--from", "2026-02-02", "--to", "2026-02-01"]).exit_code == 2

    xes, ocel = tmp_path / "log.xes", tmp_path / "log.json"
    result = runner.invoke(main, ["export", "--xes", str(xes), "--ocel", str(ocel), "--procedure", "small_test"])
    assert result.exit_code == 0, result.output
    assert "1 trace(s), 3 event(s)" in text_of(result) and "4 object(s), 3 event(s)" in text_of(result)
    assert xes.read_bytes().startswith(b"<?xml")
    assert runner.invoke(main, ["export"]).exit_code == 2

    lf = build(Settings.from_env())
    rewrite_chain(lf.db, st.id, lambda seq, t, p: {**p, "reason": "rewritten"} if t == "completed" else p)
    lf.close()
    result = runner.invoke(main, ["verify", "--all"])
    assert result.exit_code == 1
    assert f"first inconsistency: dossier {st.id}: event 2" in text_of(result)


def test_sweep_lists_the_dossiers_stopped_by_a_procedure_incident(env: dict[str, str], tmp_path: Path) -> None:
    from engine.runtime.incidents import ProcedureIncident
    from tests.support import defective

    runner = CliRunner()
    assert runner.invoke(main, ["init", "--no-procedures"]).exit_code == 0
    path = tmp_path / "deadlock.bpmn"
    path.write_bytes(defective.deadlock().to_xml())
    assert runner.invoke(main, ["deploy", str(path)]).exit_code == 0
    lf = build(Settings.from_env())
    desk = lf.directory.get().officers["desk.haichau"]
    st = lf.runtime.open(desk, "deadlock_test", "20242", {"name": "A"}, {})
    st = lf.runtime.complete(desk, st.items[1].id or 0, {"fast": True})
    (a,) = st.open_items()
    with pytest.raises(ProcedureIncident):
        lf.runtime.complete(desk, a.id or 0, {})
    lf.close()
    result = runner.invoke(main, ["sweep"])
    assert result.exit_code == 0, result.output
    assert f"procedure incident: {st.code} (deadlock_test) at join, stuck, open steps: a" in text_of(result)
