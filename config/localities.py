"""Successor look-up for transitional dossiers: old commune-level unit → today's unit.

A dossier received before 1 July 2025 names the parcel's old commune, often as a pre-2025
certificate prints it: with the name of a unit merged earlier, another spelling, or with or
without "xã"/"phường". The successor decides which commune continues the dossier. A wrong guess
hands it to the wrong unit, so names that were split or that exist in two districts come back as
`Ambiguous` for an officer to settle. Names that are not known raise `KeyError`.

Data, both in the organisation directory (see its README):
- `old_units.csv`: the units of 30 June 2025 and the unit each went to (Resolution 1659);
- `name_variants.csv`: spellings, units merged before 2025, parts moved, renamed districts.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from config.organisation import COMMUNE_TYPES, Unit


@dataclass(frozen=True)
class Successor:
    """The unit that continues a transitional dossier."""

    unit_code: str
    unit_name: str
    old_name: str  # the old unit as in old_units.csv (the unit of 30 June 2025)
    old_district: str
    via: str = ""  # how a variant or an older name led to old_name ("" when the name matched directly)


@dataclass(frozen=True)
class Ambiguous:
    """More than one unit may continue the dossier. The engine must ask, never guess."""

    old_name: str
    old_district: str  # the old district(s) found, "; "-separated
    candidates: tuple[str, ...]  # unit codes
    reason: str


VARIANT_KINDS = ("spelling", "merged", "part_moved", "district")

# The resolution's type words, as they prefix a new unit in old_units.csv.
_NEW_TYPE_PREFIXES = {"phường": "ward", "xã": "commune", "đặc khu": "special_zone"}
# Written before a commune-level name on papers; longest first so "thị trấn" wins over "tt".
_UNIT_PREFIXES = ("thị trấn", "đặc khu", "phường", "huyện", "xã", "tt.", "tt", "p.", "x.")
_DISTRICT_PREFIXES = ("thành phố", "thị xã", "quận", "huyện", "tp.", "tp", "tx.", "tx", "q.", "h.")
_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5"}
# Vietnamese tone marks (huyền, sắc, ngã, hỏi, nặng) as combining characters; other diacritics
# (circumflex, breve, horn) belong to the letter.
_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")
# Lookalikes that typing tools produce: curly apostrophes, and Icelandic eth for đ.
_LOOKALIKES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'", "ð": "đ"})
# Syllables ending in oa / oe / uy take the tone on either vowel ("Hoà" or "Hòa"). The catalogue
# uses both, so the key puts the tone on the first vowel.
_TONE_SHIFT = re.compile(r"([^aeiouy]*)(o|u)(a|e|y)")


def _fold(text: str) -> str:
    """NFC, case-folded, lookalikes replaced, whitespace collapsed, stray punctuation trimmed."""
    text = unicodedata.normalize("NFC", text).casefold().translate(_LOOKALIKES)
    return " ".join(text.split()).strip(" ,.;:")


def _strip_prefix(text: str, prefixes: tuple[str, ...]) -> str:
    for prefix in prefixes:
        dotted = prefix.endswith(".")
        if text.startswith(prefix if dotted else prefix + " "):
            rest = text[len(prefix) :].strip()
            if rest:
                return rest
    return text


def _canonical_tone(word: str) -> str:
    """Put the tone of an open oa/oe/uy syllable on its first vowel, so Hoà and Hòa match."""
    decomposed = unicodedata.normalize("NFD", word)
    tones = [c for c in decomposed if c in _TONES]
    if len(tones) != 1:
        return word
    base = "".join(c for c in decomposed if c not in _TONES)
    m = _TONE_SHIFT.fullmatch(base)
    if not m or m.group(2) + m.group(3) not in ("oa", "oe", "uy") or m.group(1).endswith("q"):
        return word
    return unicodedata.normalize("NFC", m.group(1) + m.group(2) + tones[0] + m.group(3))


def _key(text: str, prefixes: tuple[str, ...]) -> str:
    words = [_canonical_tone(w) for w in _strip_prefix(_fold(text), prefixes).split(" ")]
    if len(words) > 1 and words[-1] in _ROMAN:
        words[-1] = _ROMAN[words[-1]]
    return " ".join(words)


@dataclass(frozen=True)
class _OldUnit:
    """A row of old_units.csv with its successor resolved to a unit code."""

    name: str
    district: str
    successor: str  # unit code
    partial: bool


@dataclass(frozen=True)
class _Entry:
    """One way a name can lead to an old unit."""

    district_key: str  # the district printed with the name
    unit: _OldUnit
    via: str = ""
    part_moved: bool = False


class Localities:
    """Old unit names → successor units, built from the organisation directory."""

    def __init__(self, units: dict[str, Unit], entries: dict[str, list[_Entry]], aliases: dict[str, str]):
        self._units = units
        self._entries = entries
        self._district_aliases = aliases
        self._districts = {e.district_key for es in entries.values() for e in es}

    # ---- loading ----------------------------------------------------------------------------------
    @classmethod
    def load(cls, directory: Path, units: dict[str, Unit]) -> Localities:
        """Read old_units.csv and name_variants.csv; refuse references that do not resolve, so a typo
        fails at start-up rather than in a dossier."""
        problems: list[str] = []
        old = _read_old_units(directory / "old_units.csv", units, problems)
        variants = _read_variants(directory / "name_variants.csv", problems)

        known_districts = {_key(u.district, _DISTRICT_PREFIXES) for u in old}
        aliases: dict[str, str] = {}
        for where, row in variants:
            if row["kind"] == "district":
                district = _key(row["old_district"], _DISTRICT_PREFIXES)
                if district not in known_districts:
                    problems.append(f"{where}: district {row['old_district']!r} is not in old_units.csv")
                aliases[_key(row["name"], _DISTRICT_PREFIXES)] = district

        def dkey(district: str) -> str:
            k = _key(district, _DISTRICT_PREFIXES)
            return aliases.get(k, k)

        by_old_name: dict[tuple[str, str], list[_OldUnit]] = {}
        for unit in old:
            by_old_name.setdefault((_key(unit.name, _UNIT_PREFIXES), dkey(unit.district)), []).append(unit)

        entries: dict[str, list[_Entry]] = {}

        def add(name: str, entry: _Entry) -> None:
            found = entries.setdefault(_key(name, _UNIT_PREFIXES), [])
            if not any(e.district_key == entry.district_key and e.unit == entry.unit for e in found):
                found.append(entry)

        for unit in old:
            add(unit.name, _Entry(dkey(unit.district), unit))
        for where, row in variants:
            if row["kind"] == "district":
                continue
            district_key = dkey(row["old_district"])
            targets = by_old_name.get((_key(row["old_name"], _UNIT_PREFIXES), district_key), [])
            if not targets:
                problems.append(f"{where}: {row['old_name']!r} ({row['old_district']}) is not an old unit")
            printed = dkey(row["district"]) if row["district"] else district_key
            for target in targets:
                add(row["name"], _Entry(printed, target, row["note"], row["kind"] == "part_moved"))

        if problems:
            raise ValueError("locality data is inconsistent:\n  " + "\n  ".join(problems))
        return cls(units, entries, aliases)

    # ---- look-up ----------------------------------------------------------------------------------
    def old_names(self) -> list[str]:
        """Every name (with spellings and earlier names) that leads to an old unit, as written in the data:
        what a search that ignores tone marks compares against."""
        return sorted({e.unit.name for es in self._entries.values() for e in es})

    def normalise(self, name: str) -> str:
        """The matching key of a commune-level name: NFC, case, spacing, type prefix, tone position and
        Roman numerals do not matter. A key, not a display form."""
        return _key(name, _UNIT_PREFIXES)

    def normalise_district(self, name: str) -> str:
        """The matching key of an old district, with districts merged before 2025 replaced."""
        k = _key(name, _DISTRICT_PREFIXES)
        return self._district_aliases.get(k, k)

    def successor(self, old_name: str, old_district: str | None = None) -> Successor | Ambiguous:
        """The unit that continues a dossier located in `old_name` (optionally in `old_district`).

        Raises KeyError when the name, the district, or the pair is unknown."""
        entries = self._entries.get(self.normalise(old_name))
        if not entries:
            raise KeyError(
                f"{old_name!r} is not a commune-level unit that existed before 1 July 2025, nor a known "
                f"spelling or older name of one (old_units.csv, name_variants.csv)"
            )
        if old_district and old_district.strip():
            wanted = self.normalise_district(old_district)
            if wanted not in self._districts:
                raise KeyError(f"{old_district!r} is not a known old district")
            in_district = [e for e in entries if e.district_key == wanted]
            if not in_district:
                where = "; ".join(dict.fromkeys(e.unit.district for e in entries))
                raise KeyError(f"{old_name!r} was not a unit of {old_district!r}; it was in: {where}")
            entries = in_district

        codes = tuple(dict.fromkeys(e.unit.successor for e in entries))
        if len(codes) == 1:
            first = entries[0]
            return Successor(
                unit_code=codes[0],
                unit_name=self._units[codes[0]].name,
                old_name=first.unit.name,
                old_district="; ".join(dict.fromkeys(e.unit.district for e in entries)),
                via=first.via,
            )
        return Ambiguous(
            old_name="; ".join(dict.fromkeys(e.unit.name for e in entries if not e.part_moved)),
            old_district="; ".join(dict.fromkeys(e.unit.district for e in entries if not e.part_moved)),
            candidates=codes,
            reason=self._reason(old_name, entries, codes),
        )

    def _reason(self, old_name: str, entries: list[_Entry], codes: tuple[str, ...]) -> str:
        """Say why the engine cannot choose, so the officer knows what to look up."""
        names = " or ".join(f"{self._units[c].name} ({c})" for c in codes)
        reasons: list[str] = []
        split = [e for e in entries if e.unit.partial]
        if split:
            reasons.append(
                f"{split[0].unit.name} ({split[0].unit.district}) was split by Resolution 1659/NQ-UBTVQH15 "
                "and the boundary was not published: locate the parcel on the boundary map"
            )
        reasons.extend(e.via for e in entries if e.part_moved)
        districts = list(dict.fromkeys(e.district_key for e in entries))
        if len(districts) > 1:
            where = "; ".join(dict.fromkeys(e.unit.district for e in entries))
            reasons.append(f"{old_name!r} names units in several districts ({where}): give the old district")
        return f"successor may be {names}: " + "; ".join(reasons)


def _read_old_units(path: Path, units: dict[str, Unit], problems: list[str]) -> list[_OldUnit]:
    """The units of 30 June 2025, each with the code of the unit it went to."""
    by_name = {(u.type, _key(u.name, ())): u.code for u in units.values() if u.type in COMMUNE_TYPES}
    old: list[_OldUnit] = []
    with path.open(encoding="utf-8", newline="") as fh:
        for n, row in enumerate(csv.DictReader(fh), start=2):
            new = row["new_unit_vi"].strip()
            code = None
            for word, utype in _NEW_TYPE_PREFIXES.items():
                if new.startswith(word + " "):
                    code = by_name.get((utype, _key(new[len(word) :], ())))
            if code is None:
                problems.append(f"{path.name} line {n}: successor {new!r} is not a commune-level unit")
                continue
            partial = (row.get("partial") or "").strip().lower() == "yes"
            old.append(_OldUnit(row["old_name_vi"].strip(), row["old_district_vi"].strip(), code, partial))
    return old


def _read_variants(path: Path, problems: list[str]) -> list[tuple[str, dict[str, str]]]:
    """Rows of name_variants.csv that are well formed, each with where it came from."""
    rows: list[tuple[str, dict[str, str]]] = []
    if not path.exists():
        return rows
    with path.open(encoding="utf-8", newline="") as fh:
        for n, row in enumerate(csv.DictReader(fh), start=2):
            where = f"{path.name} line {n}"
            if None in row or None in row.values():  # an unquoted comma, or a missing column
                problems.append(f"{where}: wrong number of fields")
                continue
            clean = {k: v.strip() for k, v in row.items()}
            if clean["kind"] not in VARIANT_KINDS:
                problems.append(f"{where}: unknown kind {clean['kind']!r}")
            elif not clean["source"]:
                problems.append(f"{where}: no source")
            elif clean["kind"] == "part_moved" and not clean["note"]:
                problems.append(f"{where}: part_moved needs a note (it is the reason the officer reads)")
            else:
                rows.append((where, clean))
    return rows
