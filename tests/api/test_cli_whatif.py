"""`landflow whatif PROC FILE.bpmn --months 6 --seed 1`, in-process against a real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.cli import main
from config.settings import Settings
from engine.bootstrap import build
from tests.support.bpmn_builder import small_procedure


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {"LANDFLOW_VAR_DIR": str(tmp_path / "var"), "LANDFLOW_DEMO": "1",
              "LANDFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'lf.db'}"}
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    return values


def test_whatif_compares_a_candidate_with_the_version_in_force(env: dict[str, str], tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["init", "--no-procedures"]).exit_code == 0
    current = tmp_path / "small.bpmn"
    current.write_bytes(small_procedure().to_xml())
    assert runner.invoke(main, ["deploy", str(current)]).exit_code == 0
    lf = build(Settings.from_env())
    desk = lf.directory.get().officers["desk.haichau"]
    for n in range(3):
        st = lf.runtime.open(desk, "small_test", "20242", {"name": f"Người nộp {n}"}, {})
        lf.runtime.complete(desk, st.open_items()[0].id or 0, {"complete": True})
    lf.close()
    slower = small_procedure()
    slower.nodes[1].props["sla"] = "P2D"  # the reception step takes a day more
    candidate = tmp_path / "candidate.bpmn"
    candidate.write_bytes(slower.to_xml())

    args = ["whatif", "small_test", str(candidate), "--months", "6", "--seed", "1", "--json"]
    first = runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    report = json.loads(first.output)
    assert report["in_force"]["dossiers"] == report["candidate"]["dossiers"] == 3
    assert report["in_force"]["version"] == 1 and report["seed"] == 1
    assert runner.invoke(main, args).output == first.output  # the same seed, the same report

    table = runner.invoke(main, ["whatif", "small_test", str(candidate)])
    assert table.exit_code == 0 and "on time" in table.output and "in force (v1)" in table.output

    broken = tmp_path / "broken.bpmn"
    broken.write_bytes(b"<not-bpmn/>")
    refused = runner.invoke(main, ["whatif", "small_test", str(broken)])
    assert refused.exit_code == 1 and "invalid_file" in refused.output
    other = runner.invoke(main, ["whatif", "land_transfer", str(candidate)])
    assert other.exit_code == 1 and "other_procedure" in other.output
