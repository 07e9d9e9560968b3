"""A realistic history for demos and reports: thousands of dossiers over the last 60 working days.

The simulation drives the engine's own commands (nothing is written behind its back, so every
dossier verifies) with a FixedClock that an event queue moves forward through working time. Desks
of the demo communes receive dossiers of the bundled land procedures; officers claim and complete
steps within a share of each step's limit; some officers are slow (their items run late, and their
unit sometimes apologises with a new date), some return dossiers or re-route them (now and then
back where they came from: ping-pong), applicants are asked for supplements (a few twice), a few
dossiers are stopped or cancelled, and officers of the wrong unit now and then try to take an item
(refused, recorded). Dossiers whose next move would fall after the end stay open: worklists and
overdue lists have something in them. The same seed and end date give the same history.

The deadline scheduler runs inside the simulated time too, as it would beside a real server: the
sweep twice a working day (its notices — overdue steps and dossiers, escalations to unit heads,
idle claims, due-soon warnings — go into the histories and the signals) and once more at the end,
and a signed checkpoint at the close of every working day (when `landflow init` made the key). So
the accountability and KPI reports have something to show the moment the server starts.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from engine import accounts
from engine.bootstrap import Landflow
from engine.checkpoints import create_checkpoint
from engine.clock import FixedClock
from engine.definitions.forms import clean_submission
from engine.definitions.model import ProcedureMeta, StepMeta
from engine.definitions.refusals import step_choice
from engine.org import Officer
from engine.runtime import CommandRefused, DossierState, ItemState
from engine.scheduler import Sweeper
from engine.signatures import officer_key, public_key_text, read_private_key, register_key, sign_decision

# desk unit -> share of arrivals; the province desk takes dossiers of any demo commune (boundary-free)
DESKS = {"20242": 0.30, "20341": 0.20, "20194": 0.17, "20197": 0.17, "20710": 0.08, "TTPVHCC": 0.08}
COMMUNES = ("20242", "20341", "20194", "20197", "20710")
PROCEDURES = {
    "land_transfer": 0.34, "mortgage_registration": 0.16, "certificate_exchange": 0.12,
    "first_registration": 0.10, "parcel_split_merge": 0.08, "purpose_change_registration": 0.08,
    "certificate_correction": 0.06, "certificate_reissue_lost": 0.06,
}
# officers with habits: (share of the step's limit they take, chance to return, chance to re-route)
HABITS = {
    "branch.bengiang": (1.6, 0.04, 0.05),   # overloaded mountain branch: runs late
    "tax.tamky": (1.4, 0.02, 0.03),
    "land.tamky": (0.6, 0.22, 0.03),        # returns dossiers often
    "branch.haivan": (0.7, 0.05, 0.18),     # pushes work elsewhere
    "branch.lienchieu": (0.7, 0.04, 0.15),
    "chair.haivan": (1.3, 0.03, 0.02),
}
DEFAULT_HABIT = (0.45, 0.025, 0.015)
# local times of the simulated sweeps: a real scheduler sweeps every minute, but twice a working day
# finds nearly every notice a history of this length has (each is recorded once anyway) at a fraction
# of the cost
SWEEPS = (time(8, 0), time(13, 30))
CHECKPOINT_AT = time(17, 0)
GIVEN_NAMES = ("Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung", "Hoàng Văn Em", "Võ Thị Phương",
               "Đặng Văn Giang", "Bùi Thị Hạnh", "Ngô Văn Khải", "Dương Thị Lan", "Huỳnh Văn Minh", "Phan Thị Nga")
PRAISE = ("Đủ điều kiện", "Hồ sơ hợp lệ", "Đã kiểm tra thực địa", "Phù hợp quy hoạch")
RETURN_REASONS = ("Thiếu trích lục bản đồ địa chính", "Sai thông tin người sử dụng đất trên tờ khai",
                  "Chưa có xác nhận của UBND cấp xã", "Diện tích kê khai không khớp bản đồ")
TRANSFER_REASONS = ("Thửa đất không thuộc địa bàn phụ trách", "Chuyển chuyên viên phụ trách khu vực",
                    "Không thuộc thẩm quyền của đơn vị")
# why a desk refuses a dossier at reception / a step finds it not eligible (a drawn refusal needs its reason)
REFUSAL_REASONS = {
    "decision": ("Hồ sơ không thuộc thẩm quyền giải quyết của đơn vị tiếp nhận",
                 "Thửa đất thuộc địa bàn xã, phường khác"),
    "eligible": ("Đất đang có tranh chấp, chưa được giải quyết", "Quyền sử dụng đất đang bị kê biên để thi hành án",
                 "Đã hết thời hạn sử dụng đất"),
}
OTHER_REFUSAL = "Không đủ điều kiện tiếp nhận theo quy định"
SUPPLEMENT_REASONS = ("Bổ sung bản sao CCCD của bên nhận chuyển nhượng", "Bổ sung hợp đồng công chứng",
                      "Bổ sung sơ đồ thửa đất có chữ ký các hộ liền kề")


@dataclass(order=True)
class Event:
    at: datetime
    seq: int
    kind: str = field(compare=False)
    args: tuple[Any, ...] = field(compare=False, default=())


@dataclass
class Stats:
    opened: int = 0
    commands: int = 0
    refused: int = 0
    done: int = 0
    open_at_end: int = 0
    notices: int = 0  # recorded by the simulated scheduler's sweeps
    checkpoints: int = 0


def working_start(lf: Landflow, until: date, days: int) -> date:
    """The working day `days` working days before `until`."""
    d, n = until, 0
    while n < days:
        d -= timedelta(days=1)
        n += lf.calendar.is_working_day(d)
    return d


class Simulation:
    def __init__(self, lf: Landflow, clock: FixedClock, seed: int, end: datetime, days: int = 60):
        """History from `days` working days before `end`'s day up to the instant `end` (never later:
        the history must not run ahead of the server's clock)."""
        self.lf, self.clock, self.rng = lf, clock, random.Random(seed)
        self.tz = lf.calendar.tz
        self.start_day = working_start(lf, end.astimezone(self.tz).date(), days)
        self.end = end
        self.queue: list[Event] = []
        self.seq = 0
        self.scheduled: set[int] = set()  # work item ids with a pending move
        self.came_from: dict[int, dict[int, str]] = {}  # dossier -> item ordinal -> unit that pushed it here
        self.items: dict[int, ItemState] = {}  # open work items as the last command left them
        self.procedure: dict[int, str] = {}
        self.codes: dict[int, str] = {}
        self.key_dir = lf.settings.var_dir / "keys" / "officers"
        self.done_steps: dict[int, list[str]] = {}
        self.stats = Stats()
        self.sweeper = Sweeper(lf)
        key = lf.settings.checkpoint_key
        self.checkpoint_key = read_private_key(key) if key.exists() else None
        d = lf.directory.get()
        self.officers: dict[str, Officer] = d.officers
        self.directory = d
        self.steps: dict[str, dict[str, StepMeta]] = {}
        self.metas: dict[str, ProcedureMeta] = {}
        with lf.db.read() as s:
            for procedure in PROCEDURES:
                proc = lf.procedures.latest(s, procedure)
                if proc is None:
                    raise RuntimeError(f"procedure {procedure} is not deployed: run `landflow init` first")
                self.steps[procedure] = proc.meta.steps
                self.metas[procedure] = proc.meta
        missing = [f"desk of {u}" for u in DESKS if not d.officers_in(u, "one_stop_desk")]
        if missing:
            raise RuntimeError("the demo officers are missing (run `LANDFLOW_DEMO=1 landflow init`): "
                               + ", ".join(missing))

    # -- the queue ------------------------------------------------------------------------------------
    def push(self, at: datetime, kind: str, *args: Any) -> None:
        self.seq += 1
        heapq.heappush(self.queue, Event(at, self.seq, kind, args))

    def later(self, at: datetime, minutes: float) -> datetime:
        return self.lf.calendar.add(at, max(1, int(minutes)))

    def office_instant(self, day: date) -> datetime:
        minute = self.rng.randrange(self.lf.calendar.day_minutes)
        return self.lf.calendar.add(datetime.combine(day, time(0), self.tz), minute)

    # -- running --------------------------------------------------------------------------------------
    def run(self, dossiers: int, progress: Callable[[int], None] = lambda _n: None) -> Stats:
        self.plan_arrivals(dossiers)
        while self.queue:
            ev = heapq.heappop(self.queue)
            if ev.at > self.end:
                break
            self.clock.set(ev.at)
            before = self.stats.opened
            getattr(self, f"on_{ev.kind}")(*ev.args)
            if self.stats.opened != before:
                progress(self.stats.opened)
        self.stats.open_at_end = self.stats.opened - self.stats.done
        return self.stats

    def plan_arrivals(self, dossiers: int) -> None:
        days = []
        d = self.start_day
        while d <= self.end.astimezone(self.tz).date():
            if self.lf.calendar.is_working_day(d):
                days.append(d)
            d += timedelta(days=1)
        desks, desk_w = list(DESKS), list(DESKS.values())
        procs, proc_w = list(PROCEDURES), list(PROCEDURES.values())
        for _ in range(dossiers):
            day = self.rng.choice(days)  # an arrival after `end` (later today) is simply never processed
            desk = self.rng.choices(desks, desk_w)[0]
            commune = self.rng.choice(COMMUNES) if desk == "TTPVHCC" else desk
            self.push(self.office_instant(day), "open", desk, commune, self.rng.choices(procs, proc_w)[0])
        for day in days:
            for at in SWEEPS:
                self.push(datetime.combine(day, at, self.tz), "sweep")
            if self.checkpoint_key is not None:
                self.push(datetime.combine(day, CHECKPOINT_AT, self.tz), "checkpoint")
        self.push(self.end, "sweep")

    def act(self, command: Callable[[], DossierState]) -> DossierState | None:
        self.stats.commands += 1
        try:
            return command()
        except CommandRefused:
            self.stats.refused += 1
            return None

    def follow(self, st: DossierState | None) -> None:
        """Schedule a move for every open item of the dossier that has none."""
        if st is None:
            return
        for item in st.items.values():
            if item.id is not None:
                if item.is_open:
                    self.items[item.id] = item
                else:
                    self.items.pop(item.id, None)
        if st.is_finished:
            self.stats.done += 1
            return
        if st.supplement_since is not None:
            return
        for item in sorted(st.open_items(), key=lambda i: i.ordinal):
            if item.id is not None and item.id not in self.scheduled:
                self.schedule(st, item)

    def holder(self, item: ItemState) -> Officer | None:
        if item.assignee:
            return self.officers.get(item.assignee)
        pool = self.pool(item.unit or "", item.role)
        return self.rng.choice(pool) if pool else None

    def pool(self, unit: str, role: str) -> list[Officer]:
        """Officers of a unit with a role, in a fixed order (the same history on any database)."""
        return sorted(self.directory.officers_in(unit, role), key=lambda o: o.username)

    def schedule(self, st: DossierState, item: ItemState) -> None:
        who = self.holder(item)
        if who is None:
            return
        assert item.id is not None
        self.scheduled.add(item.id)
        share = HABITS.get(who.username, DEFAULT_HABIT)[0] * self.rng.uniform(0.3, 1.7)
        minutes = self.lf.calendar.minutes(item.sla) * share
        at = self.clock.now()
        done_at = self.later(at, minutes)
        if self.rng.random() < 0.25:
            self.push(self.later(at, minutes * 0.3), "claim", st.id, item.id, who.username)
        self.push(done_at, "work", st.id, item.id, who.username)
        if self.rng.random() < 0.01:
            self.push(self.later(at, minutes * 0.1), "intrude", item.id, item.unit, item.role)
        if st.due_at is not None and done_at > st.due_at and not st.apologised and self.rng.random() < 0.5:
            notice = max(at, st.due_at - timedelta(days=1))
            self.push(notice, "apologise", st.id, who.username, done_at)

    # -- handlers -------------------------------------------------------------------------------------
    def on_open(self, desk: str, commune: str, procedure: str) -> None:
        officer = self.rng.choice(self.pool(desk, "one_stop_desk"))
        applicant = {"name": self.rng.choice(GIVEN_NAMES), "id_number": f"048{self.rng.randrange(10**9):09d}"}
        parcel = {"sheet": str(self.rng.randrange(1, 60)), "number": str(self.rng.randrange(1, 900)),
                  "area": round(self.rng.uniform(40, 600), 1)}
        st = self.act(lambda: self.lf.runtime.open(officer, procedure, commune, applicant, parcel, {}))
        if st is None:
            return
        self.stats.opened += 1
        self.procedure[st.id] = procedure
        self.codes[st.id] = st.code
        self.done_steps[st.id] = []
        roll = self.rng.random()
        if roll < 0.006:
            self.push(self.later(self.clock.now(), self.rng.uniform(60, 2400)), "end", st.id, officer.username,
                      "stop")
        elif roll < 0.01:
            self.push(self.later(self.clock.now(), self.rng.uniform(60, 2400)), "end", st.id, officer.username,
                      "cancel")
        self.follow(st)

    def on_sweep(self) -> None:
        """The scheduler's deadline sweep, at this simulated instant (engine.scheduler.Sweeper)."""
        result = self.sweeper.sweep()
        self.stats.notices += sum(result.recorded.values())

    def on_checkpoint(self) -> None:
        assert self.checkpoint_key is not None
        create_checkpoint(self.lf.db, self.checkpoint_key, self.clock.now())
        self.stats.checkpoints += 1

    def on_claim(self, dossier_id: int, item_id: int, username: str) -> None:
        self.act(lambda: self.lf.runtime.claim(self.officers[username], item_id))

    def on_intrude(self, item_id: int, unit: str, role: str) -> None:
        """An officer of another unit with the same role tries to take the item (refused, recorded)."""
        others = sorted((o for o in self.officers.values() if role in o.roles and o.unit != unit),
                        key=lambda o: o.username)
        if others:
            self.act(lambda: self.lf.runtime.claim(self.rng.choice(others), item_id))

    def on_apologise(self, dossier_id: int, username: str, new_due: datetime) -> None:
        reason = "Quá tải hồ sơ sau sắp xếp đơn vị hành chính; hẹn lại ngày trả kết quả"
        due = self.lf.calendar.add_days_end(new_due, 1)
        self.act(lambda: self.lf.runtime.apologise(self.officers[username], dossier_id, reason, due))

    def on_end(self, dossier_id: int, username: str, how: str) -> None:
        officer = self.officers[username]
        if how == "stop":
            st = self.act(lambda: self.lf.runtime.stop(officer, dossier_id, "Người nộp đề nghị dừng giải quyết"))
        else:
            st = self.act(lambda: self.lf.runtime.cancel(officer, dossier_id, "Hồ sơ trùng, đã tiếp nhận trước đó"))
        if st is not None:
            self.stats.done += 1

    def on_supplied(self, dossier_id: int, username: str) -> None:
        st = self.act(lambda: self.lf.runtime.receive_supplement(self.officers[username], dossier_id,
                                                                  "Người nộp đã bổ sung đủ"))
        self.follow(st)

    def on_work(self, dossier_id: int, item_id: int, username: str) -> None:
        self.scheduled.discard(item_id)
        item = self.items.get(item_id)
        if item is None:
            return
        procedure = self.procedure[dossier_id]
        done_steps = [s for s in self.done_steps[dossier_id] if s != item.step]
        officer, rt, rng = self.officers[username], self.lf.runtime, self.rng
        _, returns, reroutes = HABITS.get(username, DEFAULT_HABIT)
        if item.ordinal in self.came_from.get(dossier_id, {}) and rng.random() < 0.25:
            reroutes = 0.6  # the receiving unit often sends it straight back: ping-pong
        roll = rng.random()
        supplement = 0.06 if item.step == "receive" else 0.008
        st: DossierState | None = None
        if roll < supplement:
            st = self.act(lambda: rt.request_supplement(officer, item_id, rng.choice(SUPPLEMENT_REASONS)))
            if st is not None:
                desk = rng.choice(self.pool(st.desk_unit, "one_stop_desk"))
                self.push(self.later(self.clock.now(), rng.uniform(240, 2400)), "supplied", dossier_id, desk.username)
                return
        elif roll < supplement + returns and done_steps:
            st = self.act(lambda: rt.return_(officer, item_id, done_steps[-1], rng.choice(RETURN_REASONS)))
        elif roll < supplement + returns + reroutes:
            st = self.transfer(officer, dossier_id, item)
        if st is None:
            data = self.form_data(procedure, item.step)
            step = self.steps[procedure].get(item.step)
            signature = None
            if step is not None and step.signed:
                officer, signature = self.sign(officer, dossier_id, item, step, data)
            st = self.act(lambda: rt.complete(officer, item_id, data, signature=signature))
            if st is not None:
                self.done_steps[dossier_id].append(item.step)
        self.follow(st)

    def sign(self, officer: Officer, dossier_id: int, item: ItemState, step: StepMeta,
             data: dict[str, Any]) -> tuple[Officer, dict[str, str]]:
        """The officer signs the decision with their demo key (var/keys/officers), registered in this
        database on first use. Ed25519 is deterministic: the same key and document, the same signature."""
        key = officer_key(self.lf.db, self.key_dir, officer.username, self.clock.now())
        public = public_key_text(key.public_key())
        if officer.public_key != public:
            account = accounts.get_account(self.lf.db, officer.username)
            if account is None or account.public_key != public:  # a key file made for another database
                with self.lf.db.write() as s:
                    register_key(s, officer.username, public, "system:demo", self.clock.now())
            officer = replace(officer, public_key=public)
            self.officers[officer.username] = officer
        code = self.codes[dossier_id]
        clean, _ = clean_submission(list(step.form), data)
        return officer, sign_decision(key, code, item.step, item.ordinal, clean, officer.username,
                                      self.clock.now()).as_dict()

    # -- choices -------------------------------------------------------------------------------------
    def transfer(self, officer: Officer, dossier_id: int, item: ItemState) -> DossierState | None:
        """To another unit with an officer of the item's role; back where it came from when it was pushed here."""
        back = self.came_from.get(dossier_id, {}).pop(item.ordinal, None)
        units = sorted({o.unit for o in self.officers.values() if item.role in o.roles} - {item.unit or ""})
        target = back or (self.rng.choice(units) if units else None)
        if target is None:
            return None
        st = self.act(lambda: self.lf.runtime.transfer(officer, item.id or 0, self.rng.choice(TRANSFER_REASONS),
                                                       to_unit=target))
        if st is not None and back is None:
            self.came_from.setdefault(dossier_id, {})[item.ordinal] = item.unit or ""
        return st

    def form_data(self, procedure: str, step_id: str) -> dict[str, Any]:
        step = self.steps[procedure].get(step_id)
        if step is None:
            return {}
        data: dict[str, Any] = {}
        rng = self.rng
        for f in step.form:
            if f.type == "choice" and not f.required:
                continue  # optional choices (how a result was collected) are left out, as most officers do
            if f.type == "choice":
                if f.name == "decision":
                    data[f.name] = "accept" if rng.random() < 0.96 else "refuse"
                else:
                    data[f.name] = rng.choice(f.choices)
            elif f.type == "bool":
                if f.name in ("dispute", "objections"):
                    data[f.name] = rng.random() < 0.04
                elif f.name in ("eligible", "planning_conform", "accepted"):
                    data[f.name] = rng.random() < 0.94
                else:
                    data[f.name] = rng.random() < 0.5
            elif f.type == "number":
                money = "amount" in f.name
                data[f.name] = round(rng.uniform(1e6, 5e7), -3) if money else round(rng.uniform(40, 600), 1)
            elif f.type == "integer":
                data[f.name] = rng.randrange(1, 5)
            elif f.type == "date":
                data[f.name] = self.clock.now().astimezone(self.tz).date().isoformat()
            elif f.required:
                data[f.name] = rng.choice(PRAISE)
        self.give_refusal_reason(procedure, step, data)
        return data

    def give_refusal_reason(self, procedure: str, step: StepMeta, data: dict[str, Any]) -> None:
        """A refusing choice (the step's `refusal`) comes with its reason, as the engine demands. Picked
        without the random generator, so the rest of the history is the one the seed always gave."""
        choice, _raw = step_choice(self.metas[procedure], step)
        form = {f.name: f for f in step.form}
        reason_field = self.metas[procedure].nodes[step.id].properties.get("refusal_reason", "").strip()
        if choice is None or choice.field not in form or reason_field not in form:
            return
        if data.get(choice.field) in choice.typed(form[choice.field]):
            reasons = REFUSAL_REASONS.get(choice.field, (OTHER_REFUSAL,))
            data[reason_field] = reasons[self.stats.commands % len(reasons)]
