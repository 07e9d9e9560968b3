"""Signed PDF results: PAdES signatures by pyHanko, and their check.

The office's result papers (the decision record of a signed step, the one-stop slips) are PDF files
signed PAdES (ETSI.CAdES.detached) with the office's seal certificate and its chain embedded, and an
RFC 3161 timestamp when LANDFLOW_TSA_URL is set, so any PDF reader (and `landflow verify-pdf`) can
check who issued them and that not one byte changed (record 0127). The seal key is server-held: it
signs only what the office itself issues; an officer's personal signature is on the decision document
(engine/signatures.py), made on their own token and embedded in the decision record.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import TypeVar

from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from .certificates import load_roots

FIELD = "LandflowSeal"
T = TypeVar("T")


@dataclass(frozen=True)
class Seal:
    """The office's seal: a certificate (then its chain) and its key, both PEM files on the server."""

    cert: Path
    key: Path

    @classmethod
    def configured(cls, cert: Path, key: Path) -> Seal | None:
        """The seal when both files exist; None: results are not signed (stated on the pages and in docs)."""
        return cls(cert, key) if cert.is_file() and key.is_file() else None

    def signer(self) -> signers.SimpleSigner:
        certs = list(load_certs_from_pemder_data(self.cert.read_bytes()))
        if not certs:
            raise ValueError(f"the seal certificate {self.cert} holds no certificate")
        key = load_private_key_from_pemder_data(self.key.read_bytes(), passphrase=None)
        return signers.SimpleSigner(signing_cert=certs[0], signing_key=key,
                                    cert_registry=SimpleCertificateStore.from_certs(certs))


def _outside_event_loop(fn: Callable[[], T]) -> T:
    """pyHanko's synchronous calls run their own asyncio loop: from inside a running loop (an async
    server, Playwright's sync API in tests) they must run on another thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn).result()


def sign_pdf(pdf: bytes, seal: Seal, *, reason: str, location: str, tsa_url: str = "") -> bytes:
    """The PDF with one PAdES signature over all of it (an incremental update: the content is unchanged)."""
    return _outside_event_loop(lambda: _sign_pdf(pdf, seal, reason, location, tsa_url))


def _sign_pdf(pdf: bytes, seal: Seal, reason: str, location: str, tsa_url: str) -> bytes:
    meta = PdfSignatureMetadata(field_name=FIELD, reason=reason, location=location,
                                subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256",
                                signer_key_usage={"digital_signature"})
    timestamper = timestamps.HTTPTimeStamper(tsa_url) if tsa_url else None
    out = signers.sign_pdf(IncrementalPdfFileWriter(BytesIO(pdf)), meta, signer=seal.signer(),
                           timestamper=timestamper)
    return out.getvalue()


@dataclass(frozen=True)
class PdfCheck:
    ok: bool
    signatures: list[dict[str, object]]
    problems: list[str]


def verify_pdf(data: bytes, roots: Path | None) -> PdfCheck:
    """Every signature of the PDF: intact (the signed bytes unchanged), valid, chain to the trust roots,
    covering the whole file. No signature at all is a problem too."""
    return _outside_event_loop(lambda: _verify_pdf(data, roots))


def _verify_pdf(data: bytes, roots: Path | None) -> PdfCheck:
    anchors = [asn1_x509.Certificate.load(c.public_bytes(Encoding.DER)) for c in load_roots(roots)]
    problems: list[str] = []
    found: list[dict[str, object]] = []
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        sigs = list(reader.embedded_signatures)
    except Exception as err:  # noqa: BLE001 (any damage to the file's structure is a failed check)
        return PdfCheck(False, [], [f"the file is not a readable PDF: {err}"])
    if not sigs:
        return PdfCheck(False, [], ["the PDF carries no signature"])
    for sig in sigs:
        try:
            ctx = ValidationContext(trust_roots=anchors, allow_fetching=False, revocation_mode="soft-fail")
            status = validate_pdf_signature(sig, ctx)
        except Exception as err:  # noqa: BLE001 (a damaged signature container is a failed check)
            problems.append(f"{sig.field_name}: the signature cannot be read: {err}")
            continue
        entry: dict[str, object] = {
            "field": sig.field_name, "signer": status.signing_cert.subject.human_friendly,
            "intact": status.intact, "valid": status.valid, "trusted": status.trusted,
            "coverage": status.coverage.name if status.coverage else None,
            "signed_at": status.signer_reported_dt.isoformat() if status.signer_reported_dt else None,
            "timestamped": status.timestamp_validity is not None, "subfilter": "PAdES"}
        found.append(entry)
        if not status.intact:
            problems.append(f"{sig.field_name}: the document was changed after it was signed")
        elif not status.valid:
            problems.append(f"{sig.field_name}: the signature is not valid")
        elif not status.trusted:
            problems.append(f"{sig.field_name}: the signer's certificate does not chain to a trusted root")
        elif status.coverage is None or status.coverage.name != "ENTIRE_FILE":
            problems.append(f"{sig.field_name}: the signature does not cover the whole file")
    return PdfCheck(not problems, found, problems)
