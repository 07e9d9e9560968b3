"""Which commune a dossier belongs to, when the procedure has to find out (transitional hand-overs).

A dossier handed over by an abolished district body names the parcel's *old* commune. A procedure
that declares the process property `jurisdiction_from=<field>` (and optionally
`jurisdiction_district_from=<field>`) asks the engine to resolve that old name when the step whose
form has `<field>` completes:

- the successor is known → the dossier is re-homed to it (commune, remote flag), and the data gets
  `successor_known = True`, `successor_candidates = [code]`;
- the name is ambiguous (a split commune such as Hòa Liên, Hòa Minh, a name found in two districts)
  or unknown → `successor_known = False`, `successor_candidates` = the possible units (possibly
  none) and `successor_reason` says what to look up. The engine never guesses a unit.

A later step whose form has a `jurisdiction` field (a provincial decision) re-homes the dossier to
the unit the officer names; when the look-up was ambiguous, it must be one of the candidates.
All of it is recorded in the `completed` event (`derived` data, `fx` dossier changes), so replay
reproduces the routing without the locality data.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from config.localities import Ambiguous, Localities
from config.organisation import load_organisation

from ..definitions.model import ProcedureMeta, StepMeta
from ..errors import Invalid
from ..org import Directory

if TYPE_CHECKING:
    from .state import DossierState

JURISDICTION = "jurisdiction"


class SuccessorLookup:
    """The locality data (old unit → successor), loaded once, on first use, from the organisation dir."""

    def __init__(self, organisation_dir: Path | None):
        self.organisation_dir = organisation_dir
        self._lock = threading.Lock()
        self._localities: Localities | None = None

    def localities(self) -> Localities:
        with self._lock:
            if self._localities is None:
                if self.organisation_dir is None:
                    raise LookupError("no locality data is configured (LANDFLOW_ORGANISATION_DIR)")
                units = load_organisation(self.organisation_dir).units
                self._localities = Localities.load(self.organisation_dir, units)
            return self._localities

    def resolve(self, old_commune: str, old_district: str | None, directory: Directory) -> dict[str, Any]:
        """`successor_known`, `successor_candidates`, `successor_reason` (and `successor_name`)."""
        try:
            found = self.localities().successor(old_commune, old_district or None)
        except (KeyError, LookupError, ValueError) as err:
            message = err.args[0] if err.args else str(err)
            return {"successor_known": False, "successor_candidates": [], "successor_reason": str(message)}
        if isinstance(found, Ambiguous):
            return {"successor_known": False, "successor_candidates": list(found.candidates),
                    "successor_reason": found.reason}
        if not directory.is_commune(found.unit_code):
            return {"successor_known": False, "successor_candidates": [],
                    "successor_reason": f"the successor {found.unit_name} ({found.unit_code}) is not a unit "
                                        "of this organisation"}
        via = f" ({found.via})" if found.via else ""
        return {"successor_known": True, "successor_candidates": [found.unit_code],
                "successor_reason": f"{old_commune} → {found.old_name}, {found.old_district} → "
                                    f"{found.unit_name}{via}"}


def route(lookup: SuccessorLookup | None, meta: ProcedureMeta, step: StepMeta, clean: dict[str, Any],
          task_data: dict[str, Any], state: DossierState, directory: Directory,
          dossier_fx: dict[str, Any]) -> dict[str, Any]:
    """Decide the routing effects of completing `step` with `clean`; returns the derived data.

    Changes `state.commune` at once so that the owners of the next steps are resolved in the new commune.
    """
    derived: dict[str, Any] = {}
    source = meta.properties.get("jurisdiction_from")
    fields = {f.name for f in step.form}
    if source and source in fields and clean.get(source):
        district_field = meta.properties.get("jurisdiction_district_from")
        district = clean.get(district_field) if district_field else None
        if lookup is None:
            derived = {"successor_known": False, "successor_candidates": [],
                       "successor_reason": "no locality data is configured"}
        else:
            derived = lookup.resolve(str(clean[source]), str(district) if district else None, directory)
        if derived["successor_known"]:
            _rehome(derived["successor_candidates"][0], state, directory, dossier_fx)
    if JURISDICTION in clean:
        code = clean[JURISDICTION]
        if not directory.is_commune(code):
            raise Invalid("invalid_data", f"jurisdiction {code!r} is not a ward, commune or special "
                                                    "zone code")
        candidates = task_data.get("successor_candidates") or []
        if task_data.get("successor_known") is False and candidates and code not in candidates:
            raise Invalid("not_a_candidate",
                         f"jurisdiction {code!r} is not one of the possible successors "
                         f"({', '.join(candidates)}): {task_data.get('successor_reason', '')}")
        _rehome(code, state, directory, dossier_fx)
    return derived


def _rehome(code: str, state: DossierState, directory: Directory, dossier_fx: dict[str, Any]) -> None:
    dossier_fx["commune"] = code
    dossier_fx["remote"] = directory.units[code].remote
    state.commune = code
