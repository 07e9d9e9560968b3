"""`landflow replay` and `landflow verify`."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from rich.table import Table
from sqlalchemy import select

from config.settings import Settings
from engine.backup.coverage import Coverage, coverage
from engine.bootstrap import Landflow
from engine.checkpoints import has_key, verifying_ring
from engine.history import replay, verify
from engine.integrity import verify_everything
from engine.store import DossierRow

from .common import console, landflow


def dossier_id(lf: Landflow, ref: str) -> int:
    """A dossier by id or by code."""
    with lf.db.read() as s:
        if ref.isdigit() and s.get(DossierRow, int(ref)) is not None:
            return int(ref)
        found = s.scalar(select(DossierRow.id).where(DossierRow.code == ref))
    if found is None:
        raise click.ClickException(f"no dossier {ref}")
    return found


@click.command("replay")
@click.argument("dossier")
@click.option("--at", type=int, default=None, help="state right after event N")
def replay_cmd(dossier: str, at: int | None) -> None:
    """Show a dossier as it stood after event N (default: now), rebuilt from its events."""
    lf = landflow()
    try:
        did = dossier_id(lf, dossier)
        with lf.db.read() as s:
            r = replay(s, lf.procedures, did, at)
        st = r.state
        console.print(f"[bold]{st.code}[/] {st.procedure} — {st.status} (as of event {st.last_seq}, {r.at})")
        console.print(f"due {st.due_at}" + (f", clock paused since {st.paused_at}" if st.paused_at else ""))
        table = Table("item", "step", "role", "unit", "assignee", "state", "due")
        for i in sorted(st.items.values(), key=lambda x: x.ordinal):
            table.add_row(str(i.ordinal), i.step, i.role, i.unit or "", i.assignee or "", i.state, str(i.due_at))
        console.print(table)
        for p in r.problems:
            console.print(f"[red]{p}[/]")
    finally:
        lf.close()


@click.command("verify")
@click.argument("dossier", required=False)
@click.option("--all", "all_", is_flag=True, help="every dossier, the audit log and the signed checkpoints")
@click.option("--workers", type=click.IntRange(1, 256), default=None,
              help="verifying processes (default: one per core)")
@click.option("--chains", is_flag=True, help="with --all: hash chains, audit log and checkpoints only (no replay)")
@click.option("--copies", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="with --all: the checkpoint copies kept outside the database (default LANDFLOW_CHECKPOINT_COPIES)")
@click.option("--full", is_flag=True, help="with --all: replay every dossier, even those unchanged since they "
              "last passed (the memo of verified heads is rebuilt)")
def verify_cmd(dossier: str | None, all_: bool, workers: int | None, chains: bool, copies: Path | None,
               full: bool) -> None:
    """Check hash chains, replays, signatures and checkpoints; exit 1 when anything is inconsistent."""
    lf = landflow()
    try:
        if all_:
            started = time.perf_counter()
            with console.status("verifying") as status:
                report = verify_everything(lf.db, lf.procedures, lf.settings.checkpoint_key,
                                           lambda n: status.update(f"verifying: {n} dossier(s)"), workers,
                                           replay=not chains, blobs=lf.blobs, memo=memo_path(lf.settings, full))
            seconds = time.perf_counter() - started
            cover = what_the_database_holds(lf, copies or lf.settings.checkpoint_copies)
            report.findings += cover.findings
            for f in report.findings[:20]:
                console.print(f"[red]{f['layer']}[/]: {f['message']}")
            if report.first is not None:
                console.print(f"[bold red]first inconsistency[/]: {report.first['message']}")
            console.print(f"{report.dossiers} dossier(s) and {report.checkpoints} checkpoint(s) checked, "
                          f"{len(report.findings)} finding(s)")
            for line in cover.lines():
                console.print(line, highlight=False)
            console.print(f"{report.events} events in {seconds:.1f} s ({report.events / max(seconds, 1e-9):,.0f} "
                          "events/s)")
            sys.exit(1 if report.findings else 0)
        if not dossier:
            raise click.UsageError("name a dossier or use --all")
        did = dossier_id(lf, dossier)
        with lf.db.read() as s:
            result = verify(s, lf.procedures, did, lf.blobs)
        if not result.ok:
            console.print(f"[red]dossier {did}: first bad event {result.first_bad_seq}[/]: "
                          + "; ".join(result.problems[:3]))
        console.print(f"1 dossier(s) checked, {0 if result.ok else 1} inconsistent")
        sys.exit(0 if result.ok else 1)
    finally:
        lf.close()


def what_the_database_holds(lf: Landflow, copies: Path) -> Coverage:
    """The last checkpoint covered, the events after it, and what the copies outside say is missing.
    Every public key the checkpoint key ever had (its signed history, after a rotation) is passed:
    `coverage` checks each copy with the one its key_id names."""
    key = lf.settings.checkpoint_key
    public = [p for p, _, _ in verifying_ring(key).keys.values()] if has_key(key) else None
    with lf.db.read() as s:
        return coverage(s, public, copies)


def memo_path(settings: Settings, full: bool) -> Path:
    """The memo of verified heads (engine/verified.py): in the var dir, outside the database. `--full`
    starts it afresh, so every dossier is replayed and recorded again."""
    path = settings.var_dir / "verified.sqlite3"
    if full:
        path.unlink(missing_ok=True)
    return path


COMMANDS = [replay_cmd, verify_cmd]
