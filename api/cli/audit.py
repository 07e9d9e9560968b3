"""`landflow scheduler | sweep | checkpoint | kpi | export | officers keygen`: deadlines and accountability."""

from __future__ import annotations

import csv
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path

import click
from rich.table import Table

from engine.backup.copies import write_copies
from engine.checkpoints import create_checkpoint
from engine.export import ExportFilter, write_ocel, write_xes
from engine.incident_reads import open_incidents
from engine.kpi import GROUPS, RatingRules, kpi_report
from engine.kpi_facts import refresh_item_facts
from engine.scheduler import SchedulerBusy, Sweeper, run_scheduler
from engine.signatures import new_private_key, public_key_text, read_private_key, register_key, write_private_key

from .common import console, landflow

DATE = click.DateTime(formats=["%Y-%m-%d"])


def _local_day(lf_tz: object, day: date) -> datetime:
    return datetime.combine(day, time(0), lf_tz)  # type: ignore[arg-type]


@click.command("scheduler")
def scheduler_cmd() -> None:
    """Run the deadline sweep and the signed checkpoints in the foreground (`serve` starts one)."""
    lf = landflow()
    try:
        run_scheduler(lf, lambda: console.print(
            f"scheduler: sweep every {lf.settings.sweep_seconds}s, checkpoint every "
            f"{lf.settings.checkpoint_minutes} min ({lf.db.dialect}); Ctrl-C stops"))
    except SchedulerBusy as err:
        raise click.ClickException(f"{err}; on SQLite one scheduler runs at a time") from None
    finally:
        lf.close()


@click.command("sweep")
def sweep_cmd() -> None:
    """Sweep deadlines and timers once, now."""
    lf = landflow()
    try:
        result = Sweeper(lf).sweep()
        if result.skipped:
            console.print("another scheduler is sweeping; nothing done")
            return
        parts = [f"{k} {v}" for k, v in sorted(result.recorded.items())] or ["no notices"]
        console.print(f"swept at {result.at.isoformat()}: " + ", ".join(parts) +
                      f"; {result.timers_fired} timer(s) fired; {result.facts} KPI fact(s)")
        incidents, more = open_incidents(lf.db, limit=50)
        for v in incidents:  # the dossiers a procedure's defect has stopped, for supervisors to move on
            console.print(f"procedure incident: {v.code} ({v.procedure}) at {v.element}, {v.cause or '?'}, "
                          f"open steps: {', '.join(v.open_steps) or 'none'}")
        if more:
            console.print("… more procedure incidents: GET /api/v1/incidents or the /incidents page")
    finally:
        lf.close()


@click.command("checkpoint")
def checkpoint_cmd() -> None:
    """Sign a checkpoint of every dossier's chain head now."""
    lf = landflow()
    try:
        path = lf.settings.checkpoint_key
        if not path.exists():
            raise click.ClickException(f"no checkpoint key at {path}: run `landflow init`")
        cp = create_checkpoint(lf.db, read_private_key(path), lf.clock.now())
        write_copies(lf.db, lf.settings.checkpoint_copies)  # outside the database: docs/operations/backups.md
        console.print(f"checkpoint {cp.id}: {cp.dossiers} dossier(s), {cp.events} event(s), root {cp.root[:16]}…")
    finally:
        lf.close()


@click.command("kpi")
@click.option("--group-by", type=click.Choice(GROUPS), default="officer", show_default=True)
@click.option("--from", "start", type=DATE, default=None, help="first day (local), default: 1 January")
@click.option("--to", "end", type=DATE, default=None, help="day after the last (local), default: tomorrow")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, allow_dash=True), default=None,
              help="write CSV to FILE ('-' for standard output) instead of a table")
