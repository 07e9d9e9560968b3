"""`landflow signer-agent`: the reference local signing agent, on the officer's own PC.

The officer's key never leaves their USB token, and never reaches the server. The dossier page
shows the decision in words and its hash, then sends the exact bytes to this agent on
http://127.0.0.1:<port>; the agent signs them on the token through PKCS#11 (python-pkcs11: RSA
PKCS#1 v1.5 or ECDSA, SHA-256; ECDSA returned as DER) and returns the signature and the token's
certificate; the page posts the signature with the completion, and the engine checks it against the
certificate registered for the officer (engine/certificates.py).

Safety of the reference agent: it listens on 127.0.0.1 only; it answers only requests whose Origin
is the configured landflow address (CORS limited to it, any other origin 403); it signs only
landflow decision documents (canonical JSON with purpose landflow-decision/1), never arbitrary
bytes; it prints every document's dossier, step and SHA-256 on its console. The CAs' own "ký số"
plugins (VNPT-CA, Viettel-CA, BKAV...) fit the same place: docs/signatures.md.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_DOCUMENT = 1_000_000
PURPOSE = "landflow-decision/1"


@dataclass
class TokenSigner:
    """One logged-in PKCS#11 session on the officer's token: its signing key and certificate."""

    module: str
    token_label: str
    pin: str
    key_label: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _session: Any = field(default=None, repr=False)
    _key: Any = field(default=None, repr=False)
    certificate_pem: str = ""

    def open(self) -> TokenSigner:
        import pkcs11
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization
        from pkcs11 import Attribute, ObjectClass

        token = pkcs11.lib(self.module).get_token(token_label=self.token_label)
        try:
            self._session = token.open(user_pin=self.pin)
        except pkcs11.exceptions.UserAlreadyLoggedIn:  # another session of this process logged in already
            self._session = token.open()
        wanted: dict[Any, Any] = {Attribute.LABEL: self.key_label} if self.key_label else {}
        keys = list(self._session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY, **wanted}))
        if not keys:
            raise LookupError(f"no private key on token {self.token_label}")
        self._key = keys[0]
        key_id = self._key[Attribute.ID]
        certs = [c for c in self._session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE})
                 if c[Attribute.ID] == key_id]
        if certs:
            cert = x509.load_der_x509_certificate(bytes(certs[0][Attribute.VALUE]))
            self.certificate_pem = cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
        return self

    def sign(self, data: bytes) -> bytes:
        from pkcs11 import KeyType, Mechanism
        from pkcs11.util.ec import encode_ecdsa_signature

        with self._lock:
            if self._key.key_type == KeyType.EC:
                # the digest on the PC, CKM_ECDSA on the token: every token has it (CKM_ECDSA_SHA256 is rarer)
                raw = self._key.sign(hashlib.sha256(data).digest(), mechanism=Mechanism.ECDSA)
                return bytes(encode_ecdsa_signature(raw))
            return bytes(self._key.sign(data, mechanism=Mechanism.SHA256_RSA_PKCS))

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


def decision_summary(data: bytes) -> dict[str, Any]:
    """The document when it is a landflow decision; ValueError otherwise (the agent signs nothing else)."""
    doc = json.loads(data.decode("utf-8"))
    if not isinstance(doc, dict) or doc.get("purpose") != PURPOSE:
        raise ValueError("not a landflow decision document")
    return doc


def make_handler(signer: TokenSigner, origin: str, say: Any = print) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "landflow-signer-agent/1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)
            return

        def _cors(self) -> bool:
            if self.headers.get("Origin") != origin:
                self._send(403, {"error": "origin_not_allowed"}, cors=False)
                return False
            return True

        def _send(self, status: int, body: dict[str, Any], cors: bool = True) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.send_header("Cache-Control", "no-store")
            if cors:
                self.send_header("Access-Control-Allow-Origin", origin)
                self.send_header("Vary", "Origin")
            self.end_headers()
            self.wfile.write(raw)

        def do_OPTIONS(self) -> None:  # noqa: N802 (http.server's naming)
            if not self._cors():
                return
            self.send_response(204)
            self.send_header("Access-Control-Allow-Origin", origin)
            self.send_header("Access-Control-Allow-Methods", "GET, POST")
            self.send_header("Access-Control-Allow-Headers", "Content-Type")
            self.send_header("Access-Control-Max-Age", "600")
            self.send_header("Vary", "Origin")
            self.end_headers()

        def do_GET(self) -> None:  # noqa: N802
            if not self._cors():
                return
            if self.path != "/certificate":
                self._send(404, {"error": "not_found"})
                return
            self._send(200, {"certificate": signer.certificate_pem, "token": signer.token_label})

        def do_POST(self) -> None:  # noqa: N802
            if not self._cors():
                return
            if self.path != "/sign":
                self._send(404, {"error": "not_found"})
                return
            try:
                length = int(self.headers.get("Content-Length", "0"))
                if length <= 0 or length > 2 * MAX_DOCUMENT:
                    raise ValueError("empty or too large")
                body = json.loads(self.rfile.read(length))
                data = base64.b64decode(body["document"], validate=True)
                doc = decision_summary(data)
            except (ValueError, KeyError, TypeError):
                self._send(422, {"error": "not_a_decision"})
                return
            say(f"signing dossier {doc.get('dossier')} step {doc.get('step')} for {doc.get('officer')}: "
                f"sha256 {hashlib.sha256(data).hexdigest()}")
            try:
                value = signer.sign(data)
            except Exception as err:  # noqa: BLE001 (the token said no: PIN, removed, locked)
                self._send(502, {"error": "token_error", "detail": str(err)})
                return
            self._send(200, {"value": base64.b64encode(value).decode(), "certificate": signer.certificate_pem,
                             "sha256": hashlib.sha256(data).hexdigest()})

    return Handler


def serve(signer: TokenSigner, origin: str, port: int, say: Any = print) -> ThreadingHTTPServer:
    """The agent's server on 127.0.0.1:`port` (0: any free port); call serve_forever() on it."""
    return ThreadingHTTPServer(("127.0.0.1", port), make_handler(signer, origin.rstrip("/"), say))
