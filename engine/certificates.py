"""X.509 signing identities: an officer's certificate, its chain to the trust roots, revocation.

Vietnamese offices sign with certificates that licensed CAs issue (Decree 23/2025/ND-CP), usually on
USB tokens; the law recognises a signature by such a certificate, checked against the CA's chain. So
an officer's signing identity is the certificate (with its intermediates) registered for them; the
key stays on the token (docs/signatures.md, record 0125). This module answers, for one decision
signature: does it verify with the certificate's key (RSA PKCS#1 v1.5 or ECDSA, SHA-256), was the
certificate valid at the signing time, may it sign (key usage digitalSignature or nonRepudiation),
does it chain to a configured root (`LANDFLOW_TRUST_ROOTS`, cryptography's x509 verifier), and is it
absent from the configured CRL (`LANDFLOW_CRL`, a file, folder or URL) and not revoked by its CA's OCSP
responder where one answers (`LANDFLOW_OCSP`, engine/ocsp.py). Every "no" is a SignatureProblem with
its own code, which the command path records as a refusal.
"""

from __future__ import annotations

import base64
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.verification import ExtensionPolicy, PolicyBuilder, Store, VerificationError

from .ocsp import Answer, AnswerCache, ask, responder_url

PEM_MARK = "-----BEGIN CERTIFICATE-----"
MAX_BUNDLE = 65_536
CRL_REFRESH_SECONDS = 600


class SignatureProblem(ValueError):
    """Why a signature is not acceptable; `code` is stable (for the event log and the API)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def is_certificate(text: str | None) -> bool:
    return bool(text) and str(text).lstrip().startswith(PEM_MARK)


def load_bundle(text: str) -> list[x509.Certificate]:
    """The certificates of a registered identity: the officer's first, then its intermediates."""
    if "PRIVATE KEY" in text:
        raise SignatureProblem("certificate_only", "upload the certificate only, never a private key")
    try:
        certs = x509.load_pem_x509_certificates(text.encode("ascii", "strict"))
    except (ValueError, UnicodeError):
        raise SignatureProblem("bad_certificate", "not a PEM X.509 certificate") from None
    if not certs:
        raise SignatureProblem("bad_certificate", "not a PEM X.509 certificate")
    if not isinstance(certs[0].public_key(), (rsa.RSAPublicKey, ec.EllipticCurvePublicKey)):
        raise SignatureProblem("bad_certificate", "the certificate's key must be RSA or ECDSA")
    return certs


def bundle_text(certs: list[x509.Certificate]) -> str:
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode("ascii") for c in certs)


def read_bundle(data: bytes) -> str:
    """A certificate as uploaded (PEM bundle or one DER certificate), normalised to the stored PEM text."""
    if len(data) > MAX_BUNDLE or not data.strip():
        raise SignatureProblem("bad_certificate", "not a certificate (empty or too large)")
    if b"PRIVATE KEY" in data:
        raise SignatureProblem("certificate_only", "upload the certificate only, never a private key")
    if data.lstrip().startswith(b"-----"):
        return bundle_text(load_bundle(data.decode("ascii", "replace")))
    try:
        return bundle_text(load_bundle(x509.load_der_x509_certificate(data).public_bytes(
            serialization.Encoding.PEM).decode("ascii")))
    except ValueError:
        raise SignatureProblem("bad_certificate", "not a PEM or DER X.509 certificate") from None


def describe(text: str) -> dict[str, str]:
    """What the pages show of a registered certificate."""
    leaf = load_bundle(text)[0]
    return {"subject": leaf.subject.rfc4514_string(), "issuer": leaf.issuer.rfc4514_string(),
            "serial": format(leaf.serial_number, "X"),
            "not_before": leaf.not_valid_before_utc.isoformat(), "not_after": leaf.not_valid_after_utc.isoformat(),
            "sha256": leaf.fingerprint(hashes.SHA256()).hex()}


# -- the signature itself -----------------------------------------------------------------------------