@click.option("--six-clear", is_flag=True, help="also show the '6 clear' completeness of each procedure")
def kpi_cmd(group_by: str, start: datetime | None, end: datetime | None, csv_path: str | None,
            six_clear: bool) -> None:
    """KPI per officer, unit or procedure for a period, with the rating levels of config/kpi.toml."""
    lf = landflow()
    try:
        tz = lf.calendar.tz
        now = lf.clock.now()
        today = now.astimezone(tz).date()
        first = _local_day(tz, start.date() if start else date(today.year, 1, 1))
        last = _local_day(tz, end.date() if end else today + timedelta(days=1))
        if last <= first:
            raise click.UsageError("--to must be after --from")
        refresh_item_facts(lf.db, lf.calendar, now)
        with lf.db.read() as s:
            report = kpi_report(s, group_by, first, last, now, RatingRules.load(lf.settings.kpi_file))
        rows = [r.as_dict() for r in report.rows]
        columns = ["key", "handled", "on_time", "on_time_rate", "used_minutes", "allowed_minutes", "sla_use",
                   "overdue_open", "returns", "reroutes", "ping_pongs", "repeat_supplements", "refused_attempts",
                   "idle_claims", "apologies", "escalations", "rating"]
        if csv_path:
            out = sys.stdout if csv_path == "-" else open(csv_path, "w", newline="", encoding="utf-8")  # noqa: SIM115
            try:
                writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
                writer.writeheader()
                writer.writerows(rows)
            finally:
                if out is not sys.stdout:
                    out.close()
            return
        table = Table(title=f"KPI by {group_by}, {first.date()} – {(last - timedelta(days=1)).date()}")
        short = {"on_time_rate": "on time", "sla_use": "SLA used", "overdue_open": "overdue", "returns": "ret",
                 "reroutes": "rer", "ping_pongs": "p-p", "repeat_supplements": "2nd sup", "refused_attempts": "refused",
                 "idle_claims": "idle", "apologies": "apol", "escalations": "esc", "used_minutes": "used min",
                 "allowed_minutes": "allowed min"}
        for c in columns:
            table.add_column(short.get(c, c), justify="left" if c in ("key", "rating") else "right")
        for r in rows:
            table.add_row(*(_cell(r[c]) for c in columns))
        console.print(table)
        dt = Table(title="Dossiers (late rate = (late in progress + late done) / to process)")
        for c in ("", "to process", "done", "on time", "late done", "late in progress", "late rate", "766 pts"):
            dt.add_column(c, justify="right")
        for d in report.dossiers:
            dt.add_row(d.key, str(d.to_process), str(d.done), str(d.done_on_time), str(d.late_done),
                       str(d.late_in_progress), _cell(d.late_rate), _cell(d.points_766))
        console.print(dt)
        if six_clear:
            st = Table("procedure", "version", "6 clear", "missing", title="'6 clear' completeness")
            for p in report.six_clear:
                st.add_row(p["procedure"], str(p["version"]), f"{p['completeness']:.0%}", ", ".join(p["missing"][:6]))
            console.print(st)
    finally:
        lf.close()


def _cell(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


@click.command("export")
@click.option("--xes", "xes_path", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--ocel", "ocel_path", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--procedure", default=None, help="only this procedure (key)")
@click.option("--from", "start", type=DATE, default=None, help="dossiers received on or after this day")
@click.option("--to", "end", type=DATE, default=None, help="dossiers received before this day")
def export_cmd(xes_path: Path | None, ocel_path: Path | None, procedure: str | None, start: datetime | None,
               end: datetime | None) -> None:
    """Export the event log for process mining: XES and/or OCEL 2.0 JSON."""
    if xes_path is None and ocel_path is None:
        raise click.UsageError("name --xes FILE and/or --ocel FILE")
    lf = landflow()
    try:
        tz = lf.calendar.tz
        flt = ExportFilter(procedure, _local_day(tz, start.date()) if start else None,
                           _local_day(tz, end.date()) if end else None)
        if xes_path:
            traces, events = write_xes(lf.db, flt, xes_path)
            console.print(f"{xes_path}: {traces} trace(s), {events} event(s)")
        if ocel_path:
            objects, events = write_ocel(lf.db, flt, ocel_path)
            console.print(f"{ocel_path}: {objects} object(s), {events} event(s)")
    finally:
        lf.close()


# `landflow officers keygen`: registered in the `officers` group of api/cli/officers.py
@click.command("keygen")
@click.argument("username")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="where to write the private key (PEM, mode 0600): the officer keeps it, landflow does not")
@click.option("--force", is_flag=True, help="overwrite an existing key file")
def keygen(username: str, out: Path, force: bool) -> None:
    """Make a signing key pair for an officer and register the public key."""
    if out.exists() and not force:
        raise click.ClickException(f"{out} exists (use --force to replace it)")
    lf = landflow()
    try:
        key = new_private_key()
        public = public_key_text(key.public_key())
        with lf.db.write() as s:
            try:
                register_key(s, username, public, "system:cli", lf.clock.now())
            except LookupError as err:
                raise click.ClickException(str(err)) from None
        write_private_key(key, out)
        console.print(f"{username}: public key {public} registered; private key written to {out}")
    finally:
        lf.close()


COMMANDS = [scheduler_cmd, sweep_cmd, checkpoint_cmd, kpi_cmd, export_cmd]
