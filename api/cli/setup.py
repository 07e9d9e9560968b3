"""`landflow init`: database, signing key, organisation, demo accounts (demo mode only), bundled procedures."""

from __future__ import annotations

from collections.abc import Callable

import click

from engine import accounts
from engine.bootstrap import Landflow, bundled_procedure_files, load_bundled_organisation, seed
from engine.checkpoints import ensure_key
from engine.definitions import check
from engine.definitions.fragment_store import database_fragments
from engine.definitions.registry import deploy
from engine.store.migrate import upgrade

from .common import WORKFLOWS, console, landflow, print_problems

DEMO_PASSWORD = "demo"


def initialise(lf: Landflow, procedures: bool = True, say: Callable[[str], None] = console.print) -> None:
    """Migrate, create the checkpoint signing key, load the organisation (and, in demo mode, the demo
    officers with password `demo`), deploy the bundled procedures. Idempotent: run it on every start."""
    lf.settings.var_dir.mkdir(parents=True, exist_ok=True)
    upgrade(lf.db.engine)
    if ensure_key(lf.settings.checkpoint_key):
        say(f"checkpoint signing key created: {lf.settings.checkpoint_key} (keep it out of backups "
            "of the database; never commit it)")
    org = load_bundled_organisation(lf.settings)
    seed(lf, org, with_officers=lf.settings.demo)
    if lf.settings.demo:
        from ..auth import hash_password

        # one scrypt hash for every demo account: they share the published password anyway
        accounts.mark_demo(lf.db, [o.username for o in org.officers], hash_password(DEMO_PASSWORD))
        lf.directory.refresh()
    say(f"database ready ({lf.db.dialect}); {len(org.units)} units, "
        f"{len(org.officers) if lf.settings.demo else 0} demo officers")
    if not procedures:
        return
    roles = lf.directory.get().step_roles()
    for bpmn, dmns in bundled_procedure_files(WORKFLOWS):
        with lf.db.read() as s:  # fragments first (bundled_procedure_files), so their callers find them
            checked, problems = check(bpmn.read_bytes(), [d.read_bytes() for d in dmns], roles,
                                      lf.settings.max_bpmn_bytes, fragments=database_fragments(s, lf.clock.now()))
        if checked is None:
            print_problems(bpmn.name, problems)
            raise click.ClickException(f"bundled procedure {bpmn.name} does not validate")
        result = deploy(lf.db, checked, "system:init", lf.clock.now())
        say(f"  {result.key} v{result.version} {'deployed' if result.created else 'unchanged'}")


@click.command()
@click.option("--no-procedures", is_flag=True, help="do not deploy the bundled procedures")
def init(no_procedures: bool) -> None:
    """Create or upgrade the database, load the organisation, deploy the bundled procedures."""
    lf = landflow()
    try:
        initialise(lf, not no_procedures)
        if lf.settings.demo:  # the demo CA, its root trusted, the seal (docs/signatures.md)
            from ..demo_pki import ensure_demo_pki

            for line in ensure_demo_pki(lf):
                console.print(line)
    finally:
        lf.close()


COMMANDS = [init]
