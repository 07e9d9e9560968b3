"""Finding deployed fragments: in the database (deploy, the check page) or in folders (`landflow lint`).

A caller binds to the fragment version in force at its deploy (engine/definitions/versions.py: the
same effective-date rule as procedures); a fragment bound to other fragments brings their bound
versions along, never the ones in force now, so what a fragment version runs is fixed at its deploy.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ..store import ProcedureVersionRow
from .fragments import Fragment, FragmentResolver, bindings_of, is_fragment
from .model import ProcedureMeta
from .reader import read
from .versions import version_in_force
from .xmlsafe import parse_xml

V = ProcedureVersionRow.__table__
MAX_DEPTH = 8  # fragments calling fragments: deeper than this is refused as a cycle would be


def _row_fragment(conn: Session | Connection, version_id: int, depth: int = 0) -> Fragment | None:
    row = conn.execute(select(V.c.key, V.c.version, V.c.name, V.c.content_hash, V.c.bpmn, V.c.meta)
                       .where(V.c.id == version_id)).first()
    if row is None or depth > MAX_DEPTH:
        return None
    meta = ProcedureMeta.from_dict(json.loads(row.meta))
    if not is_fragment(meta):
        return None
    srcs: list[bytes] = [row.bpmn.encode("utf-8")]
    keys: set[str] = set()
    bound: set[tuple[str, int]] = set()
    for b in bindings_of(meta):
        nested_id = conn.execute(select(V.c.id).where(V.c.key == b.key, V.c.version == b.version)).scalar()
        nested = _row_fragment(conn, nested_id, depth + 1) if nested_id is not None else None
        if nested is None:
            return None
        srcs += [s for s in nested.sources if s not in srcs]
        keys |= {b.key, *nested.keys}
        bound |= {(b.key, b.version), *nested.bound}
    return Fragment(row.key, row.version, row.name, row.content_hash, meta, tuple(srcs), frozenset(keys),
                    frozenset(bound))


def database_fragments(conn: Session | Connection, at: datetime) -> FragmentResolver:
    """The fragment version in force at `at` for a key; None when none is deployed (or the key is a
    procedure, not a fragment)."""
    def resolve(key: str) -> Fragment | None:
        version_id = version_in_force(conn, key, at)
        return None if version_id is None else _row_fragment(conn, version_id)
    return resolve


def is_fragment_version(conn: Session | Connection, version_id: int) -> bool:
    meta = conn.execute(select(V.c.meta).where(V.c.id == version_id)).scalar()
    return meta is not None and is_fragment(ProcedureMeta.from_dict(json.loads(meta)))


def folder_fragments(files: list[Path]) -> FragmentResolver:
    """Fragments from files (the bundled workflows/fragments/ and those named on the command line), each
    as version 0: what `landflow lint` checks a caller against without a database."""
    from .validate import content_hash

    found: dict[str, Fragment] = {}
    for path in files:
        data = path.read_bytes()
        root, problems = parse_xml(data, path.name, 2_000_000)
        if root is None or problems:
            continue
        doc = read(root)
        if doc.meta is not None and is_fragment(doc.meta):
            found[doc.meta.key] = Fragment(doc.meta.key, 0, doc.meta.name, content_hash(data, []), doc.meta,
                                           (data,))
    return found.get
