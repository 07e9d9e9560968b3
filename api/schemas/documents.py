"""A dossier's papers over HTTP: the upload form and the document as listed."""

from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from engine.papers.documents import KINDS, MAX_PAPER_CODE


class DocumentUploadSchema(Schema):
    paper = fields.String(validate=validate.Length(1, MAX_PAPER_CODE),
                          metadata={"description": "the code of the paper in the procedure's list (`paper.<code>`)"})
    kind = fields.String(load_default="received", validate=validate.OneOf(KINDS),
                         metadata={"description": "received (at reception), supplement, or result (of a step)"})


class DocumentFileSchema(DocumentUploadSchema):
    """The multipart body as documented: the file and the form fields beside it. webargs reads a location
    at a time, so the view loads the form fields itself with DocumentUploadSchema."""

    file = Upload(required=True, metadata={"description": "a PDF, JPEG or PNG file; its type is read from its bytes"})


class DocumentSchema(Schema):
    seq = fields.Integer(metadata={"description": "the event of the dossier's history that names the file"})
    at = fields.AwareDateTime()
    actor = fields.String()
    unit = fields.String(allow_none=True)
    step = fields.String(allow_none=True)
    paper = fields.String(allow_none=True)
    kind = fields.String()
    name = fields.String()
    media_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
