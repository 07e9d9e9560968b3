"""The result documents a signed step may declare it produces (`documents=register_page|issuance_record`),
besides its decision record: the kinds the API renders (api/slips/results.py) and the rule the check
applies (docs/decisions/0174)."""

from __future__ import annotations

from .model import ProcedureMeta
from .problems import Problem

RESULT_KINDS = ("register_page", "issuance_record")


def document_rules(meta: ProcedureMeta) -> list[Problem]:
    """Only known kinds, and only on signed steps (the documents carry the signed decision's hash)."""
    out: list[Problem] = []
    for node in meta.nodes.values():
        text = node.properties.get("documents")
        if text is None:
            continue
        kinds = [k.strip() for k in text.split("|") if k.strip()]
        unknown = [k for k in kinds if k not in RESULT_KINDS]
        if unknown or not kinds:
            out.append(Problem(node.id, "step.documents",
                               f"documents {text[:80]!r}: the known result documents are "
                               f"{' and '.join(RESULT_KINDS)}, separated by |", (("text", text[:80]),)))
        step = meta.steps.get(node.id)
        if kinds and (step is None or not step.signed):
            out.append(Problem(node.id, "step.documents",
                               "only a signed step produces result documents (add signed=true)",
                               (("text", text[:80]),)))
    return out
