"""Tables that a page shows and lets you download as CSV, from one definition.

A page builds `Table`s (columns, rows of raw values, how to show each cell); the template renders
them with the `table` macro, and the same view answers `?csv=<table name>` with that table as CSV,
so every table on every page has its download and the two can never disagree.

CSV: UTF-8 with a byte-order mark (Excel on Vietnamese Windows reads it right), comma separated,
header = the column labels as the page shows them (in its language); dates in ISO-8601
(UTC) and numbers with a decimal point, rates as fractions rounded to 4 decimals (0.9211), so that a
spreadsheet or a script reads them without guessing (docs/decisions/0070-vietnamese-pages.md).
Text cells that a spreadsheet would run as a formula (=, +, -, @, tab, CR) are prefixed with an
apostrophe (OWASP CSV injection).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask import Response, request, url_for
from markupsafe import Markup

from ..disposition import content_disposition

_FORMULA = re.compile(r"^[=+\-@\t\r]")
SAFE_NAME = re.compile(r"[^a-z0-9_-]+")


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    show: Callable[[Any, Mapping[str, Any]], Any] | None = None  # value, row -> HTML (the page)
    text: Callable[[Any], Any] | None = None  # value -> plain value (CSV, and the page when `show` is None)
    numeric: bool = False
    csv_only: bool = False  # a detail the CSV carries but the page leaves out to stay readable


@dataclass
class Table:
    name: str            # the CSV's name: ?csv=<name>, file <name>.csv
    caption: str
    columns: list[Column]
    rows: Sequence[Mapping[str, Any]] = field(default_factory=list)
    empty: str = ""
    mark: Callable[[Mapping[str, Any]], str] | None = None  # a CSS class for a row (e.g. the event shown)

    @property
    def page_columns(self) -> list[Column]:
        return [c for c in self.columns if not c.csv_only]

    def row_class(self, row: Mapping[str, Any]) -> str:
        return self.mark(row) if self.mark is not None else ""

    def cell(self, column: Column, row: Mapping[str, Any]) -> Any:
        value = row.get(column.key)
        if column.show is not None:
            return column.show(value, row)
        if column.text is not None:
            value = column.text(value)
        if value is None:
            return ""
        if column.numeric and isinstance(value, int | float) and not isinstance(value, bool):
            from .i18n import number  # the page's language: 1.234 and 18,78 in Vietnamese

            return number(value, 0 if float(value).is_integer() else 2)
        return value

    def csv_url(self) -> str:
        args: dict[str, Any] = {k: v for k, v in request.args.items() if k != "csv"}
        return url_for(request.endpoint or "", **(request.view_args or {}), **args, csv=self.name)


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Markup):
        value = value.striptags()
    if isinstance(value, float):
        return round(value, 4)  # rates as fractions: 0.9211, not 0.9210526315789473
    if isinstance(value, int):
        return value
    text = str(value)
    return "'" + text if _FORMULA.match(text) else text


def as_csv(table: Table) -> Response:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.label for c in table.columns])
    for row in table.rows:
        writer.writerow([_csv_value(c.text(row.get(c.key)) if c.text else row.get(c.key)) for c in table.columns])
    name = SAFE_NAME.sub("-", table.name.lower()) or "table"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": content_disposition(f"{name}.csv")})


def answer_csv(tables: Iterable[Table]) -> Response | None:
    """The CSV of the table named by ?csv=, if any (404 when no table has that name)."""
    wanted = request.args.get("csv")
    if wanted is None:
        return None
    for t in tables:
        if t.name == wanted:
            return as_csv(t)
    from flask import abort

    abort(404)
