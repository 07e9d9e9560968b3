"""`landflow officers certificate`, `landflow verify-pdf`, `landflow signer-agent` (docs/signatures.md).

`officers certificate USERNAME FILE` registers an officer's signing certificate (PEM with its chain, or
DER): the certificate only, never a key. `verify-pdf FILE.pdf` checks a result PDF's PAdES signatures
with pyHanko's validator against LANDFLOW_TRUST_ROOTS (exit 1 when any fails). `signer-agent` runs on
the officer's own PC (api/signer_agent.py).
"""

from __future__ import annotations

import json
import os
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


@click.command("signer-agent")
@click.option("--module", default="/usr/lib/softhsm/libsofthsm2.so", show_default=True,
              help="the token's PKCS#11 library (the CA's driver, e.g. the token vendor's .so)")
@click.option("--token", "token_label", required=True, help="the token's label")
@click.option("--key-label", default=None, help="the signing key's label (default: the first private key)")
@click.option("--origin", default=None, help="the landflow address allowed to call the agent "
                                             "(default LANDFLOW_PUBLIC_URL)")
@click.option("--port", default=8765, show_default=True, help="port on 127.0.0.1")
def signer_agent(module: str, token_label: str, key_label: str | None, origin: str | None, port: int) -> None:
    """Run the local signing agent on this PC: signs decision documents on your token (PIN asked once)."""
    from ..signer_agent import TokenSigner, serve

    pin = os.environ.get("LANDFLOW_AGENT_PIN") or click.prompt("PIN of the token", hide_input=True)
    signer = TokenSigner(module, token_label, pin, key_label).open()
    allowed = (origin or Settings.from_env().public_url).rstrip("/")
    server = serve(signer, allowed, port, say=console.print)
    console.print(f"signer agent on http://127.0.0.1:{server.server_address[1]} for {allowed}; token "
                  f"{token_label}; Ctrl+C stops it")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        signer.close()


COMMANDS.append(signer_agent)
