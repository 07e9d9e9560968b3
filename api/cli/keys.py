"""`landflow keys rotate-checkpoint | rotate-session` and `landflow verify-slip FILE.pdf` (docs/operations.md, Keys;
docs/citizen.md)."""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import click

from config.settings import Settings
from engine.checkpoints import public_path, rotate_key
from engine.keyhistory import KeyHistoryProblem, history_path, ring_from_text
from engine.proofcheck import check_bundle

from .common import console


@click.group("keys")
def keys() -> None:
    """Rotate the checkpoint key or the pages' session key without stopping the service."""


@keys.command("rotate-checkpoint")
def rotate_checkpoint() -> None:
    """A new checkpoint key, handed over (signed) by the current one in the key history; old checkpoints
    keep verifying with the old key. Publish the new key history (checkpoint-keys.json)."""
    settings = Settings.from_env()
    path = settings.checkpoint_key
    if not path.exists():
        raise click.ClickException(f"no checkpoint key at {path}: run `landflow init`")
    try:
        old, new, retired = rotate_key(path, datetime.now(UTC))
    except KeyHistoryProblem as err:
        raise click.ClickException(str(err)) from None
    console.print(f"checkpoint key {old[:16]}… → {new[:16]}…; key history {history_path(path)} (publish it "
                  f"with {public_path(path)}); the old private key is at {retired}: take it offline or destroy it. "
                  "Every host signing checkpoints needs the new key file before its next checkpoint.")


@keys.command("rotate-session")
@click.option("--stage", is_flag=True, help="first step: a next key every worker accepts but none signs with")
def rotate_session(stage: bool) -> None:
    """Rotate the pages' session key: `--stage`, restart the workers, then without --stage, restart again.
    Nobody is signed out: cookies of the old key stay accepted for LANDFLOW_TOKEN_HOURS."""
    from ..web.session import rotate_session_key

    try:
        console.print(rotate_session_key(Settings.from_env(), stage=stage))
    except ValueError as err:
        raise click.ClickException(str(err)) from None


def _default_key(settings: Settings) -> Path | None:
    for path in (history_path(settings.checkpoint_key), public_path(settings.checkpoint_key)):
        if path.exists():
            return path
    return None


@click.command("verify-slip")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--proof", "proof", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="the proof bundle (JSON) downloaded from the proof page: fully offline")
@click.option("--key", "key", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="the published checkpoint key (checkpoint.pem.pub) or key history (checkpoint-keys.json)")
@click.option("--url", "url", default=None, help="where to fetch the proof (default LANDFLOW_PUBLIC_URL)")
def verify_slip(file: Path, proof: Path | None, key: Path | None, url: str | None) -> None:
    """Check that a slip or result (PDF) is the one issued: its SHA-256 in the dossier's chain, the chain's
    head under a signed checkpoint (Merkle audit path), the checkpoint's Ed25519 signature."""
    settings = Settings.from_env()
    key = key or _default_key(settings)
    if key is None:
        raise click.ClickException("name the published checkpoint key with --key")
    try:
        ring = ring_from_text(key.read_text(encoding="utf-8"))
    except (KeyHistoryProblem, ValueError) as err:
        raise click.ClickException(f"{key}: {err}") from None
    sha = hashlib.sha256(file.read_bytes()).hexdigest()
    if proof is not None:
        bundle = json.loads(proof.read_text(encoding="utf-8"))
    else:
        address = f"{(url or settings.public_url).rstrip('/')}/api/v1/public/proof/{sha}"
        try:
            with urllib.request.urlopen(address, timeout=30) as resp:  # noqa: S310 (the operator's own URL)
                bundle = json.loads(resp.read())
        except urllib.error.HTTPError as err:
            if err.code == 404:
                raise click.ClickException(f"NOT GENUINE: no slip or paper with SHA-256 {sha} was issued "
                                           f"({address})") from None
            raise click.ClickException(f"{address}: {err}") from None
        except OSError as err:
            raise click.ClickException(f"{address}: {err} (use --proof for an offline check)") from None
    report = check_bundle(bundle, ring, sha)
    for step in report.steps:
        console.print(f"  ok  {step}", highlight=False)
    if not report.ok:
        word = "NOT YET COVERED" if report.where == "pending" else "NOT GENUINE"
        raise click.ClickException(f"{word} ({report.where}): {report.problem}")
    console.print(f"GENUINE: {file.name} (SHA-256 {sha})", highlight=False)


COMMANDS = [keys, verify_slip]
