"""What a dossier waiting on another agency waits for, in words: the catch event's name and the unit that
answers (the one serving the catch event's `from_role` for the dossier's commune). Read by the dossier
page, the officers' lists and the citizen's lookup (engine/runtime/messages.py records the wait)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from .org import Directory, UnresolvedOwner
from .store import Database, DossierRow


@dataclass(frozen=True)
class Awaited:
    element: str
    name: str  # the catch event's name, e.g. "Thông báo nghĩa vụ tài chính"
    unit: str  # the answering unit's name, e.g. "Thuế cơ sở 1"

    def phrase(self) -> str:
        return f"{self.name} ({self.unit})" if self.unit else self.name


def node_table(nodes: Iterable[Any]) -> dict[str, tuple[str, dict[str, str]]]:
    """Element id -> (name, properties), from `ProcedureMeta.nodes` values or the stored `[id, kind, name,
    lane, properties]` lists."""
    out: dict[str, tuple[str, dict[str, str]]] = {}
    for n in nodes:
        if isinstance(n, (list, tuple)):
            out[str(n[0])] = (str(n[2] or ""), dict(n[4]) if len(n) > 4 and isinstance(n[4], Mapping) else {})
        else:
            out[n.id] = (n.name, dict(n.properties))
    return out


def awaited(awaiting: str | None, status: str, commune: str | None, desk_unit: str,
            nodes: Mapping[str, tuple[str, dict[str, str]]], directory: Directory) -> list[Awaited]:
    """The messages an in-progress dossier waits for; [] when it waits for none (or is finished)."""
    if not awaiting or status != "in_progress":
        return []
    out: list[Awaited] = []
    for element in awaiting.split(","):
        name, props = nodes.get(element, (element, {}))
        unit = ""
        role = props.get("from_role")
        if role:
            try:
                code = directory.owner_unit(role, commune, desk_unit)
                unit = directory.units[code].name if code in directory.units else code
            except UnresolvedOwner:
                unit = ""
        out.append(Awaited(element, name or element, unit))
    return out


def catch_nodes(meta: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """From a stored procedure version's metadata: the message catch events (those with `from_role`) as
    {id, name, role}, beside its steps (the process-mining export names the activity by them)."""
    out: dict[str, dict[str, Any]] = {}
    for n in meta.get("nodes", []):
        props = n[4] if len(n) > 4 and isinstance(n[4], Mapping) else {}
        if n[1] in ("intermediateCatchEvent", "boundaryEvent") and props.get("from_role"):
            out[str(n[0])] = {"id": str(n[0]), "name": str(n[2] or n[0]), "role": props["from_role"]}
    return out


def awaiting_of(db: Database, dossier_ids: list[int]) -> set[int]:
    """Of these dossiers, those in progress that wait for another agency's answer (one indexed read, for
    the officers' lists, whose rows do not carry the column)."""
    if not dossier_ids:
        return set()
    with db.lookup() as conn:
        return {int(i) for i in conn.execute(select(DossierRow.id).where(
            DossierRow.id.in_(dossier_ids), DossierRow.awaiting.is_not(None), DossierRow.status == "in_progress"))
            .scalars()}
