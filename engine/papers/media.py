"""What a file is, decided from its bytes: the name and the browser's claimed type are the uploader's
words, the first bytes are the file's. Only what a desk scans or a step produces is accepted."""

from __future__ import annotations

import re

ACCEPTED = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]+")


def sniff(data: bytes) -> str | None:
    """The media type of a PDF, JPEG or PNG file; None for anything else."""
    if data.startswith(b"%PDF-") and b"%%EOF" in data[-2048:]:
        return "application/pdf"
    if data.startswith(b"\xff\xd8\xff") and len(data) > 4:
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n") and b"IEND" in data[-64:]:
        return "image/png"
    return None


def clean_filename(name: str | None, media_type: str) -> str:
    """The name as the officer gave it, without paths or control characters, at most 200 characters,
    ending in the extension of what the bytes are."""
    base = _UNSAFE.sub(" ", (name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip() or "tai-lieu"
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return stem[:190].strip() + ACCEPTED[media_type]
