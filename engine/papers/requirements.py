"""The papers a procedure requires, as the procedure file lists them.

Syntax (docs/procedure-conventions.md, "Papers"): one process-level property per paper,
`paper.<code>` = `required | <name> | <legal basis>` or `conditional: <when> | <name> | <legal basis>`.
One property a paper (rather than one long list in one property) keeps each paper a separate line
in any modeler's property panel and in the diff, and keeps document order = the order on the
reception checklist and on the receipt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

PREFIX = "paper."
CODE = re.compile(r"^[a-z0-9][a-z0-9_]{0,39}$")
MAX_NAME = 400
MAX_FIELD = 600


class PaperError(ValueError):
    """A `paper.*` property that does not follow the syntax; the message names the paper."""


@dataclass(frozen=True)
class Paper:
    code: str
    name: str
    required: bool
    condition: str | None = None
    legal_basis: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "required": self.required,
                "condition": self.condition, "legal_basis": self.legal_basis}


def parse_paper(code: str, value: str) -> Paper:
    if not CODE.match(code):
        raise PaperError(f"paper code {code!r}: use lowercase letters, digits and '_' (at most 40)")
    parts = [p.strip() for p in value.split("|")]
    if len(parts) not in (2, 3):
        raise PaperError(f"paper {code!r}: write 'required | name | legal basis' or "
                         "'conditional: when | name | legal basis'")
    kind, name = parts[0], parts[1]
    basis = parts[2] if len(parts) == 3 and parts[2] else None
    if not name:
        raise PaperError(f"paper {code!r}: the name is empty")
    if len(name) > MAX_NAME or len(kind) > MAX_FIELD or len(basis or "") > MAX_FIELD:
        raise PaperError(f"paper {code!r}: a text is too long (name at most {MAX_NAME} characters)")
    if kind == "required":
        return Paper(code, name, True, None, basis)
    m = re.match(r"^conditional\s*:\s*(.+)$", kind, re.S)
    if not m:
        raise PaperError(f"paper {code!r}: starts with 'required' or 'conditional: <when>', not {kind[:40]!r}")
    return Paper(code, name, False, m.group(1).strip(), basis)


def papers_of(properties: dict[str, str]) -> list[Paper]:
    """The procedure's papers in document order; raises PaperError on the first malformed one."""
    return [parse_paper(name[len(PREFIX):], value) for name, value in properties.items()
            if name.startswith(PREFIX)]


def paper_problems(properties: dict[str, str]) -> list[tuple[str, str]]:
    """Every malformed paper as (code, message), for the checker's list of problems."""
    out: list[tuple[str, str]] = []
    for name, value in properties.items():
        if name.startswith(PREFIX):
            try:
                parse_paper(name[len(PREFIX):], value)
            except PaperError as err:
                out.append((name[len(PREFIX):], str(err)))
    return out
