"""The citizen's side over JSON (for a Zalo mini-app, the national portal): look a dossier up, rate it.

No sign-in. The proof is the dossier code with the last four digits of the identity number, or the
receipt's QR token (engine/lookup.py). A wrong code and a wrong proof get the same 404, word for word;
requests are limited per client address (LANDFLOW_LOOKUP_RATE, shared with the lookup page).

The proof of a paper (`/public/proof/<sha256>`): whoever holds a slip or a result can fetch what proves it
genuine and check it offline (`landflow verify-slip`, engine/proofcheck.py, docs/citizen.md).
"""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, fields, validate

from engine.lookup import find, status
from engine.proofs import SHA256, proof_bundle
from engine.ratings import RATINGS, RatingRefused, rate

from ..auth import engine, public
from ..lookup_key import lookup_key
from ..problems import ApiProblem

blp = Blueprint("public", __name__, description="The citizen's lookup and rating (no sign-in)")
NOT_FOUND = "no dossier matches this code and proof"


class ProofSchema(Schema):
    class Meta:
        unknown = RAISE

    code = fields.String(required=True, validate=validate.Length(min=1, max=64))
    digits = fields.String(validate=validate.Length(min=4, max=4),
                           metadata={"description": "the last four digits of the applicant's identity number"})
    token = fields.String(validate=validate.Length(min=8, max=32), metadata={"description": "the receipt QR token"})


class RatingSchema(ProofSchema):
    rating = fields.String(required=True, validate=validate.OneOf(RATINGS))
    reason = fields.String(validate=validate.Length(max=2000))


class PublicPaperSchema(Schema):
    event = fields.String(metadata={"description": "slip_issued | document_added"})
    kind = fields.String(metadata={"description": "the slip (receipt, supplement, …) or result"})
    number = fields.String()
    at = fields.AwareDateTime()
    sha256 = fields.String(metadata={"description": "GET /public/proof/<sha256> proves it genuine"})


class PublicStatusSchema(Schema):
    code = fields.String()
    procedure = fields.String()
    received_at = fields.AwareDateTime()
    due_at = fields.AwareDateTime(allow_none=True)
    first_due_at = fields.AwareDateTime(allow_none=True, metadata={"description": "before an apology moved it"})
    state = fields.String(metadata={"description": "processing | awaiting_supplement | result_ready | handed_back | "
                                                   "refused | stopped | cancelled"})
    late = fields.Boolean(allow_none=True)
    units = fields.List(fields.String())
    asked = fields.String()
    reason = fields.String()
    collect_at = fields.String()
    finished_at = fields.AwareDateTime(allow_none=True)
    can_rate = fields.Boolean()
    rated = fields.String(allow_none=True)
    papers = fields.List(fields.Nested(PublicPaperSchema))


def _found(args: dict[str, Any]) -> Any:
    lf = engine()
    with lf.db.read() as s:
        row = find(s, args["code"], args.get("digits"), args.get("token"), lookup_key(lf.settings))
        if row is None:
            raise ApiProblem(404, "not_found", NOT_FOUND)
        return row, status(s, row, lf.directory.get(), lf.clock.now())


@blp.route("/public/lookup", methods=["GET"])
@public
@blp.arguments(ProofSchema, location="query", error_status_code=400, unknown=RAISE)
@blp.response(200, PublicStatusSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
def lookup(args: dict[str, Any]) -> dict[str, Any]:
    """A dossier's status in plain data: no identity number, address, phone or officer's name."""
    _row, found = _found(args)
    return found.as_dict()


@blp.route("/public/rating", methods=["POST"])
@public
@blp.arguments(RatingSchema)
@blp.response(200, PublicStatusSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def rating(body: dict[str, Any]) -> dict[str, Any]:
    """Rate the service once, after the result was handed back."""
    row, found = _found(body)
    if not found.can_rate:
        raise ApiProblem(409, "cannot_rate", "the dossier can be rated once, after its result was handed back")
    try:
        rate(engine().runtime, row.id, row.desk_unit, body["rating"], body.get("reason"))
    except RatingRefused as err:
        raise ApiProblem(422, err.code, str(err)) from None
    _row, after = _found(body)
    return after.as_dict()


class ProofCheckpointSchema(Schema):
    id = fields.Integer()
    record = fields.String(metadata={"description": "the canonical JSON the checkpoint key signed"})
    signature = fields.String(metadata={"description": "base64 Ed25519 signature over `record`"})
    key_id = fields.String(metadata={"description": "SHA-256 of the public key (ed25519:<base64>) that signed"})


class ProofEventSchema(Schema):
    d = fields.Integer()
    s = fields.Integer()
    t = fields.String()
    a = fields.String()
    u = fields.String(allow_none=True)
    st = fields.String(allow_none=True)
    at = fields.String()
    payload = fields.String()
    prev = fields.String()
    hash = fields.String()


class ProofLeafSchema(Schema):
    dossier = fields.Integer()
    seq = fields.Integer()
    hash = fields.String()


class ProofPaperSchema(Schema):
    event = fields.String()
    kind = fields.String()
    number = fields.String()
    at = fields.String()


class ProofBundleSchema(Schema):
    v = fields.Integer()
    sha256 = fields.String()
    dossier = fields.Integer()
    code = fields.String()
    paper = fields.Nested(ProofPaperSchema)
    events = fields.List(fields.Nested(ProofEventSchema),
                         metadata={"description": "from the paper's event to the head the checkpoint signed"})
    checkpoint = fields.Nested(ProofCheckpointSchema, allow_none=True,
                               metadata={"description": "null until a checkpoint covers the paper"})
    leaf = fields.Nested(ProofLeafSchema, allow_none=True)
    leaf_index = fields.Integer(allow_none=True)
    tree_size = fields.Integer(allow_none=True)
    audit_path = fields.List(fields.String(), metadata={"description": "RFC 6962 audit path, hex, nearest first"})


@blp.route("/public/proof/<string:sha256>", methods=["GET"])
@public
@blp.response(200, ProofBundleSchema)
@blp.alt_response(400, response="BAD_REQUEST")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
def proof(sha256: str) -> dict[str, Any]:
    """What proves a slip or result genuine, for an offline check: its event, the chain to a signed head,
    the Merkle audit path and the checkpoint's signature (docs/citizen.md has the recipe)."""
    sha = sha256.strip().lower()
    if not SHA256.match(sha):
        raise ApiProblem(400, "bad_sha256", "give the file's SHA-256 as 64 hexadecimal characters")
    with engine().db.read() as s:
        bundle = proof_bundle(s, sha)
    if bundle is None:
        raise ApiProblem(404, "not_found", "no slip or paper with this SHA-256 was issued here")
    return bundle
