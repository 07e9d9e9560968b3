#!/usr/bin/env python3
"""Rebuild the table of docs/decisions/README.md from the records' first lines (their titles), so that
branches adding records never leave the index out of order or with a record missing."""

from __future__ import annotations

import re
from pathlib import Path

FOLDER = Path(__file__).resolve().parent.parent / "docs" / "decisions"
RECORD = re.compile(r"^(\d{4})-.+\.md$")


def title(path: Path, number: str) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[0].lstrip("# ").strip()
    # "0050: T", "0100. T", "Decision 0100 — T", "0040 — T": keep T
    first = re.sub(rf"^(Decision\s+)?{number}\s*[:.·—–-]?\s*", "", first)
    return first.lstrip(":.·—–- ").strip() or path.stem


def main() -> None:
    readme = FOLDER / "README.md"
    text = readme.read_text(encoding="utf-8")
    head = text.split("| # | decision |")[0]
    rows = [f"| {m.group(1)} | [{title(p, m.group(1))}]({p.name}) |"
            for p in sorted(FOLDER.iterdir()) if (m := RECORD.match(p.name))]
    readme.write_text(head + "| # | decision |\n|---|---|\n" + "\n".join(rows) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
