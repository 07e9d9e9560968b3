"""Typed errors of engine commands."""

from __future__ import annotations

from ..policy import KINDS, Refusal


class CommandRefused(Exception):
    """The engine refused a command; nothing changed except the recorded refusal.

    `kind` maps to HTTP (forbidden 403, not_found 404, conflict 409, stale 412, invalid 422);
    `code` is stable and names the rule (wrong_unit, missing_reason, illegal_target, …).
    """

    def __init__(self, refusal: Refusal, dossier_id: int | None = None, problems: list[str] | None = None):
        self.refusal = refusal
        self.kind = refusal.kind
        self.code = refusal.code
        self.dossier_id = dossier_id
        self.problems = problems or []
        super().__init__(refusal.message)

    @property
    def status(self) -> int:
        return KINDS[self.kind]

    @property
    def message(self) -> str:
        return self.refusal.message


def refuse(kind: str, code: str, message: str, problems: list[str] | None = None) -> CommandRefused:
    return CommandRefused(Refusal(kind, code, message), problems=problems)
