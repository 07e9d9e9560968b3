"""An officer's signing certificate (docs/signatures.md): the certificate only, never a key.

`PUT /me/certificate` registers the caller's own certificate (PEM with its chain, in JSON): it must be
able to sign today (chain to the trust roots, validity, key usage, CRL), else 422 with the refusal's
code; the registration, or the refusal, is written to the audit log;
auditors change nothing (403). `GET /me/certificate` describes the registered one.
"""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from engine import certificates
from engine.signatures import register_certificate

from ..auth import current_account, engine
from ..problems import ApiProblem

blp = Blueprint("certificates", __name__, description="Officers' signing certificates")


class CertificateBodySchema(Schema):
    certificate = fields.String(required=True, validate=validate.Length(min=1, max=certificates.MAX_BUNDLE),
                                metadata={"description": "PEM: the officer's certificate, then its intermediates"})


class CertificateSchema(Schema):
    subject = fields.String()
    issuer = fields.String()
    serial = fields.String()
    not_before = fields.String()
    not_after = fields.String()
    sha256 = fields.String()


@blp.route("/me/certificate", methods=["PUT"])
@blp.arguments(CertificateBodySchema)
@blp.response(200, CertificateSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def put_certificate(body: dict[str, Any]) -> dict[str, str]:
    """Register your signing certificate (PEM with its chain; a private key is refused)."""
    lf = engine()
    info = register_certificate(lf.db, current_account().officer(), body["certificate"].encode("utf-8", "replace"),
                                lf.runtime.settings.trust, lf.clock.now())  # a refusal: problem+json, recorded
    lf.directory.refresh()
    return info


@blp.route("/me/certificate", methods=["GET"])
@blp.response(200, CertificateSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_certificate() -> dict[str, str]:
    """Your registered signing certificate."""
    key = current_account().public_key
    if not certificates.is_certificate(key):
        raise ApiProblem(404, "not_found", "you have no registered certificate")
    return certificates.describe(str(key))
