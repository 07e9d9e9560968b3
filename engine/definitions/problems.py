"""A problem in a procedure file: which element, which rule, what to do about it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Problem:
    element: str  # BPMN/DMN element id, or the file/process when no element applies
    rule: str     # stable code, e.g. "step.sla", "di.missing", "condition.unsafe"
    message: str  # English, for the API's `detail` and problems
    # what pages need to say it in the reader's language (api/web/lint_messages.py); not part of the API
    params: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    def as_dict(self) -> dict[str, str]:
        return {"element": self.element, "rule": self.rule, "message": self.message}


class DefinitionRefused(ValueError):
    """A file that breaks the conventions; carries every problem found, not only the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(set(problems))
        super().__init__(f"{len(self.problems)} problem(s): " + "; ".join(
            f"{p.element}: {p.rule}: {p.message}" for p in self.problems[:5]))
