"""The `landflow` command line (click).

Every command builds the engine from settings (environment variables, see README) and passes it
down; nothing here reaches the database except through the engine.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from config.settings import ROOT, Settings
from engine import audit
from engine.bootstrap import Landflow, build, bundled_procedure_files, load_bundled_organisation, seed
from engine.definitions import check
from engine.definitions.lint import CLEAR, lint
from engine.definitions.registry import deploy
from engine.history import replay, verify
from engine.store import DossierRow
from engine.store.migrate import upgrade

console = Console()
WORKFLOWS = ROOT / "workflows"


def _landflow() -> Landflow:
    return build(Settings.from_env())


@click.group()
def main() -> None:
    """landflow: land-record dossiers under Vietnam's two-level local government."""


@main.command()
@click.option("--no-procedures", is_flag=True, help="do not deploy the bundled procedures")
def init(no_procedures: bool) -> None:
    """Create or upgrade the database, load the organisation, deploy the bundled procedures."""
    lf = _landflow()
    try:
        lf.settings.var_dir.mkdir(parents=True, exist_ok=True)
        upgrade(lf.db.engine)
        org = load_bundled_organisation(lf.settings)
        seed(lf, org, with_officers=lf.settings.demo)
        console.print(f"database ready ({lf.db.dialect}); {len(org.units)} units, "
                      f"{len(org.officers) if lf.settings.demo else 0} demo officers")
        if not no_procedures:
            roles = lf.directory.get().step_roles()
            for bpmn, dmns in bundled_procedure_files(WORKFLOWS):
                checked, problems = check(bpmn.read_bytes(), [d.read_bytes() for d in dmns], roles,
                                          lf.settings.max_bpmn_bytes)
                if checked is None:
                    _print_problems(bpmn.name, problems)
                    raise click.ClickException(f"bundled procedure {bpmn.name} does not validate")
                result = deploy(lf.db, checked, "system:init", lf.clock.now())
                state = "deployed" if result.created else "unchanged"
                console.print(f"  {result.key} v{result.version} {state}")
    finally:
        lf.close()


def _print_problems(name: str, problems: list[Any]) -> None:
    table = Table(title=f"{name}: {len(problems)} problem(s)")
    for col in ("element", "rule", "message"):
        table.add_column(col)
    for p in problems:
        table.add_row(p.element, p.rule, p.message)
    console.print(table)


def _read_files(path: Path, dmn: tuple[Path, ...]) -> tuple[bytes, list[bytes]]:
    dmns = list(dmn) or sorted(path.parent.glob(f"{path.stem}*.dmn"))
    return path.read_bytes(), [d.read_bytes() for d in dmns]


@main.command("lint")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dmn", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="machine-readable report")
def lint_cmd(file: Path, dmn: tuple[Path, ...], as_json: bool) -> None:
    """Report a BPMN file's problems and the "6 clear" completeness of its steps."""
    settings = Settings.from_env()
    from config.organisation import load_roles

    roles = {r.code for r in load_roles(settings.organisation_dir / "roles.toml").values() if r.owns_steps}
    bpmn, dmns = _read_files(file, dmn)
    report = lint(bpmn, dmns, roles, settings.max_bpmn_bytes)
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        if report.problems:
            _print_problems(file.name, report.problems)
        table = Table(title=f"{report.key}: 6 clear ({report.completeness:.0%})")
        table.add_column("step")
        for c in CLEAR:
            table.add_column(c)
        for step, cells in report.six_clear.items():
            table.add_row(step, *("✓" if cells[c] else "✗" for c in CLEAR))
        console.print(table)
    sys.exit(0 if report.ok else 1)


@main.command("deploy")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dmn", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "actor", default="system:cli", show_default=True, help="recorded as the deployer")
def deploy_cmd(file: Path, dmn: tuple[Path, ...], actor: str) -> None:
    """Validate and deploy a procedure file (with its DMN files)."""
    lf = _landflow()
    try:
        bpmn, dmns = _read_files(file, dmn)
        checked, problems = check(bpmn, dmns, lf.directory.get().step_roles(), lf.settings.max_bpmn_bytes)
        if checked is None:
            audit.append(lf.db, "deploy_refused", actor, None, lf.clock.now(), {"problems": len(problems)})
            _print_problems(file.name, problems)
            sys.exit(1)
        result = deploy(lf.db, checked, actor, lf.clock.now())
        console.print(f"{result.key} v{result.version} {'deployed' if result.created else 'unchanged'}")
    finally:
        lf.close()


def _dossier_id(lf: Landflow, ref: str) -> int:
    from sqlalchemy import select

    with lf.db.read() as s:
        if ref.isdigit() and s.get(DossierRow, int(ref)) is not None:
            return int(ref)
        found = s.scalar(select(DossierRow.id).where(DossierRow.code == ref))
    if found is None:
        raise click.ClickException(f"no dossier {ref}")
    return found


@main.command("replay")
@click.argument("dossier")
@click.option("--at", type=int, default=None, help="state right after event N")
def replay_cmd(dossier: str, at: int | None) -> None:
    """Show a dossier as it stood after event N (default: now), rebuilt from its events."""
    lf = _landflow()
    try:
        did = _dossier_id(lf, dossier)
        with lf.db.read() as s:
            r = replay(s, lf.procedures, did, at)
        st = r.state
        console.print(f"[bold]{st.code}[/] {st.procedure} — {st.status}"
                      f" (as of event {st.last_seq}{', ' + str(r.at) if r.at else ''})")
        console.print(f"due {st.due_at}  paused since {st.paused_at}" if st.paused_at else f"due {st.due_at}")
        table = Table("item", "step", "role", "unit", "assignee", "state", "due")
        for i in sorted(st.items.values(), key=lambda x: x.ordinal):
            table.add_row(str(i.ordinal), i.step, i.role, i.unit or "", i.assignee or "", i.state, str(i.due_at))
        console.print(table)
        for p in r.problems:
            console.print(f"[red]{p}[/]")
    finally:
        lf.close()


@main.command("verify")
@click.argument("dossier", required=False)
@click.option("--all", "all_", is_flag=True, help="every dossier")
def verify_cmd(dossier: str | None, all_: bool) -> None:
    """Check hash chains and replays; exit 1 at the first inconsistency found."""
    from sqlalchemy import select

    lf = _landflow()
    try:
        if all_:
            with lf.db.read() as s:
                ids = list(s.scalars(select(DossierRow.id).order_by(DossierRow.id)))
        elif dossier:
            ids = [_dossier_id(lf, dossier)]
        else:
            raise click.UsageError("name a dossier or use --all")
        bad = 0
        with console.status("verifying") if all_ else _null():
            for did in ids:
                with lf.db.read() as s:
                    result = verify(s, lf.procedures, did)
                if not result.ok:
                    bad += 1
                    console.print(f"[red]dossier {did}: first bad event {result.first_bad_seq}[/]: "
                                  + "; ".join(result.problems[:3]))
        if all_:
            with lf.db.read() as s:
                ok, seq = audit.verify_log(s)
            if not ok:
                bad += 1
                console.print(f"[red]audit log: first bad entry {seq}[/]")
        console.print(f"{len(ids)} dossier(s) checked, {bad} inconsistent")
        sys.exit(1 if bad else 0)
    finally:
        lf.close()


class _null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


if __name__ == "__main__":
    main()
