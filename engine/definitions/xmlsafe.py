"""A hardened XML reader for files uploaded by supervisors.

BPMN and DMN never need a DTD. A DOCTYPE is where external entities (file or network reads) and
entity-expansion bombs live, so any DOCTYPE is refused before and after parsing; the parser itself
also never resolves entities, loads a DTD or touches the network, and libxml2's depth limit stays on.
XInclude elements are refused too: nothing here resolves them, but stored files are served back
(auditors, other modelers) to tools that might.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

from lxml import etree

from .problems import Problem

_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_DECLARED = re.compile(rb"""^(\xef\xbb\xbf)?\s*<\?xml\b[^>]*?\bencoding\s*=\s*(["'])([A-Za-z0-9._:-]{1,40})\2""")
XINCLUDE = ("http://www.w3.org/2001/XInclude", "http://www.w3.org/2003/XInclude")


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )


def to_utf8(data: bytes, name: str) -> tuple[bytes | None, list[Problem]]:
    """The file as UTF-8, declared so: decoded by the encoding its XML declaration names (ISO-8859-1,
    windows-1258, ...) and composed (NFC) as every other text in landflow, or a problem saying why it
    cannot be read. Stored and served back as UTF-8, so every later reader agrees on its text
    (docs/decisions/0137-procedure-file-encodings.md). UTF-16/32 are left to `parse_xml`, which refuses them."""
    m = _DECLARED.match(data)
    if m is None:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as err:
            return None, [Problem(name, "xml.encoding",
                                  f"the file is not UTF-8 (byte 0x{data[err.start]:02x} at offset {err.start}) "
                                  "and its XML declaration names no encoding: save it as UTF-8, or declare "
                                  "its encoding (<?xml version=\"1.0\" encoding=\"windows-1258\"?>)")]
        return data, []
    declared = m[3].decode("ascii")
    try:
        codec = codecs.lookup(declared).name
    except LookupError:
        return None, [Problem(name, "xml.encoding", f"the declared encoding {declared!r} is not known: save the "
                                                   "file as UTF-8")]
    if codec == "utf-8" or codec.startswith(("utf-16", "utf-32")):
        return data, []
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as err:
        return None, [Problem(name, "xml.encoding", f"byte 0x{data[err.start]:02x} at offset {err.start} is not "
                                                   f"{declared} text, although the file declares {declared}")]
    text = unicodedata.normalize("NFC", text)
    start, end = m.start(3), m.end(3)  # the declaration is ASCII in every codec accepted here
    text = text[:start] + "UTF-8" + text[end:]
    return text.encode("utf-8"), []


def parse_xml(data: bytes, name: str, max_bytes: int) -> tuple[etree._Element | None, list[Problem]]:
    """Parse `data` or say why not. Never raises for bad input."""
    if not isinstance(data, (bytes, bytearray)):
        return None, [Problem(name, "xml.type", "the file must be sent as bytes")]
    if len(data) > max_bytes:
        return None, [Problem(name, "xml.size", f"file is {len(data)} bytes; the limit is {max_bytes}")]
    if not data.strip():
        return None, [Problem(name, "xml.syntax", "the file is empty")]
    head = bytes(data)
    # UTF-16/32 input would hide a DOCTYPE from the byte scan: refuse non-UTF-8 encodings outright.
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in head[:200]:
        return None, [Problem(name, "xml.encoding", "only UTF-8 files are accepted")]
    if _DOCTYPE.search(head):
        return None, [Problem(name, "xml.doctype", "DOCTYPE and ENTITY declarations are not allowed in BPMN/DMN")]
    try:
        root = etree.fromstring(head, parser=_parser())
    except etree.XMLSyntaxError as err:
        return None, [Problem(name, "xml.syntax", f"not well-formed XML: {err.msg}")]
    except (ValueError, MemoryError, RecursionError) as err:
        return None, [Problem(name, "xml.syntax", f"cannot be read: {type(err).__name__}")]
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        return None, [Problem(name, "xml.doctype", "DOCTYPE declarations are not allowed")]
    for node in root.iter():
        if isinstance(node, etree._Entity):
            return None, [Problem(name, "xml.entity", "entity references are not allowed")]
        if isinstance(node.tag, str) and etree.QName(node.tag).namespace in XINCLUDE:
            # never resolved here, but a stored file is served back and read by other tools
            return None, [Problem(name, "xml.xinclude", "XInclude is not allowed: a BPMN file must be self-contained")]
    return root, []
