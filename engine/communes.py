"""Finding the parcel's ward, commune or special zone by name, the way a desk officer types it.

"hai chau", "HẢI CHÂU", "Phường Hải Châu" all find ward Hải Châu: marks, case, spacing and the type
prefix do not matter. A name of a unit abolished on 1 July 2025 (or merged earlier) finds its
successor with a note saying so; a split or ambiguous old name offers its candidates and never picks
one (the same rule as transitional routing, engine/runtime/succession.py).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from config.localities import Ambiguous, Localities

from .org import Directory

_PREFIXES = ("thi tran", "dac khu", "phuong", "xa", "tt.", "p.", "x.")


def fold(text: str) -> str:
    """Lower case, without marks (đ → d), single spaces: what an officer may type for a name."""
    decomposed = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.replace(",", " ").split())


def _without_prefix(key: str) -> str:
    for prefix in _PREFIXES:
        if key.startswith(prefix + " ") and len(key) > len(prefix) + 1:
            return key[len(prefix) + 1:]
    return key


@dataclass(frozen=True)
class CommuneMatch:
    code: str
    name: str
    note: str | None = None  # set when an old name led here


def find_communes(query: str, directory: Directory, localities: Localities | None = None,
                  limit: int = 10) -> list[CommuneMatch]:
    """Current units whose name matches `query` (exact name first, then prefix, then part), then
    successors of old units of that name. At most `limit`."""
    key = _without_prefix(fold(query))
    if not key:
        return []
    communes = [u for u in directory.units.values() if directory.is_commune(u.code)]
    scored: list[tuple[int, str, CommuneMatch]] = []
    for unit in communes:
        name = _without_prefix(fold(unit.name))
        if unit.code == query.strip():
            rank = 0
        elif name == key:
            rank = 1
        elif name.startswith(key):
            rank = 2
        elif key in name:
            rank = 3
        else:
            continue
        scored.append((rank, name, CommuneMatch(unit.code, unit.name)))
    matches = [m for _, _, m in sorted(scored, key=lambda t: (t[0], t[1]))]
    if localities is not None and not any(rank <= 1 for rank, _, _ in scored):
        matches += _successors(query, directory, localities, {m.code for m in matches})
    return matches[:limit]


def _successors(query: str, directory: Directory, localities: Localities, seen: set[str]) -> list[CommuneMatch]:
    try:
        found = localities.successor(query)
    except (KeyError, ValueError):
        # typed without marks: the old name whose folded form is the query, when exactly one is
        key = _without_prefix(fold(query))
        named = [n for n in localities.old_names() if _without_prefix(fold(n)) == key]
        if len(named) != 1:
            return []
        try:
            found = localities.successor(named[0])
        except (KeyError, ValueError):
            return []
    if isinstance(found, Ambiguous):
        out = []
        for code in found.candidates:
            unit = directory.units.get(code)
            if unit is not None and code not in seen:
                out.append(CommuneMatch(code, unit.name, f"{found.old_name} (trước 01/07/2025) nay có thể thuộc "
                                                         f"{unit.name}: xác định theo vị trí thửa đất"))
        return out
    unit = directory.units.get(found.unit_code)
    if unit is None or found.unit_code in seen:
        return []
    return [CommuneMatch(found.unit_code, unit.name,
                         f"{found.old_name} ({found.old_district}) nay thuộc {unit.name} từ 01/07/2025")]


def exact_commune(query: str, directory: Directory) -> str | None:
    """The code of the one current unit named `query` (marks, case, prefix ignored), else None."""
    key = _without_prefix(fold(query))
    codes = [u.code for u in directory.units.values()
             if directory.is_commune(u.code) and _without_prefix(fold(u.name)) == key]
    return codes[0] if len(codes) == 1 else None
