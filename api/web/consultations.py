"""The dossier page's consultations: a step that consults several agencies at once (a parallel
multi-instance step, decision 0163) listed per agency, "Lấy ý kiến: Thuế cơ sở 1 — đang xử lý; Phường Hải
Châu — đã xong", so the desk sees at a glance who has answered and who has not."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from engine import queries
from engine.definitions.model import ProcedureMeta
from engine.runtime.instances import is_multi_instance

OPEN_NOW, DONE = _l("open now"), _l("done")


@dataclass(frozen=True)
class Consultation:
    name: str
    parts: tuple[tuple[str | None, str], ...]  # (unit, what it is at: open now / done / the item's outcome)


def consultations(items: Sequence[queries.ItemView], meta: ProcedureMeta) -> list[Consultation]:
    """The latest round of each multi-instance step of the dossier, agency by agency, in their order."""
    out: list[Consultation] = []
    for step in dict.fromkeys(i.step for i in sorted(items, key=lambda i: i.ordinal)):
        if not is_multi_instance(meta, step):
            continue
        mine = [i for i in items if i.step == step]
        latest = max(i.created_at for i in mine)
        parts = tuple((i.unit, str(OPEN_NOW if i.state in queries.OPEN_ITEM else DONE if i.outcome == "completed"
                                   else i.outcome or i.state))
                      for i in sorted(mine, key=lambda i: i.ordinal) if i.created_at == latest)
        out.append(Consultation(mine[0].name, parts))
    return out
