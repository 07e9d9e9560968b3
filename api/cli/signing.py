"""`landflow officers certificate`, `landflow verify-pdf`, `landflow signer-agent` (docs/signatures.md).

`officers certificate USERNAME FILE` registers an officer's signing certificate (PEM with its chain, or
DER): the certificate only, never a key. `verify-pdf FILE.pdf` checks a result PDF's PAdES signatures
with pyHanko's validator against LANDFLOW_TRUST_ROOTS (exit 1 when any fails). `signer-agent` runs on
the officer's own PC (api/signer_agent.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from config.settings import Settings
from engine.certificates import SignatureProblem, describe, read_bundle
from engine.pdfsign import verify_pdf
from engine.signatures import register_key

from .common import console, landflow


@click.command("certificate")
@click.argument("username")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def certificate(username: str, file: Path) -> None:
    """Register an officer's signing certificate (PEM bundle or DER; never a private key)."""
    try:
        bundle = read_bundle(file.read_bytes())
    except SignatureProblem as err:
        raise click.ClickException(f"{err.code}: {err.message}") from None
    lf = landflow()
    try:
        with lf.db.write() as s:
            try:
                register_key(s, username, bundle, "system:cli", lf.clock.now())
            except LookupError as err:
                raise click.ClickException(str(err)) from None
        info = describe(bundle)
        console.print(f"{username}: certificate {info['subject']} (issuer {info['issuer']}, serial {info['serial']}, "
                      f"valid to {info['not_after'][:10]}) registered")
    finally:
        lf.close()


@click.command("verify-pdf")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--roots", type=click.Path(exists=True, path_type=Path), default=None,
              help="trust roots (PEM file or folder); default LANDFLOW_TRUST_ROOTS")
@click.option("--json", "as_json", is_flag=True, help="the result as JSON")
def verify_pdf_cmd(file: Path, roots: Path | None, as_json: bool) -> None:
    """Check a result PDF's PAdES signatures (intact, valid, chained to the trust roots, whole file)."""
    check = verify_pdf(file.read_bytes(), roots or Settings.from_env().trust_roots)
    if as_json:
        click.echo(json.dumps({"ok": check.ok, "signatures": check.signatures, "problems": check.problems},
                              ensure_ascii=False, indent=2))
    else:
        for sig in check.signatures:
            console.print(f"{sig['field']}: signed by {sig['signer']} at {sig['signed_at']}; intact={sig['intact']} "
                          f"valid={sig['valid']} trusted={sig['trusted']} coverage={sig['coverage']}")
        for problem in check.problems:
            console.print(f"[red]{problem}[/red]")
        console.print("[green]OK[/green]" if check.ok else "[red]NOT VALID[/red]")
    if not check.ok:
        raise SystemExit(1)


COMMANDS = [verify_pdf_cmd]
