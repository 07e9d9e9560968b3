"""`landflow migrate plan|run|status`: move running dossiers to a later version of their procedure."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.table import Table

from engine.bootstrap import Landflow
from engine.migration import runs
from engine.migration.plan import DEADLINE_RULES
from engine.org import Officer
from engine.runtime import CommandRefused

from ..migration_csv import plan_csv
from .common import console, landflow


def _mapping(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        old, sep, new = pair.partition("=")
        if not sep or not old or not new:
            raise click.BadParameter(f"{pair!r}: write old_step=new_step", param_hint="--map")
        out[old.strip()] = new.strip()
    return out


def _officer(lf: Landflow, username: str) -> Officer:
    officer = lf.directory.get().officers.get(username)
    if officer is None:
        raise click.BadParameter(f"no officer {username!r}", param_hint="--as")
    return officer


def _options(f: click.decorators.FC) -> click.decorators.FC:
    for option in reversed([
        click.argument("procedure"),
        click.option("--from", "from_version", type=int, required=True, help="the version the dossiers are on"),
        click.option("--to", "to_version", type=int, required=True, help="the later version to move them to"),
        click.option("--map", "pairs", multiple=True, metavar="OLD=NEW", help="an open step's step in the new version"),
        click.option("--deadlines", type=click.Choice(DEADLINE_RULES), default="keep", show_default=True),
        click.option("--as", "username", default="supervisor", show_default=True,
                     help="the officer (a supervisor) recorded as acting"),
    ]):
        f = option(f)
    return f


@click.group("migrate")
def migrate() -> None:
    """Move running dossiers to a later version of their procedure (supervisors)."""


@migrate.command("plan")
@_options
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path), default=None)
def plan_cmd(procedure: str, from_version: int, to_version: int, pairs: tuple[str, ...], deadlines: str,
             username: str, csv_path: Path | None) -> None:
    """The dry run: what would happen to each running dossier. Changes nothing."""
    lf = landflow()
    try:
        plan = runs.make(lf.runtime, _officer(lf, username), procedure, from_version, to_version, _mapping(pairs),
                         deadlines)
    except CommandRefused as err:
        console.print(f"refused: {err.message}")
        sys.exit(1)
    finally:
        lf.close()
    for problem in plan.problems:
        console.print(f"problem: {problem}")
    if csv_path is not None:
        text = plan_csv(plan)
        if str(csv_path) == "-":
            click.echo(text, nl=False)
        else:
            csv_path.write_text(text, encoding="utf-8")
    else:
        table = Table(title=f"{procedure} v{from_version} → v{to_version}: {plan.counts()}")
        for col in ("code", "status", "moves", "why"):
            table.add_column(col)
        for d in plan.dossiers:
            table.add_row(d.code, d.status, ", ".join(f"{m.from_step}→{m.to_step}" for m in d.moves),
                          d.detail + (f" (suggested: {d.suggestion})" if d.suggestion else ""))
        console.print(table)
    sys.exit(1 if plan.problems else 0)


@migrate.command("run")
@_options
@click.option("--batch", "size", type=click.IntRange(1, 500), default=runs.BATCH, show_default=True)
def run_cmd(procedure: str, from_version: int, to_version: int, pairs: tuple[str, ...], deadlines: str,
            username: str, size: int) -> None:
    """Plan, then move every movable dossier in batches; report those not moved."""
    lf = landflow()
    try:
        officer = _officer(lf, username)
        plan = runs.make(lf.runtime, officer, procedure, from_version, to_version, _mapping(pairs), deadlines)
        status = runs.start(lf.runtime, officer, plan)
        while not status.finished:
            status = runs.batch(lf.runtime, officer, status.id, size)
            console.print(f"run {status.id}: {status.handled}/{status.total} ({status.percent}%)")
    except CommandRefused as err:
        console.print(f"refused: {err.message}")
        sys.exit(1)
    finally:
        lf.close()
    _print_status(status)


@migrate.command("status")
@click.argument("run_id", type=int)
@click.option("--as", "username", default="supervisor", show_default=True, help="the officer (a supervisor) reading it")
def status_cmd(run_id: int, username: str) -> None:
    """A run's progress and the dossiers it did not move."""
    lf = landflow()
    try:
        runs.guard(lf.runtime, _officer(lf, username), "migration_status")
        status = runs.status(lf.runtime, run_id)
    except CommandRefused as err:
        console.print(f"refused: {err.message}")
        sys.exit(1)
    finally:
        lf.close()
    _print_status(status)


def _print_status(status: runs.RunStatus) -> None:
    console.print(f"run {status.id}: {status.procedure} v{status.from_version} → v{status.to_version}, "
                  f"moved {status.moved}, skipped {status.skipped}, {status.handled}/{status.total}"
                  f"{' (finished)' if status.finished else ''}")
    for entry in status.report:
        console.print(f"not moved: {entry['code']} ({entry['outcome']}: {entry.get('reason') or ''}) {entry['detail']}")


COMMANDS = [migrate]
