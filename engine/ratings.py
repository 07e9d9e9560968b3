"""The applicant rates the service once, after the result was handed back (Decision 766/QĐ-TTg counts
satisfaction): `rated` in the dossier's chain, made by the applicant (actor `applicant`), proven by the
receipt's token or the code and identity digits (engine/lookup.py). Rating is not an officer's act: it
is not in the policy's RULES table and never leaves a signal about anyone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from .events import Rated
from .org import Officer
from .store import CaseEventRow

if TYPE_CHECKING:
    from .runtime import DossierState, Runtime

RATINGS = ("very_satisfied", "satisfied", "not_satisfied")
APPLICANT = "applicant"


class RatingRefused(ValueError):
    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(message)


def check_rating(rating: str, reason: str | None) -> str:
    if rating not in RATINGS:
        raise RatingRefused("invalid_rating", f"rating must be one of {', '.join(RATINGS)}")
    text = (reason or "").strip()
    if rating == "not_satisfied" and not text:
        raise RatingRefused("missing_reason", "say why you are not satisfied")
    if len(text) > 2000:
        raise RatingRefused("reason_too_long", "the reason is longer than 2000 characters")
    return text


def rate(runtime: Runtime, dossier_id: int, desk_unit: str, rating: str, reason: str | None) -> DossierState:
    text = check_rating(rating, reason)
    applicant = Officer(APPLICANT, "Người nộp hồ sơ", desk_unit, frozenset({APPLICANT}))

    def rated_before(conn: Any, work: Any) -> None:  # the load phase: decisions get no connection
        work.extra = conn.execute(select(func.count()).select_from(CaseEventRow.__table__).where(
            CaseEventRow.dossier_id == work.state.id, CaseEventRow.type == "rated")).scalar()

    def body(work: Any) -> None:
        from .errors import Conflict

        if work.state.status != "done":
            raise Conflict("not_handed_back", "the result has not been handed back yet")
        if work.extra:
            raise Conflict("already_rated", "this dossier was already rated")
        runtime.emit(work, Rated(rating=rating, reason=text or None))

    return runtime._dossier_command("rate", applicant, dossier_id, None, body, load_also=rated_before)
