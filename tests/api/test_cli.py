"""The `landflow` command line, run in-process against a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from api.cli import main
from config.settings import ROOT, Settings
from engine.bootstrap import build
from engine.store import DossierRow, ProcedureVersionRow
from tests.support.bpmn_builder import small_procedure


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {"LANDFLOW_VAR_DIR": str(tmp_path / "var"), "LANDFLOW_DEMO": "1",
              "LANDFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'lf.db'}"}
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    return values


def test_init_deploys_every_bundled_procedure_once(env: dict[str, str]) -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["init"])
    assert first.exit_code == 0, first.output
    bundled = sorted(p.stem for p in (ROOT / "workflows").glob("**/*.bpmn"))
    lf = build(Settings.from_env())
    with lf.db.read() as s:
        keys = sorted(s.scalars(select(ProcedureVersionRow.key)))
    assert keys == bundled
    again = runner.invoke(main, ["init"])
    assert again.exit_code == 0 and again.output.count("unchanged") == len(bundled)
    with lf.db.read() as s:
        assert s.scalar(select(text("count(*)")).select_from(ProcedureVersionRow)) == len(bundled)
    lf.close()


def test_lint_reports_problems_and_six_clear(tmp_path: Path) -> None:
    good = tmp_path / "good.bpmn"
    good.write_bytes(small_procedure().to_xml())
    result = CliRunner().invoke(main, ["lint", str(good)])
    assert result.exit_code == 0, result.output
    assert "6 clear (100%)" in result.output
    bad = small_procedure()
    bad.nodes[2].props.pop("sla")
    bad.nodes[2].props.pop("result")
    path = tmp_path / "bad.bpmn"
    path.write_bytes(bad.to_xml())
    result = CliRunner().invoke(main, ["lint", "--json", str(path)])
    assert result.exit_code == 1
    assert '"rule": "step.sla"' in result.output and '"results": false' in result.output


def test_deploy_replay_and_verify(env: dict[str, str], tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["init", "--no-procedures"]).exit_code == 0
    path = tmp_path / "small.bpmn"
    path.write_bytes(small_procedure().to_xml())
    result = runner.invoke(main, ["deploy", str(path)])
    assert result.exit_code == 0 and "small_test v1 deployed" in result.output
    broken = tmp_path / "broken.bpmn"
    broken.write_bytes(b"<not-bpmn/>")
    assert runner.invoke(main, ["deploy", str(broken)]).exit_code == 1

    lf = build(Settings.from_env())
    officers = lf.directory.get().officers
    st = lf.runtime.open(officers["desk.haichau"], "small_test", "20242", {"name": "A"}, {})
    lf.close()
    result = runner.invoke(main, ["replay", st.code, "--at", "1"])
    assert result.exit_code == 0, result.output
    assert st.code in result.output and "receive" in result.output
    assert runner.invoke(main, ["verify", "--all"]).exit_code == 0
    lf = build(Settings.from_env())
    with lf.db.engine.begin() as c:
        c.execute(text("UPDATE case_event SET actor = 'x' WHERE seq = 1"))
    with lf.db.read() as s:
        assert s.scalar(select(DossierRow.id)) == st.id
    lf.close()
    result = runner.invoke(main, ["verify", str(st.id)])
    assert result.exit_code == 1 and "first bad event 1" in result.output


def test_officers_absent_records_an_absence(env: dict[str, str]) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["init", "--no-procedures"]).exit_code == 0
    bad = runner.invoke(main, ["officers", "absent", "land.haichau", "--deputy", "desk.haichau", "--from",
                               "2099-01-05", "--to", "2099-01-06", "--reason", "nghỉ phép"])
    assert bad.exit_code == 1 and "illegal_target" in bad.output  # the desk is not a land officer
    added = runner.invoke(main, ["officers", "add", "land2.haichau", "--name", "Phan Văn Lộc", "--unit", "20242",
                                 "--role", "commune_land_officer", "--password", "long-enough-1"])
    assert added.exit_code == 0, added.output
    ok = runner.invoke(main, ["officers", "absent", "land.haichau", "--deputy", "land2.haichau", "--from",
                              "2099-01-05", "--to", "2099-01-06", "--reason", "nghỉ phép"])
    assert ok.exit_code == 0, ok.output
    lf = build(Settings.from_env())
    try:
        from engine.store import AbsenceRow

        with lf.db.read() as s:
            rows = s.execute(select(AbsenceRow.officer, AbsenceRow.deputy, AbsenceRow.recorded_by)).all()
        assert [tuple(r) for r in rows] == [("land.haichau", "land2.haichau", "system:cli")]
    finally:
        lf.close()


def test_deploy_with_an_effective_date(env: dict[str, str], tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["init", "--no-procedures"]).exit_code == 0
    path = tmp_path / "small.bpmn"
    path.write_bytes(small_procedure().to_xml())
    assert runner.invoke(main, ["deploy", str(path), "--effective-from", "2000-01-01"]).exit_code == 2
    result = runner.invoke(main, ["deploy", str(path), "--effective-from", "2999-01-01"])
    assert result.exit_code == 0 and "small_test v1 deployed (in force from 2999-01-01)" in result.output
    lf = build(Settings.from_env())
    with lf.db.read() as s:
        row = s.scalars(select(ProcedureVersionRow)).one()
    lf.close()
    assert row.effective_from is not None and row.effective_from.isoformat() == "2999-01-01"
