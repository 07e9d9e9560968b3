"""`Content-Disposition` for downloads, written per RFC 6266 / RFC 8187: an ASCII fallback name with
nothing that could end the parameter (quotes, backslashes, CR/LF, `;`), and the real name UTF-8
percent-encoded in `filename*`. A name from the user can never inject a parameter or a header."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote


def disposition(filename: str, inline: bool = False) -> str:
    name = "".join(c for c in filename if c.isprintable() and c not in "\r\n") or "download"
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    ascii_name = "".join(c if c.isalnum() or c in "._- " else "_" for c in ascii_name).strip() or "download"
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
