"""`landflow officers add|list|deactivate|keygen|certificate|absent`: accounts, for the operator at the console.

The command line acts as an administrator (`system:cli` in the audit log): it is how the first
admin of a real deployment is made, before anyone can sign in to the API.
"""

from __future__ import annotations

from datetime import datetime

import click
from rich.table import Table

from engine import accounts
from engine.absences import Absences
from engine.runtime import CommandRefused

from ..auth import hash_password
from .audit import keygen
from .common import console, landflow
from .signing import certificate


@click.group()
def officers() -> None:
    """Officer accounts and signing keys."""


@officers.command("add")
@click.argument("username")
@click.option("--name", required=True, help="full name")
@click.option("--unit", required=True, help="unit code (see GET /api/v1/units)")
@click.option("--role", "roles", multiple=True, required=True, help="role code; repeat for several")
@click.password_option(help="prompted (twice) when not given")
def add(username: str, name: str, unit: str, roles: tuple[str, ...], password: str) -> None:
    """Add an officer with a password (stored as a scrypt hash)."""
    if len(password) < 8:
        raise click.BadParameter("at least 8 characters", param_hint="--password")
    lf = landflow()
    try:
        account = accounts.add_account(lf.db, accounts.CLI_ACTOR, lf.clock.now(), username, name, unit, roles,
                                       hash_password(password))
    except CommandRefused as err:
        raise click.ClickException(err.message) from None
    finally:
        lf.close()
    console.print(f"officer {account.username} added to {account.unit} ({', '.join(account.roles)})")


@officers.command("list")
@click.option("--unit", default=None, help="only this unit")
def list_(unit: str | None) -> None:
    """List officers with their unit, roles and state."""
    lf = landflow()
    try:
        rows = accounts.list_accounts(lf.db, unit)
    finally:
        lf.close()
    table = Table("username", "name", "unit", "roles", "active", "demo", "password")
    for a in rows:
        table.add_row(a.username, a.name, a.unit, " ".join(a.roles), "yes" if a.active else "no",
                      "yes" if a.demo else "", "set" if a.password_hash else "none")
    console.print(table)
    console.print(f"{len(rows)} officer(s)")


@officers.command("deactivate")
@click.argument("username")
def deactivate(username: str) -> None:
    """Disable an account and revoke its tokens."""
    lf = landflow()
    try:
        accounts.set_active(lf.db, accounts.CLI_ACTOR, lf.clock.now(), username, False)
    except CommandRefused as err:
        raise click.ClickException(err.message) from None
    finally:
        lf.close()
    console.print(f"officer {username} deactivated")


@officers.command("absent")
@click.argument("username")
@click.option("--deputy", required=True, help="an officer of the same unit holding the same step roles")
@click.option("--from", "first", required=True, type=click.DateTime(["%Y-%m-%d"]), help="first day (local)")
@click.option("--to", "last", required=True, type=click.DateTime(["%Y-%m-%d"]), help="last day (included)")
@click.option("--reason", required=True)
def absent(username: str, deputy: str, first: datetime, last: datetime, reason: str) -> None:
    """Record an absence: the officer's open items go to the deputy while it lasts (engine/absences.py)."""
    lf = landflow()
    try:
        row = Absences(lf).record(accounts.CLI_ACTOR, username, deputy, first.date(), last.date(), reason)
    except CommandRefused as err:
        raise click.ClickException(f"{err.code}: {err.message}") from None
    finally:
        lf.close()
    console.print(f"absence {row.id}: {username} absent {first.date()} – {last.date()}, deputy {deputy}")


officers.add_command(keygen)
officers.add_command(certificate)
COMMANDS = [officers]
