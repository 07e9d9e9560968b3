"""The organisation as data: units, roles, who serves which commune, demo officers.

Files under the organisation directory (see README, "Organisation data"):
- `roles.toml`    role codes, Vietnamese/English names, and how a role resolves to a unit;
- `units.csv`     every unit: code, name, type, parent, remote flag, agency code, source;
- `jurisdiction.csv`  for roles served per commune by another unit (registration branch, tax office):
                  commune code, role, serving unit, source;
- `officers.toml` demo officers (only loaded in demo mode).
The engine copies these into its database on `init`; an administrator changes the database, not code.
"""

from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

UNIT_TYPES = ("ward", "commune", "special_zone", "branch", "tax_office", "province_body")
COMMUNE_TYPES = ("ward", "commune", "special_zone")
# How a step role finds its unit for a dossier.
SCOPES = ("desk", "commune", "jurisdiction", "province", "none")


@dataclass(frozen=True)
class Role:
    code: str
    name_vi: str
    name_en: str
    scope: str
    province_unit: str | None = None  # for scope "province"

    @property
    def owns_steps(self) -> bool:
        return self.scope != "none"


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    type: str
    parent: str | None = None
    remote: bool = False
    agency_code: str | None = None
    source: str = ""


@dataclass(frozen=True)
class OfficerSeed:
    username: str
    name: str
    unit: str
    roles: tuple[str, ...]


@dataclass
class Organisation:
    roles: dict[str, Role] = field(default_factory=dict)
    units: dict[str, Unit] = field(default_factory=dict)
    # (commune code, role) -> serving unit code
    jurisdiction: dict[tuple[str, str], str] = field(default_factory=dict)
    officers: list[OfficerSeed] = field(default_factory=list)

    def step_roles(self) -> set[str]:
        return {r.code for r in self.roles.values() if r.owns_steps}

    def communes(self) -> list[Unit]:
        return [u for u in self.units.values() if u.type in COMMUNE_TYPES]


def _truthy(value: str) -> bool:
    return value.strip().lower() in ("yes", "true", "1", "y")


def load_roles(path: Path) -> dict[str, Role]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    roles: dict[str, Role] = {}
    for code, spec in data.get("roles", {}).items():
        scope = spec.get("scope", "none")
        if scope not in SCOPES:
            raise ValueError(f"{path}: role {code}: unknown scope {scope!r}")
        roles[code] = Role(code, spec["name_vi"], spec.get("name_en", code), scope, spec.get("province_unit"))
    return roles


def load_units(path: Path) -> dict[str, Unit]:
    units: dict[str, Unit] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            utype = row["type"].strip()
            if utype not in UNIT_TYPES:
                raise ValueError(f"{path}: unit {row['code']}: unknown type {utype!r}")
            units[row["code"].strip()] = Unit(
                code=row["code"].strip(),
                name=row["name"].strip(),
                type=utype,
                parent=(row.get("parent") or "").strip() or None,
                remote=_truthy(row.get("remote") or ""),
                agency_code=(row.get("agency_code") or "").strip() or None,
                source=(row.get("source") or "").strip(),
            )
    return units


def load_jurisdiction(path: Path) -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    if not path.exists():
        return out
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            out[(row["commune"].strip(), row["role"].strip())] = row["unit"].strip()
    return out


def load_officers(path: Path) -> list[OfficerSeed]:
    if not path.exists():
        return []
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return [
        OfficerSeed(o["username"], o.get("name", o["username"]), o["unit"], tuple(o.get("roles", [])))
        for o in data.get("officer", [])
    ]


def load_organisation(directory: Path) -> Organisation:
    org = Organisation(
        roles=load_roles(directory / "roles.toml"),
        units=load_units(directory / "units.csv"),
        jurisdiction=load_jurisdiction(directory / "jurisdiction.csv"),
        officers=load_officers(directory / "officers.toml"),
    )
    problems = check_organisation(org)
    if problems:
        raise ValueError("organisation data is inconsistent:\n  " + "\n  ".join(problems))
    return org


def check_organisation(org: Organisation) -> list[str]:
    """Cross-references that a typo in a CSV would silently break."""
    problems: list[str] = []
    for unit in org.units.values():
        if unit.parent and unit.parent not in org.units:
            problems.append(f"unit {unit.code}: parent {unit.parent} is not a unit")
    for (commune, role_code), serving in org.jurisdiction.items():
        if commune not in org.units:
            problems.append(f"jurisdiction: commune {commune} is not a unit")
        if role_code not in org.roles:
            problems.append(f"jurisdiction: role {role_code} is not a role")
        if serving not in org.units:
            problems.append(f"jurisdiction: unit {serving} (serving {commune}) is not a unit")
    for role in org.roles.values():
        if role.scope == "province" and role.province_unit not in org.units:
            problems.append(f"role {role.code}: province unit {role.province_unit} is not a unit")
    for officer in org.officers:
        if officer.unit not in org.units:
            problems.append(f"officer {officer.username}: unit {officer.unit} is not a unit")
        for r in officer.roles:
            if r not in org.roles:
                problems.append(f"officer {officer.username}: role {r} is not a role")
    return problems
