"""`landflow lint` and `landflow deploy` with call activities (decision 0166): lint knows the bundled
fragments and those named with --fragment; deploy binds to the fragments deployed in the database."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from api.cli import main
from bench.fragment_builder import caller_procedure, posting_fragment
from config.settings import Settings
from engine.bootstrap import build
from engine.store import ProcedureVersionRow
from tests.api.test_cli import env  # noqa: F401 (the fixture)


def test_lint_names_the_missing_fragment_and_knows_the_bundled_ones(tmp_path: Path) -> None:
    caller = tmp_path / "caller.bpmn"
    caller.write_bytes(caller_procedure("caller_x", "X", sla="P8D", fragment="public_posting").to_xml())
    result = CliRunner().invoke(main, ["lint", str(caller)])
    assert result.exit_code == 0, result.output
    missing = tmp_path / "missing.bpmn"
    missing.write_bytes(caller_procedure("caller_y", "Y", fragment="posting_test").to_xml())
    result = CliRunner().invoke(main, ["lint", "--json", str(missing)])
    assert result.exit_code == 1
    [problem] = json.loads(result.output)["problems"]
    assert (problem["element"], problem["rule"]) == ("posting", "fragment.missing")
    assert "posting_test" in problem["message"]
    fragment = tmp_path / "posting.bpmn"
    fragment.write_bytes(posting_fragment().to_xml())
    result = CliRunner().invoke(main, ["lint", "--fragment", str(fragment), str(missing)])
    assert result.exit_code == 0, result.output


def test_deploy_binds_to_the_fragment_in_the_database(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    runner = CliRunner()
    assert runner.invoke(main, ["init"]).exit_code == 0
    caller = tmp_path / "caller.bpmn"
    caller.write_bytes(caller_procedure("caller_x", "X", sla="P8D", fragment="financial_obligations").to_xml())
    result = runner.invoke(main, ["deploy", str(caller)])
    assert result.exit_code == 0 and "caller_x v1 deployed" in result.output, result.output
    lf = build(Settings.from_env())
    with lf.db.read() as s:
        meta = json.loads(s.scalar(select(ProcedureVersionRow.meta).where(ProcedureVersionRow.key == "caller_x")))
    lf.close()
    assert [(b["key"], b["version"]) for b in meta["fragments"]] == [("financial_obligations", 1)]
