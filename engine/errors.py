"""Refusals as types: what the engine raises when it refuses a command.

One base, `CommandRefused`, and one subclass per kind of refusal: `Forbidden` (outside the officer's
unit, role or claim), `NotFound`, `Conflict` (the dossier or item is not in a state for it), `Stale`
(the client acted on an old version), `Invalid` (what was sent is not acceptable). Each carries its
stable `code` (the rule: wrong_unit, missing_reason, illegal_target, …), the `params` pages render
it with, and the category recorded in the `action_refused` event (engine/policy.py). The engine
knows nothing of HTTP: api/problems.py is the one place mapping these types to statuses.

`CommandRefused(refusal)` with a policy `Refusal` still works and builds the subclass of its kind,
so the pure policy functions keep returning values and callers raise them unchanged.
"""

from __future__ import annotations

from typing import Any, ClassVar

from .policy import Refusal


class CommandRefused(Exception):
    """The engine refused a command; nothing changed except the recorded refusal."""

    kind: ClassVar[str] = ""

    def __new__(cls, *args: Any, **kwargs: Any) -> CommandRefused:
        if cls is CommandRefused and args and isinstance(args[0], Refusal):
            cls = KIND_CLASS[args[0].kind]
        return super().__new__(cls)

    def __init__(self, code: str | Refusal, message: str = "", params: dict[str, Any] | None = None, *,
                 category: str | None = None, problems: list[str] | None = None,
                 dossier_id: int | None = None):
        if isinstance(code, Refusal):
            refusal = code
            if refusal.kind != self.kind:
                raise ValueError(f"a {refusal.kind} refusal raised as {type(self).__name__}")
        else:
            refusal = Refusal(self.kind, code, message, dict(params or {}), category)
        self.refusal = refusal
        self.code = refusal.code
        self.dossier_id = dossier_id
        self.problems = problems or []
        super().__init__(refusal.message)

    @property
    def message(self) -> str:
        return self.refusal.message

    @property
    def params(self) -> dict[str, Any]:
        return self.refusal.params

    @property
    def category(self) -> str:
        """The category recorded with the refusal (REFUSAL_CATEGORIES in engine/policy.py)."""
        return self.refusal.recorded_category


class Forbidden(CommandRefused):
    """Outside the officer's unit, role or claim, or by a read-only or deactivated account."""

    kind = "forbidden"


class NotFound(CommandRefused):
    kind = "not_found"


class Conflict(CommandRefused):
    """The dossier or item is not in a state that allows the command (finished, claimed, …)."""

    kind = "conflict"


class Stale(CommandRefused):
    """The client acted on a version of the dossier that has changed since."""

    kind = "stale"


class Invalid(CommandRefused):
    """What was sent is not acceptable (form data, reason, target, signature)."""

    kind = "invalid"


KIND_CLASS: dict[str, type[CommandRefused]] = {c.kind: c for c in (Forbidden, NotFound, Conflict, Stale, Invalid)}


def refused(refusal: Refusal, problems: list[str] | None = None) -> CommandRefused:
    """The exception for a policy refusal (the subclass of its kind)."""
    return KIND_CLASS[refusal.kind](refusal, problems=problems)
