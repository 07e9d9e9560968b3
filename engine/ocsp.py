"""OCSP (RFC 6960): asking the CA whether a signing certificate is revoked, where its responder answers.

A CRL is published every few days; a CA's OCSP responder answers for the certificate now. landflow asks
it *before* a signed command's transaction (`Trust.prefetch_ocsp`, called by the command path with the
officer's certificate: network I/O never runs under the dossier's lock nor inside a decision), keeps
each verified answer until its `nextUpdate` (or OCSP_FRESH_SECONDS when the responder gives none), and
the decision reads only that cache (`answer`). "Where reachable" (the issue's words): an unreachable
responder, or an answer that does not verify, leaves no answer, and the CRL (`LANDFLOW_CRL`) decides
as before. An answer is trusted only when signed by the certificate's issuer or by a responder
certificate that issuer made for OCSP signing (id-kp-OCSPSigning), for the certificate asked about.
"""

from __future__ import annotations

import threading
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

OCSP_FRESH_SECONDS = 600  # how long an answer without nextUpdate is used
TIMEOUT_SECONDS = 5.0
MAX_RESPONSE = 1_000_000


@dataclass(frozen=True)
class Answer:
    """A verified responder answer for one certificate."""

    status: str  # "good", "revoked" or "unknown"
    revoked_at: datetime | None
    this_update: datetime
    until: datetime


def responder_url(cert: x509.Certificate) -> str | None:
    """The OCSP responder named in the certificate's Authority Information Access, if any."""
    try:
        aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        return None
    for desc in aia:
        if desc.access_method == AuthorityInformationAccessOID.OCSP and isinstance(
                desc.access_location, x509.UniformResourceIdentifier):
            url = desc.access_location.value
            if url.startswith(("http://", "https://")):
                return url
    return None


def ask(cert: x509.Certificate, issuer: x509.Certificate, url: str, now: datetime,
        timeout: float = TIMEOUT_SECONDS) -> Answer | None:
    """POST one request to `url`; the verified answer, or None when none can be had (unreachable, not
    successful, not for this certificate, badly signed, stale)."""
    request = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1()).build()  # noqa: S303 (RFC 6960's CertID)
    body = request.public_bytes(serialization.Encoding.DER)
    http = urllib.request.Request(url, data=body, method="POST",  # noqa: S310 (configured or CA-named URL)
                                  headers={"Content-Type": "application/ocsp-request",
                                           "Accept": "application/ocsp-response"})
    try:
        with urllib.request.urlopen(http, timeout=timeout) as reply:  # noqa: S310
            raw = reply.read(MAX_RESPONSE + 1)
        if len(raw) > MAX_RESPONSE:
            return None
        response = ocsp.load_der_ocsp_response(raw)
    except (OSError, ValueError):
        return None
    return _verified(response, cert, issuer, now)


def _verified(response: ocsp.OCSPResponse, cert: x509.Certificate, issuer: x509.Certificate,
              now: datetime) -> Answer | None:
    if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        return None
    expected = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1()).build()  # noqa: S303
    if (response.serial_number != cert.serial_number or response.issuer_key_hash != expected.issuer_key_hash
            or response.issuer_name_hash != expected.issuer_name_hash):
        return None
    if not _signed_by_issuer_or_delegate(response, issuer, now):
        return None
    at = now.astimezone(UTC)
    this_update = response.this_update_utc
    until = response.next_update_utc or this_update + timedelta(seconds=OCSP_FRESH_SECONDS)
    if this_update > at + timedelta(minutes=5) or until < at:  # from the future, or stale
        return None
    status = {ocsp.OCSPCertStatus.GOOD: "good", ocsp.OCSPCertStatus.REVOKED: "revoked"}.get(
        response.certificate_status, "unknown")
    return Answer(status, response.revocation_time_utc, this_update, until)


def _signed_by_issuer_or_delegate(response: ocsp.OCSPResponse, issuer: x509.Certificate, now: datetime) -> bool:
    if _signature_ok(issuer, response):
        return True
    at = now.astimezone(UTC)
    for delegate in response.certificates:  # a responder certificate the issuer made for OCSP signing
        try:
            usage = delegate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except x509.ExtensionNotFound:
            continue
        if (ExtendedKeyUsageOID.OCSP_SIGNING in usage and delegate.issuer == issuer.subject
                and delegate.not_valid_before_utc <= at <= delegate.not_valid_after_utc
                and _certificate_signed_by(delegate, issuer) and _signature_ok(delegate, response)):
            return True
    return False


def _signature_ok(signer: x509.Certificate, response: ocsp.OCSPResponse) -> bool:
    key = signer.public_key()
    algorithm = response.signature_hash_algorithm
    if algorithm is None:
        return False
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(response.signature, response.tbs_response_bytes, padding.PKCS1v15(), algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(response.signature, response.tbs_response_bytes, ec.ECDSA(algorithm))
        else:
            return False
    except InvalidSignature:
        return False
    return True


def _certificate_signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


class AnswerCache:
    """Verified answers by (issuer key hash, serial), each until its own `until`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._answers: dict[tuple[bytes, int], Answer] = {}

    @staticmethod
    def key(cert: x509.Certificate, issuer: x509.Certificate) -> tuple[bytes, int]:
        cert_id = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1()).build()  # noqa: S303
        return cert_id.issuer_key_hash, cert.serial_number

    def get(self, cert: x509.Certificate, issuer: x509.Certificate, now: datetime) -> Answer | None:
        with self._lock:
            found = self._answers.get(self.key(cert, issuer))
        return found if found is not None and found.until >= now.astimezone(UTC) else None

    def put(self, cert: x509.Certificate, issuer: x509.Certificate, answer: Answer) -> None:
        with self._lock:
            self._answers[self.key(cert, issuer)] = answer
