"""A small test PKI made with `cryptography`: root CA, intermediate CA, officers' certificates, a CRL.

The CA certificates follow the Web PKI rules the engine's chain check keeps for CAs (basic constraints,
keyCertSign, key identifiers), as a licensed CA's do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"), x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def new_key(kind: str = "ec") -> PrivateKey:
    return ec.generate_private_key(ec.SECP256R1()) if kind == "ec" else rsa.generate_private_key(65537, 2048)


@dataclass
class Issued:
    key: PrivateKey
    cert: x509.Certificate

    @property
    def pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    def key_pem(self) -> bytes:
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())


def issue(subject: str, key: PrivateKey, issuer: Issued | None, *, ca: bool, start: datetime, days: int = 365,
          usage: str = "sign", path_length: int | None = None, ocsp_url: str | None = None) -> Issued:
    """A certificate for `key`, signed by `issuer` (self-signed when None)."""
    public = key.public_key()
    issuer_name = issuer.cert.subject if issuer else name(subject)
    signer = issuer.key if issuer else key
    b = (x509.CertificateBuilder().subject_name(name(subject)).issuer_name(issuer_name).public_key(public)
         .serial_number(x509.random_serial_number()).not_valid_before(start)
         .not_valid_after(start + timedelta(days=days))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length if ca else None), critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False))
    if issuer is not None:
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
                            critical=False)
    if ocsp_url:  # where the CA's OCSP responder answers for this certificate (Authority Information Access)
        b = b.add_extension(x509.AuthorityInformationAccess([x509.AccessDescription(
            AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url))]), critical=False)
    if usage == "ocsp":
        b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False)
    if ca:
        b = b.add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                          data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                          crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
    else:
        sign = usage == "sign"
        b = b.add_extension(x509.KeyUsage(digital_signature=sign, content_commitment=sign,
                                          key_encipherment=not sign, data_encipherment=False, key_agreement=False,
                                          key_cert_sign=False, crl_sign=False, encipher_only=False,
                                          decipher_only=False), critical=True)
    return Issued(key, b.sign(signer, hashes.SHA256()))


@dataclass
class Pki:
    """Root → intermediate → officers, valid from `start` (a year before the test clock by default)."""

    start: datetime
    root: Issued = field(init=False)
    intermediate: Issued = field(init=False)

    def __post_init__(self) -> None:
        self.root = issue("Landflow Test Root CA", new_key("ec"), None, ca=True, start=self.start, days=3650)
        self.intermediate = issue("Landflow Test Signing CA", new_key("ec"), self.root, ca=True, start=self.start,
                                  days=3000, path_length=0)

    def officer(self, cn: str, key: PrivateKey | None = None, *, days: int = 730, start: datetime | None = None,
                usage: str = "sign", ocsp_url: str | None = None) -> Issued:
        return issue(cn, key or new_key("ec"), self.intermediate, ca=False, start=start or self.start, days=days,
                     usage=usage, ocsp_url=ocsp_url)

    def certify(self, public: Any, cn: str, *, start: datetime | None = None, days: int = 730,
                ca: Pki | None = None) -> x509.Certificate:
        """A signing certificate for a key held elsewhere (a token's public key), by this CA (or `ca`)."""
        by = (ca or self).intermediate
        begin = start or self.start
        return (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(by.cert.subject).public_key(public)
                .serial_number(x509.random_serial_number()).not_valid_before(begin)
                .not_valid_after(begin + timedelta(days=days))
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                             data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                             crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(by.key.public_key()),
                               critical=False)
                .sign(by.key, hashes.SHA256()))

    def bundle(self, leaf: Issued) -> str:
        """What an officer uploads: their certificate, then the intermediate."""
        return leaf.pem + self.intermediate.pem

    def write_roots(self, path: Path) -> Path:
        path.mkdir(parents=True, exist_ok=True)
        (path / "root.pem").write_text(self.root.pem)
        return path

    def crl(self, revoked: list[x509.Certificate], at: datetime) -> bytes:
        b = (x509.CertificateRevocationListBuilder().issuer_name(self.intermediate.cert.subject)
             .last_update(at - timedelta(hours=1)).next_update(at + timedelta(days=7)))
        for cert in revoked:
            b = b.add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(cert.serial_number)
                                          .revocation_date(at - timedelta(minutes=30)).build())
        return b.sign(self.intermediate.key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def other_root_chain(start: datetime) -> Pki:
    """A second, untrusted hierarchy with the same names: a 'wrong chain'."""
    return Pki(start)


def sign_bytes(key: PrivateKey, data: bytes) -> bytes:
    """What a token returns for CKM_SHA256_RSA_PKCS / CKM_ECDSA_SHA256 (ECDSA as DER)."""
    from cryptography.hazmat.primitives.asymmetric import padding

    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    return key.sign(data, ec.ECDSA(hashes.SHA256()))
