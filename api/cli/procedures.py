"""`landflow lint` and `landflow deploy`."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import click
from rich.table import Table

from config.organisation import load_roles
from config.settings import Settings
from engine import audit
from engine.definitions import check
from engine.definitions.fragment_store import database_fragments, folder_fragments
from engine.definitions.lint import CLEAR, lint
from engine.definitions.registry import deploy
from engine.definitions.versions import local_day
from engine.events import DeployRefused

from .common import WORKFLOWS, console, landflow, print_problems

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def read_files(path: Path, dmn: tuple[Path, ...]) -> tuple[bytes, list[bytes]]:
    """The BPMN and its DMN files: those named, else those beside it sharing its stem."""
    dmns = list(dmn) or sorted(path.parent.glob(f"{path.stem}*.dmn"))
    return path.read_bytes(), [d.read_bytes() for d in dmns]


@click.command("lint")
@click.argument("file", type=FILE)
@click.option("--dmn", multiple=True, type=FILE)
@click.option("--json", "as_json", is_flag=True, help="machine-readable report")
@click.option("--fragment", "fragment", multiple=True, type=FILE,
              help="a fragment file its call activities may call (besides the bundled workflows/fragments/)")
def lint_cmd(file: Path, dmn: tuple[Path, ...], as_json: bool, fragment: tuple[Path, ...]) -> None:
    """Report a BPMN file's problems and the "6 clear" completeness of its steps."""
    settings = Settings.from_env()
    roles = {r.code for r in load_roles(settings.organisation_dir / "roles.toml").values() if r.owns_steps}
    bpmn, dmns = read_files(file, dmn)
    fragments = folder_fragments([*sorted((WORKFLOWS / "fragments").glob("*.bpmn")), *fragment])
    report = lint(bpmn, dmns, roles, settings.max_bpmn_bytes, fragments)
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        if report.problems:
            print_problems(file.name, report.problems)
        table = Table(title=f"{report.key}: 6 clear ({report.completeness:.0%})")
        table.add_column("step")
        for c in CLEAR:
            table.add_column(c)
        for step, cells in report.six_clear.items():
            table.add_row(step, *("✓" if cells[c] else "✗" for c in CLEAR))
        console.print(table)
    sys.exit(0 if report.ok else 1)


@click.command("deploy")
@click.argument("file", type=FILE)
@click.option("--dmn", multiple=True, type=FILE)
@click.option("--as", "actor", default="system:cli", show_default=True, help="recorded as the deployer")
@click.option("--effective-from", "effective_from", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="the day (YYYY-MM-DD, Asia/Ho_Chi_Minh) from which received dossiers use it; default: at once")
def deploy_cmd(file: Path, dmn: tuple[Path, ...], actor: str, effective_from: datetime | None) -> None:
    """Validate and deploy a procedure file (with its DMN files)."""
    lf = landflow()
    day = effective_from.date() if effective_from is not None else None
    try:
        if day is not None and day < local_day(lf.clock.now()):
            raise click.BadParameter(f"{day.isoformat()} is before today", param_hint="--effective-from")
        bpmn, dmns = read_files(file, dmn)
        with lf.db.read() as s:
            checked, problems = check(bpmn, dmns, lf.directory.get().step_roles(), lf.settings.max_bpmn_bytes,
                                      fragments=database_fragments(s, lf.clock.now()))
        if checked is None:
            refused = DeployRefused(problems=len(problems))
            audit.append(lf.db, refused.kind, actor, None, lf.clock.now(), refused.to_payload())
            print_problems(file.name, problems)
            sys.exit(1)
        result = deploy(lf.db, checked, actor, lf.clock.now(), day)
        when = f" (in force from {day.isoformat()})" if day is not None and result.created else ""
        console.print(f"{result.key} v{result.version} {'deployed' if result.created else 'unchanged'}{when}")
    finally:
        lf.close()


COMMANDS = [lint_cmd, deploy_cmd]
