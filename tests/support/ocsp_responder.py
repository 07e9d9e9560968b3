"""A real OCSP responder for the tests: an HTTP server on a free local port that answers RFC 6960
requests with responses `cryptography` builds and signs (as the CA's responder does), for the serials
the test has declared revoked; every request is counted."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from tests.support.pki import Issued, Pki


@dataclass
class Responder:
    pki: Pki
    now: datetime
    signer: Issued | None = None  # None: the intermediate CA itself signs; else this (delegate or stranger)
    revoked: dict[int, datetime] = field(default_factory=dict)
    next_update: timedelta | None = timedelta(hours=4)
    this_update_shift: timedelta = timedelta(0)
    asked: int = 0
    url: str = ""
    known: dict[int, x509.Certificate] = field(default_factory=dict)

    def answer(self, body: bytes) -> bytes:
        self.asked += 1
        request = ocsp.load_der_ocsp_request(body)
        cert = self.known.get(request.serial_number)
        if cert is None:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(
                ocsp.OCSPResponseStatus.UNAUTHORIZED).public_bytes(serialization.Encoding.DER)
        issuer = self.pki.intermediate.cert if cert.issuer == self.pki.intermediate.cert.subject else self.pki.root.cert
        signer = self.signer or (self.pki.intermediate if issuer is self.pki.intermediate.cert else self.pki.root)
        at = self.now + self.this_update_shift
        revoked_at = self.revoked.get(cert.serial_number)
        b = ocsp.OCSPResponseBuilder().add_response(
            cert=cert, issuer=issuer, algorithm=hashes.SHA1(),  # noqa: S303 (RFC 6960's CertID)
            cert_status=ocsp.OCSPCertStatus.REVOKED if revoked_at else ocsp.OCSPCertStatus.GOOD,
            this_update=at - timedelta(minutes=1),
            next_update=(at + self.next_update) if self.next_update is not None else None,
            revocation_time=revoked_at, revocation_reason=x509.ReasonFlags.key_compromise if revoked_at else None,
        ).responder_id(ocsp.OCSPResponderEncoding.HASH, signer.cert)
        if self.signer is not None:
            b = b.certificates([signer.cert])
        return b.sign(signer.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


@contextmanager
def responder(pki: Pki, now: datetime) -> Iterator[Responder]:
    state = Responder(pki, now)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            reply = state.answer(body)
            self.send_response(200)
            self.send_header("Content-Type", "application/ocsp-response")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *_args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_port}/ocsp"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
