"""Vietnamese alphabetical order, for lists of units, officers and procedures on the pages.

Python's default order compares code points: "Đà Nẵng" sorts after "Ủy ban" and "Ân" after "Yên".
Vietnamese dictionaries order by the letters a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y
first, and by tone marks only between words that are otherwise the same (ngang, huyền, hỏi, ngã, sắc,
nặng, the order of CLDR's Vietnamese collation). Runs of digits compare as numbers ("khu vực 2"
before "khu vực 10"). PyICU would do this too, but it is a large native dependency for one key.
"""

from __future__ import annotations

import unicodedata

LETTERS = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
RANK = {c: i for i, c in enumerate(LETTERS)}
TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}  # huyền hỏi ngã sắc nặng
SHAPES = {("a", "\u0306"): "ă", ("a", "\u0302"): "â", ("e", "\u0302"): "ê", ("o", "\u0302"): "ô",
          ("o", "\u031b"): "ơ", ("u", "\u031b"): "ư"}
SPACE, MARK, DIGITS, LETTER = 0, 1, 2, 10


def vi_key(text: str) -> tuple[tuple[int, ...], tuple[int, ...], str]:
    """Sort key: letters in Vietnamese order, then tones, then the text itself (a total order)."""
    primary: list[int] = []
    tones: list[int] = []
    digits = ""
    for ch in text.casefold() + " ":
        if ch.isdigit():
            digits += ch
            continue
        if digits:  # a number: its length first, then its digits, so 2 < 10
            primary += [DIGITS, len(digits.lstrip("0")), *(int(d) for d in digits.lstrip("0"))]
            digits = ""
        parts = unicodedata.normalize("NFD", ch)
        base, tone = parts[0], 0
        for mark in parts[1:]:
            if mark in TONES:
                tone = TONES[mark]
            else:
                base = SHAPES.get((base, mark), base)
        if base in RANK:
            primary.append(LETTER + RANK[base])
        else:
            primary.append(SPACE if base.isspace() else MARK)
        tones.append(tone)
    return tuple(primary), tuple(tones), text
