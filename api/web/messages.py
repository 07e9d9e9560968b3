"""The engine's messages in the reader's language: refusals, scheduler notices, signal reasons.

The engine records codes and parameters (a refusal's `code`, and since this module its `params`; a
notice's `deadline`, `delay`, `to`, `since` …) next to an English sentence for the API's `detail`.
Pages never show that sentence: they render the code and its parameters here, through the Babel
catalogs, with dates as dd/mm/yyyy HH:mm and durations in working time ("1 ngày làm việc").

The catalogue is three tables, one line per code:
- `labels.REFUSAL`: what a refusal code means (a whole sentence, no parameter): always available, so
  an old event that stored only English still reads in Vietnamese;
- `REFUSAL_DETAIL`: a more precise sentence for codes whose refusals now carry parameters;
- `NOTICE`: the scheduler's notices (events and signals of the same kind).
`GENERIC` is the sentence of last resort for a code nobody described (tests/web/test_messages.py
fails when an engine code has no Vietnamese text, so it should never be seen).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from flask import has_request_context
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine.calendar import DurationError, parse_duration
from engine.events import ActionRefused, parse_shown

from .labels import REFUSAL

REFUSAL_DETAIL = {
    "wrong_unit": _l("This step belongs to %(item_unit)s, not to the officer's unit (%(officer_unit)s)."),
    "wrong_role": _l("This step needs the role %(role)s, which the officer does not hold."),
    "claimed_by_other": _l("%(holder)s has claimed this step."),
    "reserved_for_other": _l("This step was transferred to %(holder)s."),
}
NOTICE = {
    "step_overdue": _l("Step “%(step)s” is overdue (due %(deadline)s)."),
    "escalated": _l("Step “%(step)s” overdue by more than %(delay)s; reported to the unit head: %(to)s."),
    "idle_claim": _l("%(officer)s claimed the step and has not acted on it since %(since)s."),
    "dossier_overdue": _l("The dossier is overdue (due %(deadline)s)."),
    "due_soon": _l("The dossier is due %(deadline)s: if it will be late, apologise with a new date now."),
}
ACTION = {
    "claim": _l("Claim"), "release": _l("Release"), "complete": _l("Complete"), "return": _l("Return"),
    "transfer": _l("Transfer"), "request_supplement": _l("Request a supplement"),
    "receive_supplement": _l("Receive a supplement"), "apologise": _l("Apologise"), "stop": _l("Stop"),
    "cancel": _l("Cancel"), "open": _l("Receive a dossier"), "deploy": _l("Deploy a procedure"),
    "prepare_decision": _l("Prepare a signed decision"), "manage_officers": _l("Manage officers"),
    "add_officer": _l("Add an officer"), "set_password": _l("Set a password"), "fire_timer": _l("Fire a timer"),
    "add_document": _l("Attach a paper"), "issue_slip": _l("Issue a slip"), "rate": _l("Rate the service"),
    "review_open": _l("Open a review"), "review_explain": _l("Explain"), "review_decide": _l("Decide a review"),
    "record_absence": _l("Record an absence"), "validate": _l("Check a procedure file"),
    "move_to_step": _l("Move a dossier to a step"), "deliver_message": _l("Deliver another agency's answer"),
    "migrate": _l("Move a dossier to a new version"), "migration_plan": _l("Plan a migration"),
    "migration_start": _l("Start a migration"), "migration_batch": _l("Run a migration batch"),
    "migration_status": _l("Read a migration's progress"),
}
GENERIC = _l("The engine refused this action.")
# what the form checker (engine/definitions/forms.py) says of one field, after "field: "
FORM_PROBLEM = {
    "required": _l("required"), "not a field of this step": _l("not a field of this step"),
    "must be text": _l("must be text"), "must be true or false": _l("must be yes or no"),
    "must be a number": _l("must be a number"), "must be a whole number": _l("must be a whole number"),
    "out of range": _l("out of range"), "must be a date YYYY-MM-DD": _l("must be a date"),
}
FORM_PATTERNS = (
    (re.compile(r"must be one of (?P<choices>.*)"), _l("must be one of the listed choices")),
    (re.compile(r"'(?P<raw>[^']*)' is ambiguous \((?P<a>[^ ]+) or (?P<b>[^?]+)\?\).*"),
     _l("“%(raw)s” can be read two ways (%(a)s or %(b)s): write %(a)s or %(b)s")),
    (re.compile(r"longer than (?P<n>\d+) characters"), _l("longer than %(n)s characters")),
)
# Every signal kind is one or the other (tests/web/test_messages.py): its stored reason is words an
# officer typed (shown as typed), or the engine's English (worded here from its event's parameters).
OFFICER_WORDED = frozenset({"returned", "rerouted", "ping_pong", "repeat_supplement", "apologised"})
ENGINE_WORDED = frozenset({"unauthorised_attempt", "procedure_incident", *NOTICE})
# events whose `reason` an officer typed; any other event's reason is the engine's and is not shown as is
OFFICER_REASONS = frozenset({"returned", "transferred", "supplement_requested", "apologised", "stopped", "cancelled",
                             "completed"})


class Names:
    """How parameters are shown: the page gives unit, officer and step names and the formatters."""

    def __init__(self, unit: Callable[[str | None], str], officer: Callable[[str | None], str],
                 step: Callable[[str | None], str], when: Callable[[datetime | None], str], day_minutes: int):
        self.unit, self.officer, self.step, self.when, self.day_minutes = unit, officer, step, when, day_minutes

    def instant(self, text: Any) -> str:
        try:
            return self.when(datetime.fromisoformat(str(text).replace("Z", "+00:00")))
        except ValueError:
            return ""

    def duration(self, text: Any) -> str:
        return duration_phrase(str(text), self.day_minutes)

    def shown(self, name: str, value: Any) -> str:
        """One parameter, by its name."""
        if value is None or value == "" or value == []:
            return ""
        if name in ("deadline", "since", "new_due", "old_due"):
            return self.instant(value)
        if name in ("delay", "threshold"):
            return self.duration(value)
        if name in ("to", "officer", "holder"):
            values = value if isinstance(value, list) else [value]
            return ", ".join(self.officer(v) for v in values)
        if name.endswith("unit"):
            return self.unit(value)
        if name == "step":
            return self.step(value)
        if name == "role":
            from .common import role_name

            return role_name(value)
        return str(value)


def duration_phrase(text: str, day_minutes: int) -> str:
    """`P8D` → "8 ngày làm việc", `PT4H` → "4 giờ làm việc", `P1DT4H` → "1 ngày làm việc và 4 giờ làm việc"."""
    from flask_babel import ngettext

    try:
        d = parse_duration(text)
    except DurationError:
        return text
    days, minutes = d.days + d.minutes // day_minutes, d.minutes % day_minutes
    hours, rest = divmod(minutes, 60)
    parts = []
    if days:
        parts.append(ngettext("%(num)s working day", "%(num)s working days", days))
    if hours:
        parts.append(ngettext("%(num)s working hour", "%(num)s working hours", hours))
    if rest:
        parts.append(ngettext("%(num)s working minute", "%(num)s working minutes", rest))
    if not parts:
        return _("no time")
    return parts[0] if len(parts) == 1 else _("%(a)s and %(b)s", a=", ".join(parts[:-1]), b=parts[-1])


def _fill(template: Any, params: Mapping[str, Any], names: Names) -> str | None:
    """The template with every parameter it names, or None when one is missing (old events)."""
    text = str(template)  # translated: it names the same parameters
    wanted = set(re.findall(r"%\((\w+)\)s", text))
    shown = {k: names.shown(k, params.get(k)) for k in wanted}
    if any(not v for v in shown.values()):
        return None
    return text % shown


def refusal_text(code: str | None, params: Mapping[str, Any] | None = None, names: Names | None = None) -> str:
    """What a refusal code means, precisely when its parameters were recorded."""
    if code in REFUSAL_DETAIL and params and names is not None:
        filled = _fill(REFUSAL_DETAIL[code], params, names)
        if filled:
            return filled
    found = REFUSAL.get(code or "")
    return str(found) if found is not None else str(GENERIC)


def refused_event(payload: Mapping[str, Any] | ActionRefused, names: Names) -> str:
    """An `action_refused` event: "Nhận xử lý: Bước này thuộc đơn vị khác."."""
    event = payload if isinstance(payload, ActionRefused) else parse_shown("action_refused", payload)
    if not isinstance(event, ActionRefused):  # not a refusal as recorded (verify says so): the generic words
        return refusal_text(None)
    what = refusal_text(event.code, event.params, names)
    shown = ACTION.get(event.action)
    return f"{shown}: {what}" if shown is not None else what


def notice(kind: str, payload: Mapping[str, Any], step: str | None, names: Names) -> str | None:
    """A scheduler notice (step_overdue, escalated, …) from its parameters; None for other kinds."""
    template = NOTICE.get(kind)
    if template is None:
        return None
    params = dict(payload)
    params.setdefault("step", step)
    if kind == "escalated" and params.get("to") == []:
        params["to"] = [_("nobody (the unit has no head)")]
        names = Names(names.unit, lambda v: v or "", names.step, names.when, names.day_minutes)
    filled = _fill(template, params, names)
    return filled if filled is not None else _label(kind)


def _label(kind: str) -> str:
    from .labels import SIGNAL, label

    return label(SIGNAL, kind)


def signal_reason(kind: str, reason: str | None, event: tuple[str, str | None, Mapping[str, Any]] | None,
                  names: Names) -> str:
    """The reason column of a signal: an officer's own words as typed, the engine's rendered from its event."""
    if kind in OFFICER_WORDED:
        return reason or ""
    if kind not in ENGINE_WORDED:  # a kind nobody classified: its name, never text of unknown language
        return _label(kind) if not english() else (reason or "")
    if event is None:  # the event is not readable here (an act on no dossier, in the audit log)
        return _label(kind) if not english() else (reason or "")
    etype, step, payload = event
    if etype == "action_refused":
        return refused_event(payload, names)
    return notice(etype, payload, step, names) or _label(kind)


def form_problem(problem: str) -> str:
    """`obligation_amount: must be a number` → "Nghĩa vụ tài chính (VND): phải là số"; unknown wording
    → "giá trị không hợp lệ" (never the checker's English on a Vietnamese page)."""
    from .labels import field_label

    if english():
        return problem
    name, sep, said = problem.partition(": ")
    if not sep:
        return str(_l("The form is not filled in correctly."))
    found = FORM_PROBLEM.get(said)
    text = str(found) if found is not None else None
    for pattern, template in FORM_PATTERNS:
        m = pattern.fullmatch(said)
        if text is None and m:
            text = str(template) % m.groupdict()
    if text is None:
        text = _("invalid value")  # outside the f-string: Babel's extractor does not look inside one
    return f"{field_label(name)}: {text}"


def english() -> bool:
    return has_request_context() and str(get_locale()) == "en"
