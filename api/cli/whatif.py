"""`landflow whatif PROC FILE.bpmn`: a candidate version against the version in force, on recent dossiers."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import click
from rich.table import Table

from engine.whatif import MAX_MONTHS, Variant, WhatIfRefused, WhatIfReport, what_if

from .common import console, landflow, print_problems
from .procedures import FILE, read_files


def _rate(v: Variant) -> str:
    rate = v.on_time_rate
    return "—" if rate is None else f"{rate:.1%}"


def print_report(r: WhatIfReport) -> None:
    console.print(f"{r.procedure}: dossiers received {r.start:%d/%m/%Y} – {r.end:%d/%m/%Y} ({r.months} months), "
                  f"seed {r.seed}")
    table = Table(title="what-if")
    for col in ("", f"in force (v{r.in_force.version})", "candidate"):
        table.add_column(col)
    a, b = r.in_force, r.candidate
    table.add_row("dossiers simulated", str(len(a.ran)), str(len(b.ran)))
    table.add_row("on time", _rate(a), _rate(b))
    table.add_row("late dossiers", str(len(a.late)), str(len(b.late)))
    table.add_row("not simulated", str(len(a.outcomes) - len(a.ran)), str(len(b.outcomes) - len(b.ran)))
    table.add_row("bottlenecks", ", ".join(s.step for s in a.bottlenecks) or "—",
                  ", ".join(s.step for s in b.bottlenecks) or "—")
    console.print(table)
    steps = Table(title="mean wait in the unit's queue (working hours)")
    for col in ("step", "unit", "in force", "candidate", "duration from"):
        steps.add_column(col)
    for name in sorted(set(a.steps) | set(b.steps)):
        sa, sb = a.steps.get(name), b.steps.get(name)
        either = sb or sa
        assert either is not None
        steps.add_row(name, either.unit, f"{sa.mean_wait / 60:.1f}" if sa else "—",
                      f"{sb.mean_wait / 60:.1f}" if sb else "—", either.source)
    console.print(steps)
    if r.new_bottlenecks:
        console.print("new bottlenecks: " + ", ".join(r.new_bottlenecks))


@click.command("whatif")
@click.argument("procedure")
@click.argument("file", type=FILE)
@click.option("--dmn", multiple=True, type=FILE)
@click.option("--months", type=click.IntRange(1, MAX_MONTHS), default=6, show_default=True,
              help="months of history to replay, ending now")
@click.option("--seed", type=click.IntRange(0, 2**31 - 1), default=1, show_default=True,
              help="the same seed gives the same report")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="the window's last day (default today)")
@click.option("--json", "as_json", is_flag=True, help="machine-readable report")
def whatif_cmd(procedure: str, file: Path, dmn: tuple[Path, ...], months: int, seed: int,
               until: datetime | None, as_json: bool) -> None:
    """Predict what a candidate version would have done with the last months' dossiers (docs/whatif.md)."""
    lf = landflow()
    try:
        bpmn, dmns = read_files(file, dmn)
        try:
            report = what_if(lf, procedure, bpmn, dmns, months=months, seed=seed,
                             until=until.date() if until else None)
        except WhatIfRefused as err:
            if err.problems:
                print_problems(file.name, err.problems)
            console.print(f"[red]{err.code}[/red]: {err.detail}")
            sys.exit(1)
        if as_json:
            click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        else:
            print_report(report)
    finally:
        lf.close()


COMMANDS = [whatif_cmd]
