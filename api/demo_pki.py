"""The demo's certification authority: so that `make run` alone shows certificate signatures and sealed PDFs.

`landflow init` in demo mode makes, under <var dir>/keys/demo-ca (mode 0600 keys, never committed:
var/ is ignored), a root CA and a signing CA, puts the root in the trust roots folder
(<var dir>/trust unless LANDFLOW_TRUST_ROOTS says otherwise), and issues the office's seal
certificate (LANDFLOW_SEAL_CERT / LANDFLOW_SEAL_KEY defaults). A demo officer's certificate is issued
on first use (`officer_identity`), registered like an uploaded one. Nothing here runs outside demo
mode; a real office uses its CA's certificates (docs/signatures.md).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from engine.bootstrap import Landflow
from engine.signatures import register_key

PrivateKey = ec.EllipticCurvePrivateKey


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "landflow demo (no legal value)"),
                      x509.NameAttribute(NameOID.COMMON_NAME, _fit(cn))])


def _fit(text: str, limit: int = 64) -> str:
    """X.520 caps a common name at 64 (counted by cryptography in UTF-8 bytes): cut on a character."""
    while len(text.encode("utf-8")) > limit:
        text = text[:-1]
    return text


def _write_key(key: PrivateKey, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))


def _read_key(path: Path) -> PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _issue(cn: str, key: PrivateKey, issuer: tuple[x509.Certificate, PrivateKey] | None, ca: bool,
           start: datetime, days: int) -> x509.Certificate:
    public = key.public_key()
    b = (x509.CertificateBuilder().subject_name(_name(cn))
         .issuer_name(issuer[0].subject if issuer else _name(cn)).public_key(public)
         .serial_number(x509.random_serial_number()).not_valid_before(start - timedelta(days=1))
         .not_valid_after(start + timedelta(days=days))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=(None if issuer is None else 0) if ca else None),
                        critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
         .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=not ca, key_encipherment=False,
                                      data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                                      encipher_only=False, decipher_only=False), critical=True))
    if issuer is not None:
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer[1].public_key()),
                            critical=False)
    return b.sign(issuer[1] if issuer else key, hashes.SHA256())


@dataclass(frozen=True)
class DemoCa:
    folder: Path

    @property
    def signing(self) -> tuple[x509.Certificate, PrivateKey]:
        return (x509.load_pem_x509_certificate((self.folder / "signing-ca.pem").read_bytes()),
                _read_key(self.folder / "signing-ca.key"))

    @property
    def chain_pem(self) -> str:
        return (self.folder / "signing-ca.pem").read_text()


def ensure_demo_pki(lf: Landflow, seal: bool = True) -> list[str]:
    """Make what is missing of the demo CA, its root in the trust roots, and (`seal`) the office's seal;
    say what was made."""
    s = lf.settings
    folder = s.var_dir / "keys" / "demo-ca"
    made: list[str] = []
    now = lf.clock.now()
    if not (folder / "signing-ca.pem").exists():
        root_key, ca_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
        root = _issue("landflow demo Root CA", root_key, None, True, now, 3650)
        ca = _issue("landflow demo Signing CA", ca_key, (root, root_key), True, now, 3000)
        _write_key(root_key, folder / "root-ca.key")
        _write_key(ca_key, folder / "signing-ca.key")
        (folder / "root-ca.pem").write_text(_pem(root))
        (folder / "signing-ca.pem").write_text(_pem(ca))
        made.append(f"demo certification authority: {folder}")
    roots = s.trust_roots if s.trust_roots.suffix.lower() not in (".pem", ".crt") else s.trust_roots.parent
    if not (roots / "landflow-demo-root.pem").exists():
        roots.mkdir(parents=True, exist_ok=True)
        (roots / "landflow-demo-root.pem").write_text((folder / "root-ca.pem").read_text())
        made.append(f"demo root trusted: {roots / 'landflow-demo-root.pem'}")
    if seal and (not s.seal_cert.exists() or not s.seal_key.exists()):
        demo_ca = DemoCa(folder)
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _issue("Văn phòng Đăng ký đất đai Đà Nẵng (dấu demo)", key, demo_ca.signing, False, now,
                      1825)
        _write_key(key, s.seal_key)
        s.seal_cert.write_text(_pem(cert) + demo_ca.chain_pem)
        made.append(f"demo seal certificate: {s.seal_cert}")
    return made


def officer_identity(lf: Landflow, username: str) -> tuple[PrivateKey, str]:
    """A demo officer's key and certificate (with the signing CA), issued and registered on first use."""
    folder = lf.settings.var_dir / "keys" / "demo-ca" / "officers"
    key_path, cert_path = folder / f"{username}.key", folder / f"{username}.pem"
    if key_path.exists() and cert_path.exists():
        return _read_key(key_path), cert_path.read_text()
    ensure_demo_pki(lf, seal=False)  # the seal is `landflow init`'s to make, not a signature's side effect
    ca = DemoCa(lf.settings.var_dir / "keys" / "demo-ca")
    key = ec.generate_private_key(ec.SECP256R1())
    who = lf.directory.get().officers.get(username)
    cert = _issue(f"{who.name if who else username} ({username})", key, ca.signing, False, lf.clock.now(), 730)
    bundle = _pem(cert) + ca.chain_pem
    _write_key(key, key_path)
    cert_path.write_text(bundle)
    with lf.db.write() as session:
        register_key(session, username, bundle, "system:demo", lf.clock.now())
    lf.directory.refresh()
    return key, bundle
