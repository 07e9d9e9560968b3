"""Signing a decision on the server side of the pages: demo mode only (record 0126).

In production the officer signs on their own PC (the preview page and the local signing agent,
api/web/signing_page.py): the key never reaches the server, and a pasted key is refused
(api/web/actions.py, `key_demo_only`). In demo mode, to walk the demo by hand:
- `demo`: a demo account signs with its demo certificate (api/demo_pki.py: made by the demo CA on first
  use, key under var/), exactly as a token would (ECDSA P-256, SHA-256);
- a pasted or chosen private key PEM (Ed25519, as `landflow officers keygen` writes it: the development
  option), used in memory for that one request and never stored or logged.
"""

from __future__ import annotations

import base64
from dataclasses import replace
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from engine import accounts
from engine.accounts import Account
from engine.bootstrap import Landflow
from engine.jsoncanon import iso
from engine.org import Officer
from engine.signatures import decision_document, register_key, sign_decision

MAX_KEY_BYTES = 16_384


class SigningProblem(ValueError):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def demo_signing(lf: Landflow, account: Account) -> bool:
    return lf.settings.demo and account.demo


def _load(pem: bytes, passphrase: str | None) -> Ed25519PrivateKey:
    if not pem.strip() or len(pem) > MAX_KEY_BYTES:
        raise SigningProblem("key_missing")
    try:
        key = serialization.load_pem_private_key(pem, password=passphrase.encode() if passphrase else None)
    except TypeError:  # encrypted without a passphrase, or a passphrase for a plain key
        raise SigningProblem("key_passphrase") from None
    except ValueError:
        raise SigningProblem("key_unreadable") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningProblem("key_not_ed25519")
    return key


def sign(lf: Landflow, account: Account, officer: Officer, method: str, pem: bytes, passphrase: str | None,
         dossier_code: str, step: str, ordinal: int, clean: dict[str, Any]) -> tuple[Officer, dict[str, str]]:
    """The signature to send with the completion, and the officer as the engine must see them."""
    now = lf.clock.now()
    if method == "demo":
        if not demo_signing(lf, account):
            raise SigningProblem("demo_key_unavailable")
        return _demo_certificate(lf, account, officer, dossier_code, step, ordinal, clean)
    key = _load(pem, passphrase)
    return officer, sign_decision(key, dossier_code, step, ordinal, clean, account.username, now).as_dict()


def _demo_certificate(lf: Landflow, account: Account, officer: Officer, dossier_code: str, step: str, ordinal: int,
                      clean: dict[str, Any]) -> tuple[Officer, dict[str, str]]:
    """Demo mode: sign as the officer's token would, with the demo certificate `landflow init` made
    (api/demo_pki.py), registered again when the key files belong to another database."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    from ..demo_pki import officer_identity

    key, bundle = officer_identity(lf, account.username)
    current = accounts.get_account(lf.db, account.username)
    if current is None or current.public_key != bundle:
        with lf.db.write() as s:
            register_key(s, account.username, bundle, "system:demo", lf.clock.now())
        lf.directory.refresh()
    at = iso(lf.clock.now())
    document = decision_document(dossier_code, step, ordinal, clean, account.username, at)
    value = base64.b64encode(key.sign(document, ec.ECDSA(hashes.SHA256()))).decode()
    return replace(officer, public_key=bundle), {"signed_at": at, "value": value}
