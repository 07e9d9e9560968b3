"""A real PKCS#11 token for the tests: SoftHSM2 (Debian's softhsm2) in a temporary SOFTHSM2_CONF folder.

SoftHSM reads its configuration once per process (C_Initialize), so the token is made once per test
session; its key pairs are generated on the token and never leave it.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
LABEL = "landflow-test"
PIN = "1234"


@dataclass(frozen=True)
class Token:
    module: str
    label: str
    pin: str
    conf: Path


def make_token(folder: Path) -> Token:
    (folder / "tokens").mkdir(parents=True, exist_ok=True)
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", LABEL, "--so-pin", "0000", "--pin", PIN],
                   check=True, capture_output=True, env={**os.environ, "SOFTHSM2_CONF": str(conf)})
    return Token(MODULE, LABEL, PIN, conf)


_PROCESS_TOKEN: dict[str, Any] = {}


def process_token(folder: Path) -> dict[str, Any]:
    """The one token of this test process (SoftHSM reads its configuration once per process): made on first
    use, with an EC and an RSA key pair generated on it, and the RSA key's certificate stored beside it."""
    if not _PROCESS_TOKEN:
        from datetime import UTC, datetime, timedelta

        from cryptography.hazmat.primitives import serialization

        from .pki import Pki

        t = make_token(folder)
        ec_public = generate_key(t, "ec", "officer-ec", b"\x01")
        rsa_public = generate_key(t, "rsa", "officer-rsa", b"\x02")
        rsa_cert = Pki(datetime.now(UTC) - timedelta(days=1)).certify(rsa_public, "officer rsa")
        store_certificate(t, rsa_cert.public_bytes(serialization.Encoding.DER), "officer-rsa", b"\x02")
        _PROCESS_TOKEN.update({"token": t, "ec": ec_public, "rsa": rsa_public, "rsa_cert": rsa_cert})
    return _PROCESS_TOKEN


def generate_key(token: Token, kind: str, label: str, key_id: bytes) -> Any:
    """A key pair generated on the token; returns its public key (cryptography)."""
    import pkcs11
    from cryptography.hazmat.primitives import serialization
    from pkcs11 import Attribute, KeyType
    from pkcs11.util.ec import encode_ec_public_key, encode_named_curve_parameters
    from pkcs11.util.rsa import encode_rsa_public_key

    tok = pkcs11.lib(token.module).get_token(token_label=token.label)
    with tok.open(rw=True, user_pin=token.pin) as s:
        if kind == "ec":
            params = s.create_domain_parameters(
                KeyType.EC, {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")}, local=True)
            pub, _priv = params.generate_keypair(store=True, label=label, id=key_id)
            return serialization.load_der_public_key(encode_ec_public_key(pub))
        pub, _priv = s.generate_keypair(KeyType.RSA, 2048, store=True, label=label, id=key_id)
        return serialization.load_der_public_key(encode_rsa_public_key(pub))


def store_certificate(token: Token, der: bytes, label: str, key_id: bytes) -> None:
    import pkcs11
    from cryptography import x509
    from pkcs11 import Attribute, CertificateType, ObjectClass

    subject = x509.load_der_x509_certificate(der).subject.public_bytes()
    tok = pkcs11.lib(token.module).get_token(token_label=token.label)
    with tok.open(rw=True, user_pin=token.pin) as s:
        s.create_object({Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                         Attribute.VALUE: der, Attribute.ID: key_id, Attribute.LABEL: label, Attribute.TOKEN: True,
                         Attribute.SUBJECT: subject})
