"""Digital signatures of decisions: the officer signs, the engine checks, `verify` re-checks.

A step marked `signed=true` (a certificate, a registration-result notice, a refusal slip) is a
decision the acting officer signs personally (Da Nang Directive 04/CT-UBND: documents handled online
with digital signatures). The signature is a detached Ed25519 signature over the **decision
document**, the canonical JSON (sorted keys, no spaces, UTF-8; engine/jsoncanon.py) of:

    {"purpose": "landflow-decision/1", "dossier": <dossier code>, "step": <step id>,
     "item": <work item ordinal>, "data": <the form data as the engine normalises it>,
     "officer": <username>, "signed_at": <instant, ISO-8601 UTC with microseconds and Z>}

`signed_at` is chosen by the signer (the engine cannot know the instant the command will run); the
engine accepts it when it is no later than now (plus one minute of clock skew) and no older than
LANDFLOW_SIGNATURE_WINDOW seconds, so a signature cannot be kept and replayed later.

An officer's signing identity (`officer.public_key`) is an X.509 certificate with its intermediates
(PEM; engine/certificates.py checks chain, validity at the signing time, key usage and revocation),
or, as a named development option only (`LANDFLOW_ED25519_KEYS`, on in demo mode; record 0125), an
Ed25519 key `ed25519:<base64 of the 32 raw bytes>`. Each registration is written to the audit log, so
`verify` can tell that an identity recorded in an old event really was that officer's, even after the
officer has a new certificate.

A signature may carry the `document` it was made over (base64 of the bytes): when that document
verifies but is not the one expected, the refusal says how it differs (another dossier, another
document) instead of only "does not match".
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import certificates
from .certificates import SignatureProblem, Trust
from .jsoncanon import canonical, iso, parse_iso
from .store import AuditEntryRow, OfficerRow

PURPOSE = "landflow-decision/1"
PREFIX = "ed25519:"
CLOCK_SKEW = timedelta(seconds=60)


def decision_document(dossier_code: str, step: str, item: int, data: dict[str, Any], officer: str,
                      signed_at: str) -> bytes:
    return canonical({"purpose": PURPOSE, "dossier": dossier_code, "step": step, "item": item, "data": data,
                      "officer": officer, "signed_at": signed_at}).encode("utf-8")


# -- keys --------------------------------------------------------------------------------------------

def public_key_text(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return PREFIX + base64.b64encode(raw).decode()


def load_public_key(text: str) -> Ed25519PublicKey:
    if not isinstance(text, str) or not text.startswith(PREFIX):
        raise SignatureProblem("bad_key", "a public key is written ed25519:<base64>")
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(text[len(PREFIX):], validate=True))
    except ValueError as err:
        raise SignatureProblem("bad_key", f"not an Ed25519 public key: {err}") from None


def key_id(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def new_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def write_private_key(key: Ed25519PrivateKey, path: Path) -> None:
    """PEM (PKCS#8, unencrypted), created with mode 0600: never readable by others, never committed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    os.chmod(path, 0o600)


def read_private_key(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


# -- signing (officers' side: CLI, demo, tests) -----------------------------------------------------

@dataclass(frozen=True)
class DecisionSignature:
    signed_at: str
    value: str  # base64

    def as_dict(self) -> dict[str, str]:
        return {"signed_at": self.signed_at, "value": self.value}


def sign_decision(key: Ed25519PrivateKey, dossier_code: str, step: str, item: int, data: dict[str, Any],
                  officer: str, signed_at: datetime) -> DecisionSignature:
    at = iso(signed_at)
    doc = decision_document(dossier_code, step, item, data, officer, at)
    return DecisionSignature(at, base64.b64encode(key.sign(doc)).decode())


# -- checking (engine side) --------------------------------------------------------------------------

def check_decision(signature: Any, public_key: str | None, dossier_code: str, step: str, item: int,
                   data: dict[str, Any], officer: str, now: datetime, window_seconds: int,
                   trust: Trust | None = None) -> dict[str, str]:
    """The signature as recorded in the event, or SignatureProblem."""
    if signature is None:
        raise SignatureProblem("signature_required", f"step {step} is a decision: it needs your signature")
    if not isinstance(signature, dict) or not isinstance(signature.get("value"), str) \
            or not isinstance(signature.get("signed_at"), str):
        raise SignatureProblem("bad_signature", "a signature is {signed_at, value}")
    if not public_key:
        raise SignatureProblem("no_public_key", f"{officer} has no registered certificate")
    try:
        signed_at = parse_iso(signature["signed_at"])
    except ValueError:
        raise SignatureProblem("bad_signature", "signed_at must be like 2026-02-05T02:00:00.000000Z") from None
    if signed_at > now + CLOCK_SKEW:
        raise SignatureProblem("bad_signature", "the signature is dated in the future")
    if now - signed_at > timedelta(seconds=window_seconds):
        raise SignatureProblem("signature_expired", f"the signature is older than {window_seconds} seconds")
    trust = trust if trust is not None else Trust()
    if certificates.is_certificate(public_key):
        certificates.check_certificate(public_key, trust, signed_at, now)
    elif not trust.ed25519_keys:
        raise SignatureProblem("key_not_certificate", "Ed25519 keys are a development option: register the "
                                                      "certificate your CA issued")
    expected = decision_document(dossier_code, step, item, data, officer, signature["signed_at"])
    try:
        verify_signature(public_key, expected, signature["value"])
    except SignatureProblem:
        _explain_mismatch(public_key, expected, signature)
        raise
    return {"signed_at": signature["signed_at"], "value": signature["value"], "key": public_key}


def _explain_mismatch(public_key: str, expected: bytes, signature: dict[str, Any]) -> None:
    """When the signer sent the document it signed and the signature holds over it: say how it differs."""
    claimed = signature.get("document")
    if not isinstance(claimed, str):
        return
    try:
        signed = base64.b64decode(claimed, validate=True)
        verify_signature(public_key, signed, signature["value"])
        theirs, ours = json.loads(signed), json.loads(expected)
    except (SignatureProblem, ValueError):
        return
    if not isinstance(theirs, dict) or theirs.get("purpose") != PURPOSE:
        raise SignatureProblem("signature_wrong_document", "the signature is over something that is not a decision")
    if theirs.get("dossier") != ours["dossier"]:
        raise SignatureProblem("signature_other_dossier",
                               f"the signature is over a decision of dossier {theirs.get('dossier')}, "
                               f"not {ours['dossier']}")
    differs = sorted(k for k in ours if theirs.get(k) != ours[k])
    raise SignatureProblem("signature_wrong_document",
                           "the signed decision differs from this one in: " + ", ".join(differs))


def verify_signature(public_key: str, document: bytes, value: str) -> None:
    if certificates.is_certificate(public_key):
        certificates.verify_with_certificate(certificates.load_bundle(public_key)[0], document, value)
        return
    key = load_public_key(public_key)
    try:
        key.verify(base64.b64decode(value, validate=True), document)
    except (InvalidSignature, ValueError):
        raise SignatureProblem("bad_signature", "the signature does not match the decision and your key") from None


# -- registration ----------------------------------------------------------------------------------

def register_key(session: Session, username: str, public_key: str, actor: str, at: datetime) -> None:
    """Set an officer's signing identity (certificate, or development key) and record it in the audit log."""
    from . import audit

    if certificates.is_certificate(public_key):
        public_key = certificates.bundle_text(certificates.load_bundle(public_key))
    else:
        load_public_key(public_key)
    row = session.scalar(select(OfficerRow).where(OfficerRow.username == username))
    if row is None:
        raise LookupError(f"no officer {username}")
    row.public_key = public_key
    audit.append_in(session, "officer_key", actor, row.unit, at,
                    {"officer": username, "key": public_key, "key_id": key_id(public_key)})


def registered_keys(session: Session) -> dict[str, set[str]]:
    """Every key each officer has ever had: registrations in the audit log plus the current one."""
    keys: dict[str, set[str]] = {}
    for payload in session.scalars(select(AuditEntryRow.payload).where(AuditEntryRow.type == "officer_key")):
        p = json.loads(payload)
        keys.setdefault(p["officer"], set()).add(p["key"])
    for username, key in session.execute(select(OfficerRow.username, OfficerRow.public_key)
                                         .where(OfficerRow.public_key.is_not(None))):
        if key is not None:  # the query's filter, restated for the type checker
            keys.setdefault(username, set()).add(key)
    return keys


def recheck_event(dossier_code: str, step: str, item: int, data: dict[str, Any], officer: str,
                  recorded: dict[str, Any], keys: dict[str, set[str]]) -> str | None:
    """`verify`: is a recorded decision signature still valid, and was its key the officer's?"""
    key = recorded.get("key", "")
    if key not in keys.get(officer, set()):
        return f"the signing key was never registered for {officer}"
    try:
        verify_signature(key, decision_document(dossier_code, step, item, data, officer, recorded["signed_at"]),
                         recorded["value"])
    except SignatureProblem as err:
        return err.message
    return None


def officer_key(db: Any, key_dir: Path, username: str, at: datetime) -> Ed25519PrivateKey:
    """For `landflow demo` and simulations: the officer's key in `key_dir` (var/keys/officers), made and
    registered on first use. Real officers make their own with `landflow officers keygen`."""
    path = key_dir / f"{username}.pem"
    if path.exists():
        return read_private_key(path)
    key = new_private_key()
    with db.write() as s:
        register_key(s, username, public_key_text(key.public_key()), "system:demo", at)
    write_private_key(key, path)
    return key


def register_certificate(db: Any, officer: Any, data: bytes, trust: Trust, at: datetime) -> dict[str, str]:
    """An officer registers their own certificate as uploaded (PEM bundle or DER): checked as a signature
    would be now (chain, validity, key usage, CRL) and registered. A refusal (CommandRefused: an auditor,
    who changes nothing; a key instead of a certificate; a certificate that could not sign today) is
    recorded in the audit log like every refused act on no dossier."""
    from . import audit
    from .errors import CommandRefused, Forbidden, Invalid
    from .policy import READ_ONLY_ROLES

    try:
        if not officer.active or officer.roles & READ_ONLY_ROLES:
            raise Forbidden("read_only", "auditors and inspectors read and verify; they change nothing")
        try:
            bundle = certificates.read_bundle(data)
            certificates.check_certificate(bundle, trust, at, at)
        except SignatureProblem as err:
            raise Invalid(err.code, err.message) from None
        with db.write() as session:
            register_key(session, officer.username, bundle, officer.username, at)
        return certificates.describe(bundle)
    except CommandRefused as err:
        audit.append(db, "action_refused", officer.username, officer.unit or None, at,
                     {"action": "register_certificate", "kind": err.kind, "code": err.code, "message": err.message,
                      "category": err.refusal.recorded_category})
        raise
