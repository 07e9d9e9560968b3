"""`landflow demo`: fill the database with a realistic history (see api/simulation.py)."""

from __future__ import annotations

from datetime import datetime, time

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from config.settings import Settings
from engine import queries
from engine.backup.copies import write_copies
from engine.bootstrap import build
from engine.clock import FixedClock

from ..simulation import Simulation, working_start
from .common import console


@click.command()
@click.option("--dossiers", "count", type=click.IntRange(1, 200_000), default=2000, show_default=True,
              help="how many dossiers to receive over the period")
@click.option("--days", type=click.IntRange(1, 500), default=60, show_default=True, help="working days of history")
@click.option("--seed", type=int, default=2025, show_default=True, help="same seed, same history")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="last day of the history, to 17:00 (default: up to now)")
@click.option("--force", is_flag=True, help="add a history even when the database already has dossiers")
def demo(count: int, days: int, seed: int, until: datetime | None, force: bool) -> None:
    """Receive and work thousands of dossiers over the last working days, through the engine's commands."""
    settings = Settings.from_env()
    probe = build(settings)
    try:
        tz = probe.calendar.tz
        end = datetime.combine(until.date(), time(17, 0), tz) if until else probe.clock.now()
        existing = queries.dossier_count(probe.db)
        start_day = working_start(probe, end.astimezone(tz).date(), days)
    finally:
        probe.close()
    if existing and not force:
        console.print(f"the database already has {existing} dossiers: no demo history added (--force adds one)")
        return
    clock = FixedClock(datetime.combine(start_day, time(0), tz))
    lf = build(settings, clock=clock)
    try:
        try:
            sim = Simulation(lf, clock, seed, end, days)
        except RuntimeError as err:
            raise click.ClickException(str(err)) from None
        columns = (TextColumn("[bold]demo history"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   TextColumn("{task.fields[day]}"))
        with Progress(*columns, console=console, transient=False) as bar:
            task = bar.add_task("dossiers", total=count, day="")
            stats = sim.run(count, lambda n: bar.update(task, completed=n,
                                                        day=clock.now().astimezone(lf.calendar.tz).date().isoformat()))
            bar.update(task, completed=count)
        write_copies(lf.db, settings.checkpoint_copies)  # the demo's checkpoints, outside the database too
        console.print(f"{stats.opened} dossiers from {start_day} to {end.astimezone(tz):%Y-%m-%d %H:%M}: "
                      f"{stats.commands} commands, {stats.refused} refused, {stats.done} finished, "
                      f"{stats.open_at_end} still open; {stats.notices} deadline notices, "
                      f"{stats.checkpoints} signed checkpoints")
    finally:
        lf.close()


COMMANDS = [demo]
