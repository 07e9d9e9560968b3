"""`landflow replay` and `landflow verify`."""

from __future__ import annotations

import sys

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select

from engine import audit
from engine.bootstrap import Landflow
from engine.history import replay, verify
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
@click.option("--all", "all_", is_flag=True, help="every dossier, and the audit log")
def verify_cmd(dossier: str | None, all_: bool) -> None:
    """Check hash chains and replays; exit 1 when anything is inconsistent."""
    lf = landflow()
    try:
        if all_:
            with lf.db.read() as s:
                ids = list(s.scalars(select(DossierRow.id).order_by(DossierRow.id)))
        elif dossier:
            ids = [dossier_id(lf, dossier)]
        else:
            raise click.UsageError("name a dossier or use --all")
        bad = 0
        columns = (TextColumn("verifying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, disable=not all_) as bar:
            task = bar.add_task("verify", total=len(ids))
            for did in ids:
                with lf.db.read() as s:
                    result = verify(s, lf.procedures, did)
                if not result.ok:
                    bad += 1
                    console.print(f"[red]dossier {did}: first bad event {result.first_bad_seq}[/]: "
                                  + "; ".join(result.problems[:3]))
                bar.advance(task)
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


COMMANDS = [replay_cmd, verify_cmd]
