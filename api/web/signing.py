"""Signing a decision from the dossier page (steps marked `signed`).

Decision (README, "Web pages"): the officer gives their private key with the completion, as the
PEM file `landflow officers keygen` wrote (chosen or pasted, with its passphrase if it has one).
The server signs the canonical decision document (engine/signatures.py) with it in memory, for this
one request, and forgets it: the key is never stored, logged or sent back. The engine then checks
the signature against the key registered for the officer and records it in the `completed` event,
exactly as for a signature made elsewhere and sent to the API. Signing in the browser would keep
the key off the server altogether, but needs JavaScript and a browser with Ed25519 in WebCrypto,
which the offices' old PCs cannot be assumed to have; an officer who wants that signs with their
own tool and calls the API.

In demo mode, a demo account may instead sign with its demo key (var/keys/officers, made and
registered on first use, like `landflow demo` does), so the demo can be walked through by hand.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from engine import accounts
from engine.accounts import Account
from engine.bootstrap import Landflow
from engine.org import Officer
from engine.signatures import officer_key, public_key_text, register_key, sign_decision

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
        key = officer_key(lf.db, lf.settings.var_dir / "keys" / "officers", account.username, now)
        public = public_key_text(key.public_key())
        current = accounts.get_account(lf.db, account.username)
        if current is None or current.public_key != public:  # a key file made for another database
            with lf.db.write() as s:
                register_key(s, account.username, public, "system:demo", now)
        lf.directory.refresh()
        officer = replace(officer, public_key=public)
    else:
        key = _load(pem, passphrase)
    return officer, sign_decision(key, dossier_code, step, ordinal, clean, account.username, now).as_dict()
