"""`landflow lint`: the deploy-time problems plus the "6 clear" completeness of every step.

"6 clear" (Da Nang Directive 04/CT-UBND): clear people (owner), work (step name), results
(`result`), authority (`legal_basis`), progress (`sla`) and responsibility (the event log — always
true in landflow). A file can deploy and still be incomplete on results or authority; lint says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..papers.requirements import PaperError
from .fragments import FragmentResolver, is_fragment
from .problems import Problem
from .validate import check_with_meta

CLEAR = ("people", "work", "results", "authority", "progress", "responsibility")


@dataclass
class LintReport:
    key: str | None
    name: str | None
    problems: list[Problem] = field(default_factory=list)
    six_clear: dict[str, dict[str, bool]] = field(default_factory=dict)
    steps: list[dict[str, Any]] = field(default_factory=list)
    papers: list[dict[str, Any]] = field(default_factory=list)
    fragment: bool = False  # called from procedures, never received: no papers of its own

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def completeness(self) -> float:
        """Share of (step, clear) pairs satisfied, 0..1, plus one cell for the procedure's list of
        papers: what the applicant must bring is the desk's "clear work" at reception."""
        cells = [v for step in self.six_clear.values() for v in step.values()]
        if self.six_clear and not self.fragment:
            cells.append(bool(self.papers))
        return sum(cells) / len(cells) if cells else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "name": self.name, "ok": self.ok,
                "problems": [p.as_dict() for p in self.problems], "six_clear": self.six_clear,
                "completeness": round(self.completeness, 4), "steps": self.steps,
                "papers": self.papers}


def lint(bpmn: bytes, dmns: list[bytes] | None, roles: set[str], max_bytes: int = 2_000_000,
         fragments: FragmentResolver | None = None) -> LintReport:
    _checked, problems, meta = check_with_meta(bpmn, dmns, roles, max_bytes, fragments=fragments)
    if meta is None:
        return LintReport(None, None, problems)
    try:
        papers = [p.as_dict() for p in meta.papers()]
    except PaperError:
        papers = []  # already among the problems
    return LintReport(meta.key, meta.name, problems, meta.six_clear(), [s.as_dict() for s in meta.steps.values()],
                      papers, is_fragment(meta))
