"""The SQL statements a block of code sends to the database, for the tests that count them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from engine.bootstrap import Landflow


@contextmanager
def recording(lf: Landflow, commits: bool = False) -> Iterator[list[str]]:
    """Every statement run inside the block, on both engines of the database, whitespace folded;
    with `commits`, each COMMIT too (SQLAlchemy sends it without a cursor)."""
    seen: list[str] = []

    def cursor(_conn: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        seen.append(re.sub(r"\s+", " ", statement).strip())

    def commit(_conn: Any) -> None:
        seen.append("COMMIT")

    engines = {lf.db.engine, lf.db.read_engine}
    for e in engines:
        event.listen(e, "before_cursor_execute", cursor)
        if commits:
            event.listen(e, "commit", commit)
    try:
        yield seen
    finally:
        for e in engines:
            event.remove(e, "before_cursor_execute", cursor)
            if commits:
                event.remove(e, "commit", commit)