def verify_with_certificate(cert: x509.Certificate, document: bytes, value: str) -> None:
    """RSA PKCS#1 v1.5 / SHA-256 or ECDSA / SHA-256 (DER), as PKCS#11 tokens and the CAs' plugins make them."""
    try:
        raw = base64.b64decode(value, validate=True)
        key = cert.public_key()
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(raw, document, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(raw, document, ec.ECDSA(hashes.SHA256()))
        else:
            raise InvalidSignature()
    except (InvalidSignature, ValueError):
        raise SignatureProblem("bad_signature", "the signature does not match the decision and your certificate") \
            from None


# -- trust: roots and revocation ------------------------------------------------------------------------

def load_roots(path: Path | None) -> tuple[x509.Certificate, ...]:
    """`LANDFLOW_TRUST_ROOTS`: one PEM file (several certificates) or a folder of .pem/.crt/.cer files."""
    if path is None or not str(path):
        return ()
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in (".pem", ".crt", ".cer")) \
        if path.is_dir() else [path]
    roots: list[x509.Certificate] = []
    for f in files:
        data = f.read_bytes()
        roots.extend(x509.load_pem_x509_certificates(data) if b"-----BEGIN" in data
                     else [x509.load_der_x509_certificate(data)])
    return tuple(roots)


