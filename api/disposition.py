"""`Content-Disposition` for every download (API and pages), built one way (RFC 6266 + RFC 8187).

File names are often made of request input (a unit, a procedure key): written into the header as they
came, `unit=a";filename="x.html` added a parameter of its own, and a CR/LF would end the header. Here
control characters are dropped, path separators become `_`, the `filename` parameter holds an ASCII
fallback with no quote, backslash or percent sign (which some browsers decode), and `filename*` the
full UTF-8 name, percent-encoded, whenever the fallback differs (Vietnamese unit names stay readable).
"""

from __future__ import annotations

from urllib.parse import quote

ATTR_CHARS = "!#$&+-.^_`|~"  # RFC 8187 attr-char besides letters and digits: safe unencoded in filename*
MAX_NAME = 200


def content_disposition(filename: str, kind: str = "attachment") -> str:
    """The header value: `attachment; filename="…"` and, for any name not plain ASCII, `filename*=`."""
    if kind not in ("attachment", "inline"):
        raise ValueError(f"unknown disposition {kind!r}")
    name = "".join("_" if c in "/\\" else c for c in filename if c.isprintable())[:MAX_NAME].strip() or "download"
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\%' else "_" for c in name)
    header = f'{kind}; filename="{fallback}"'
    if fallback != name:
        header += f"; filename*=UTF-8''{quote(name, safe=ATTR_CHARS)}"
    return header
