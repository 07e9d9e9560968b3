"""What-if: the same dossiers through the version in force and through a candidate, side by side.

The entry point for the API, the pages and the CLI. The candidate (a file or a draft's bytes) goes
through the engine's own check first: a file that could not be deployed is not simulated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from ..bootstrap import Landflow
from ..definitions.fragment_store import database_fragments
from ..definitions.problems import Problem
from ..definitions.validate import check
from ..definitions.versions import version_in_force
from ..runtime import workflow as wfm
from .history import Observed, observe
from .simulate import Outcome, Simulator, StepStats

MAX_MONTHS = 24
MAX_CASES = 20_000  # a window larger than this is refused: narrow the months (docs/whatif.md)


class WhatIfRefused(ValueError):
    """The what-if cannot run: a refusal code, an English detail, and the file's problems if any."""

    def __init__(self, code: str, detail: str, problems: list[Problem] | None = None):
        super().__init__(detail)
        self.code, self.detail, self.problems = code, detail, problems or []


@dataclass
class Variant:
    label: str  # "in_force" | "candidate"
    version: int | None
    outcomes: list[Outcome]
    steps: dict[str, StepStats]
    load: dict[str, dict[str, int]]
    bottleneck_minutes: int

    @property
    def ran(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.problem is None]

    @property
    def late(self) -> list[Outcome]:
        return sorted((o for o in self.outcomes if o.late), key=lambda o: (-o.late_minutes, o.code))

    @property
    def on_time_rate(self) -> float | None:
        ran = self.ran
        return (len(ran) - len(self.late)) / len(ran) if ran else None

    @property
    def bottlenecks(self) -> list[StepStats]:
        """Steps whose items waited in their unit's queue, on average, at least `bottleneck_minutes`."""
        found = [s for s in self.steps.values() if s.items and s.mean_wait >= self.bottleneck_minutes]
        return sorted(found, key=lambda s: (-s.mean_wait, s.step))

    def as_dict(self) -> dict[str, Any]:
        rate = self.on_time_rate
        return {"label": self.label, "version": self.version, "dossiers": len(self.outcomes),
                "simulated": len(self.ran), "on_time": len(self.ran) - len(self.late),
                "on_time_rate": None if rate is None else round(rate, 4),
                "late": [o.as_dict() for o in self.late],
                "not_simulated": [o.as_dict() for o in self.outcomes if o.problem is not None],
                "steps": [s.as_dict() for s in sorted(self.steps.values(), key=lambda s: s.step)],
                "bottlenecks": [s.step for s in self.bottlenecks],
                "load": {u: dict(sorted(w.items())) for u, w in sorted(self.load.items())}}


@dataclass
class WhatIfReport:
    procedure: str
    months: int
    seed: int
    start: datetime
    end: datetime
    in_force: Variant
    candidate: Variant
    capacity: dict[str, int] = field(default_factory=dict)
    officers: dict[str, int] = field(default_factory=dict)

    @property
    def new_bottlenecks(self) -> list[str]:
        """Bottlenecks of the candidate that the version in force does not have."""
        before = {s.step for s in self.in_force.bottlenecks}
        return [s.step for s in self.candidate.bottlenecks if s.step not in before]

    @property
    def weeks(self) -> list[str]:
        return sorted({w for v in (self.in_force, self.candidate) for per in v.load.values() for w in per})

    @property
    def units(self) -> list[str]:
        return sorted({u for v in (self.in_force, self.candidate) for u in v.load})

    def as_dict(self) -> dict[str, Any]:
        return {"procedure": self.procedure, "months": self.months, "seed": self.seed,
                "from": self.start.isoformat(), "to": self.end.isoformat(),
                "capacity": dict(sorted(self.capacity.items())), "officers": dict(sorted(self.officers.items())),
                "in_force": self.in_force.as_dict(), "candidate": self.candidate.as_dict(),
                "new_bottlenecks": self.new_bottlenecks}


def months_before(at: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (the month's last day when shorter)."""
    y, m = divmod(at.year * 12 + at.month - 1 - months, 12)
    day = at.day
    while True:
        try:
            return at.replace(year=y, month=m + 1, day=day)
        except ValueError:
            day -= 1


def window(lf: Landflow, months: int, until: date | None = None) -> tuple[datetime, datetime]:
    """Whole local days: from `months` months before the end of `until` (default today) to that end, so
    that the same data and seed give the same report all day long."""
    last = until or lf.clock.now().astimezone(lf.calendar.tz).date()
    end = datetime.combine(last + timedelta(days=1), time(0), lf.calendar.tz)
    return months_before(end, months), end


def what_if(lf: Landflow, key: str, bpmn: bytes, dmns: list[bytes] | None = None, *, months: int = 6,
            seed: int = 1, until: date | None = None) -> WhatIfReport:
    """Simulate the dossiers of procedure `key` received in the `months` months up to the end of `until`
    through its version in force and through `bpmn`."""
    if not isinstance(months, int) or not 1 <= months <= MAX_MONTHS:
        raise WhatIfRefused("invalid_months", f"months must be a whole number from 1 to {MAX_MONTHS}")
    if until is not None and until > lf.clock.now().astimezone(lf.calendar.tz).date():
        raise WhatIfRefused("invalid_until", "the window cannot end after today: what-if replays recorded dossiers")
    # a candidate over the time budget is simulated all the same: that is how the supervisor sees by how much
    with lf.db.read() as s:
        checked, problems = check(bpmn, dmns, lf.directory.get().step_roles(), lf.settings.max_bpmn_bytes,
                                  tolerate=frozenset({"budget.path"}), fragments=database_fragments(s, lf.clock.now()))
    if checked is None:
        raise WhatIfRefused("invalid_file", "the candidate file does not pass the procedure check", problems)
    if checked.meta.key != key:
        raise WhatIfRefused("other_procedure",
                            f"the file is procedure {checked.meta.key!r}, not {key!r}: what-if compares versions "
                            "of one procedure")
    start, end = window(lf, months, until)
    with lf.db.read() as s:
        in_force = version_in_force(s, key, lf.clock.now())  # not a later version still waiting for its day
        current = lf.procedures.get(s, in_force) if in_force is not None else None
        if current is None:
            raise WhatIfRefused("unknown_procedure", f"procedure {key!r} is not deployed")
        obs = observe(s, lf.calendar, key, start, end)
    if len(obs.cases) > MAX_CASES:
        raise WhatIfRefused("window_too_large",
                            f"{len(obs.cases)} dossiers in {months} months: more than {MAX_CASES}; take fewer months")
    candidate = wfm.Procedure(0, key, 0, checked.meta.name, checked.meta, checked.spec, checked.subprocess_specs)
    half_day = lf.calendar.day_minutes // 2
    return WhatIfReport(key, months, seed, start, end,
                        _variant(lf, "in_force", current.version, current, obs, seed, half_day),
                        _variant(lf, "candidate", None, candidate, obs, seed, half_day),
                        dict(obs.capacity), dict(obs.officers))


def _variant(lf: Landflow, label: str, version: int | None, proc: wfm.Procedure, obs: Observed, seed: int,
             bottleneck: int) -> Variant:
    sim = Simulator(proc.meta, proc, obs, lf.calendar, lf.directory.get(), seed, lf.settings.sla_overrides,
                    lf.settings.remote_extension)
    outcomes, steps, load = sim.run()
    return Variant(label, version, outcomes, steps, load, bottleneck)
