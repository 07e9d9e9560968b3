"""Officers, units, and which unit owns a role for a given dossier.

The organisation lives in the database (seeded from config on `init`, changed by administrators);
the engine keeps an in-memory Directory of it because every command resolves owners, and re-reads
it when asked (`refresh`) or when its age passes `max_age` seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.organisation import COMMUNE_TYPES, Organisation, Role, Unit
from config.organisation import OfficerSeed as _Seed

from .store import Database, JurisdictionRow, OfficerRow, RoleRow, UnitRow

SYSTEM = "system"  # the actor of scheduler and engine-made events


@dataclass(frozen=True)
class Officer:
    username: str
    name: str
    unit: str
    roles: frozenset[str]
    active: bool = True
    public_key: str | None = None  # ed25519:<base64>, for signing decisions (engine/signatures.py)

    def has(self, role: str) -> bool:
        return role in self.roles


class UnresolvedOwner(LookupError):
    """No unit serves this role for this commune: an organisation-data gap, named precisely."""


@dataclass
class Directory:
    units: dict[str, Unit] = field(default_factory=dict)
    roles: dict[str, Role] = field(default_factory=dict)
    jurisdiction: dict[tuple[str, str], str] = field(default_factory=dict)
    officers: dict[str, Officer] = field(default_factory=dict)

    def step_roles(self) -> set[str]:
        return {r.code for r in self.roles.values() if r.owns_steps}

    def is_commune(self, code: str | None) -> bool:
        return code is not None and code in self.units and self.units[code].type in COMMUNE_TYPES

    def owner_unit(self, role: str, commune: str | None, desk_unit: str) -> str:
        """The unit that owns `role` for a dossier of `commune` received at `desk_unit`."""
        r = self.roles.get(role)
        if r is None:
            raise UnresolvedOwner(f"role {role!r} is not known")
        if r.scope == "desk":
            return desk_unit
        if r.scope == "province":
            if not r.province_unit:
                raise UnresolvedOwner(f"role {role!r} names no provincial unit")
            return r.province_unit
        if commune is None:
            raise UnresolvedOwner(f"role {role!r} needs the dossier's commune, which is not decided yet")
        if r.scope == "commune":
            return commune
        if r.scope == "jurisdiction":
            unit = self.jurisdiction.get((commune, role))
            if unit is None:
                raise UnresolvedOwner(f"no unit serves role {role!r} for commune {commune}")
            return unit
        raise UnresolvedOwner(f"role {role!r} owns no steps")

    def officers_in(self, unit: str, role: str | None = None) -> list[Officer]:
        return [o for o in self.officers.values()
                if o.unit == unit and o.active and (role is None or role in o.roles)]

    def heads_of(self, unit: str) -> list[Officer]:
        return self.officers_in(unit, "unit_head")


class DirectoryCache:
    """The Directory of one database, reloaded on demand or when older than `max_age` seconds."""

    def __init__(self, db: Database, max_age: float = 30.0):
        self.db = db
        self.max_age = max_age
        self._lock = threading.Lock()
        self._dir: Directory | None = None
        self._loaded = 0.0

    def get(self) -> Directory:
        with self._lock:
            if self._dir is None or time.monotonic() - self._loaded > self.max_age:
                with self.db.read() as s:
                    self._dir = load_directory(s)
                self._loaded = time.monotonic()
            return self._dir

    def refresh(self) -> Directory:
        with self._lock:
            self._dir = None
        return self.get()


def load_directory(session: Session) -> Directory:
    d = Directory()
    for u in session.scalars(select(UnitRow)):
        d.units[u.code] = Unit(u.code, u.name, u.type, u.parent, u.remote, u.agency_code, u.source)
    for r in session.scalars(select(RoleRow)):
        d.roles[r.code] = Role(r.code, r.name_vi, r.name_en, r.scope, r.province_unit)
    for j in session.scalars(select(JurisdictionRow)):
        d.jurisdiction[(j.commune, j.role)] = j.unit
    for o in session.scalars(select(OfficerRow)):
        d.officers[o.username] = Officer(o.username, o.name, o.unit, frozenset(o.roles.split()), o.active,
                                         o.public_key)
    return d


def seed_organisation(session: Session, org: Organisation, officers: Iterable[_Seed] = ()) -> None:
    """Copy config's organisation into the database (idempotent: existing rows are updated)."""
    for r in org.roles.values():
        session.merge(RoleRow(code=r.code, name_vi=r.name_vi, name_en=r.name_en, scope=r.scope,
                              province_unit=r.province_unit))
    for u in org.units.values():
        session.merge(UnitRow(code=u.code, name=u.name, type=u.type, parent=u.parent, remote=u.remote,
                              agency_code=u.agency_code, source=u.source))
    for (commune, role), unit in org.jurisdiction.items():
        session.merge(JurisdictionRow(commune=commune, role=role, unit=unit))
    session.flush()
    for seed in officers:
        add_officer(session, seed.username, seed.name, seed.unit, seed.roles)


def add_officer(
    session: Session, username: str, name: str, unit: str, roles: Iterable[str],
    password_hash: str | None = None, demo: bool = False, public_key: str | None = None,
) -> OfficerRow:
    row = session.scalar(select(OfficerRow).where(OfficerRow.username == username))
    if row is None:
        row = OfficerRow(username=username, name=name, unit=unit, roles=" ".join(sorted(set(roles))),
                         password_hash=password_hash, demo=demo, public_key=public_key, active=True)
        session.add(row)
    else:
        row.name, row.unit, row.roles = name, unit, " ".join(sorted(set(roles)))
        if password_hash is not None:
            row.password_hash = password_hash
        if public_key is not None:
            row.public_key = public_key
        row.demo = demo
    session.flush()
    return row
