"""The `landflow` command line (click).

One module per group of commands; each adds itself to `main` here. Every command builds the engine
from settings and passes it down; nothing here reaches the database except through the engine.
"""

from __future__ import annotations

import click

from . import (
    audit,
    backup,
    bench,
    demo,
    dossiers,
    keys,
    migration,
    notify,
    officers,
    procedures,
    server,
    setup,
    signing,
    whatif,
)


@click.group()
def main() -> None:
    """landflow: land-record dossiers under Vietnam's two-level local government."""


for module in (setup, procedures, dossiers, bench, audit, demo, officers, server, keys, backup, notify, whatif,
               signing, migration):
    for command in module.COMMANDS:
        main.add_command(command)