@dataclass
class Trust:
    """The trust configuration of one process: roots, where the CRLs come from, and the development option.

    CRLs are read again after CRL_REFRESH_SECONDS (a URL) or when a file changes; a CRL that cannot be
    read is a refusal (`revocation_unknown`), never a silent pass.
    """

    roots: tuple[x509.Certificate, ...] = ()
    roots_path: Path | None = None  # read again when its files change (`landflow init` may write it later)
    crl: str = ""  # a file, a folder of .crl/.pem files, or an http(s) URL; empty: no revocation check
    ed25519_keys: bool = False  # the development option (record 0125)
    ocsp: str = ""  # "aia": the responder each certificate names; an http(s) URL: that responder; empty: none
    _ocsp_answers: AnswerCache = field(default_factory=AnswerCache, repr=False)
    _cache: dict[str, tuple[float, list[x509.CertificateRevocationList]]] = field(default_factory=dict, repr=False)
    _roots_cache: dict[str, tuple[float, tuple[x509.Certificate, ...]]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def trusted_roots(self) -> tuple[x509.Certificate, ...]:
        path = self.roots_path
        if path is None or not path.exists():
            return self.roots
        paths = sorted(path.iterdir()) if path.is_dir() else [path]
        stamp = sum(q.stat().st_mtime_ns for q in paths) / 1e9 + len(paths)
        with self._lock:
            key = f"roots:{path}"
            cached = self._roots_cache.get(key)
            if cached is None or cached[0] != stamp:
                try:
                    cached = (stamp, load_roots(path))
                except (OSError, ValueError) as err:
                    raise SignatureProblem("certificate_untrusted", f"the trust roots cannot be read: {err}") from None
                self._roots_cache[key] = cached
        return self.roots + cached[1]

    def prefetch_ocsp(self, text: str | None, now: datetime) -> None:
        """Ask the OCSP responders about a certificate and its intermediates, before the command that will
        check it (network I/O outside any transaction); what cannot be had leaves the CRL to decide."""
        if not self.ocsp or not is_certificate(text):
            return
        try:
            certs = load_bundle(text or "")
            chain = _chain(certs[0], certs[1:], self, now.astimezone(UTC))
        except (SignatureProblem, ValueError):
            return  # the decision refuses it for what it is
        for cert, issuer in zip(chain, chain[1:], strict=False):
            if self._ocsp_answers.get(cert, issuer, now) is not None:
                continue
            url = responder_url(cert) if self.ocsp == "aia" else self.ocsp
            answer = ask(cert, issuer, url, now) if url else None
            if answer is not None:
                self._ocsp_answers.put(cert, issuer, answer)

    def ocsp_answer(self, cert: x509.Certificate, issuer: x509.Certificate, now: datetime) -> Answer | None:
        """The responder's verified answer fetched before this command, if there is a fresh one."""
        return self._ocsp_answers.get(cert, issuer, now) if self.ocsp else None

    def crls(self) -> list[x509.CertificateRevocationList]:
        if not self.crl:
            return []
        with self._lock:
            stamp, lists = self._cache.get(self.crl, (-1.0, []))
            current = self._stamp()
            if current != stamp:
                lists = self._read()
                self._cache[self.crl] = (current, lists)
            return lists

    def _stamp(self) -> float:
        if self.crl.startswith(("http://", "https://")):
            return float(int(time.monotonic() // CRL_REFRESH_SECONDS))
        p = Path(self.crl)
        paths = sorted(p.iterdir()) if p.is_dir() else [p]
        return sum(q.stat().st_mtime_ns for q in paths if q.exists()) / 1e9 + len(paths)

    def _read(self) -> list[x509.CertificateRevocationList]:
        blobs: list[bytes] = []
        try:
            if self.crl.startswith(("http://", "https://")):
                with urllib.request.urlopen(self.crl, timeout=10) as r:  # noqa: S310 (configured URL)
                    blobs.append(r.read(50_000_000))
            else:
                p = Path(self.crl)
                blobs.extend(q.read_bytes() for q in (sorted(p.iterdir()) if p.is_dir() else [p]) if q.is_file())
            return [x509.load_pem_x509_crl(b) if b.lstrip().startswith(b"-----") else x509.load_der_x509_crl(b)
                    for b in blobs]
        except (OSError, ValueError) as err:
            raise SignatureProblem("revocation_unknown", f"the revocation list cannot be read: {err}") from None


def check_certificate(text: str, trust: Trust, signed_at: datetime, now: datetime) -> x509.Certificate:
    """The officer's certificate when it could sign at `signed_at`, or the SignatureProblem saying why not."""
    certs = load_bundle(text)
    leaf, intermediates = certs[0], certs[1:]
    at = signed_at.astimezone(UTC)
    if not leaf.not_valid_before_utc <= at <= leaf.not_valid_after_utc:
        raise SignatureProblem("certificate_expired",
                               f"the certificate is valid from {leaf.not_valid_before_utc:%d/%m/%Y} to "
                               f"{leaf.not_valid_after_utc:%d/%m/%Y}, not at the signing time")
    try:
        usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
        may_sign = usage.digital_signature or usage.content_commitment
    except x509.ExtensionNotFound:
        may_sign = False
    if not may_sign:
        raise SignatureProblem("certificate_key_usage",
                               "the certificate may not sign documents (key usage digitalSignature/nonRepudiation)")
    if not trust.trusted_roots():
        raise SignatureProblem("certificate_untrusted", "no trust roots are configured (LANDFLOW_TRUST_ROOTS)")
    chain = _chain(leaf, intermediates, trust, at)
    _check_revocation(chain, trust, now)
    return leaf


def _chain(leaf: x509.Certificate, intermediates: list[x509.Certificate], trust: Trust,
           at: datetime) -> list[x509.Certificate]:
    # The CA side keeps the Web PKI rules (basic constraints, keyCertSign, key identifiers); the
    # officer's certificate is judged by our own rules above (signing certificates carry no
    # serverAuth/clientAuth and often no SAN), so its extensions are all permitted here.
    builder = (PolicyBuilder().store(Store(list(trust.trusted_roots()))).time(at)
               .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(),
                                   ee_policy=ExtensionPolicy.permit_all()))
    try:
        verified = builder.build_client_verifier().verify(leaf, intermediates)
    except VerificationError as err:
        raise SignatureProblem("certificate_untrusted",
                               f"the certificate does not chain to a trusted root: {err}") from None
    return list(verified.chain)


def _check_revocation(chain: list[x509.Certificate], trust: Trust, now: datetime) -> None:
    for cert, issuer in zip(chain, chain[1:], strict=False):
        answer = trust.ocsp_answer(cert, issuer, now)
        if answer is not None and answer.status == "revoked" and (answer.revoked_at or answer.this_update) <= now:
            when = answer.revoked_at or answer.this_update
            raise SignatureProblem("certificate_revoked", f"the certificate {cert.serial_number:X} was revoked on "
                                                          f"{when:%d/%m/%Y} (its CA's OCSP responder)")
    lists = trust.crls()
    if not lists:
        return
    for cert, issuer in zip(chain, chain[1:], strict=False):
        for crl in lists:
            if crl.issuer != issuer.subject or not crl.is_signature_valid(issuer.public_key()):  # type: ignore[arg-type]
                continue
            revoked = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
            if revoked is not None and revoked.revocation_date_utc <= now.astimezone(UTC):
                raise SignatureProblem("certificate_revoked",
                                       f"the certificate {cert.serial_number:X} was revoked on "
                                       f"{revoked.revocation_date_utc:%d/%m/%Y}")
