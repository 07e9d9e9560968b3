"""The form of a step, built from its `form` property, and what the officer submitted.

Widgets by type: text (a line, or a box for reasons and notes), number and integer (numeric
inputs), bool (Yes / No radio buttons: a checkbox cannot tell "no" from "not answered"), date (a
date picker, YYYY-MM-DD as the engine wants), choice (a list). Inputs are named `f_<field>` so no
field can collide with the form's own controls. Values go to the engine as text; the engine checks
and converts them (engine/definitions/forms.py) and refuses a bad form with every problem listed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

from engine.definitions.forms import FormField
from engine.definitions.model import ProcedureMeta
from engine.definitions.refusals import RefusalChoice

from .labels import CHOICE, field_label, label

PREFIX = "f_"
LONG_TEXT = ("reason", "note", "description", "documents", "origin", "current_use")


@dataclass(frozen=True)
class FieldView:
    name: str
    input_name: str
    type: str
    label: str
    required: bool
    widget: str                              # line | box | number | integer | yesno | date | select
    choices: tuple[tuple[str, str], ...]     # (value, label)
    value: str
    required_when: str = ""                  # the refusing answer that makes this (reason) field required


def widget_of(f: FormField) -> str:
    if f.type == "text":
        return "box" if any(part in f.name for part in LONG_TEXT) else "line"
    return {"number": "number", "integer": "integer", "bool": "yesno", "date": "date", "choice": "select"}[f.type]


def file_labels(meta: ProcedureMeta, step: str) -> dict[str, str]:
    """The step's own field labels, `label.<field>` properties (the modeler's panel writes them): the
    procedure's author's words, shown like step names, in every language (decision 0170)."""
    node = meta.nodes.get(step)
    if node is None:
        return {}
    return {name[len("label."):]: text.strip() for name, text in node.properties.items()
            if name.startswith("label.") and text.strip()}


def fields(form: tuple[FormField, ...], submitted: Mapping[str, Any] | None = None,
           refusal: tuple[RefusalChoice | None, str] = (None, ""), handback: bool = False,
           labels: Mapping[str, str] | None = None) -> list[FieldView]:
    """`refusal`: the step's refusing choice and its reason field (engine/definitions/refusals.py), so the
    reason field says when it is required (the engine refuses a refusal without one). `handback`: the
    page asks who collects the result (HANDBACK_FIELDS required). `labels`: the file's own labels
    (file_labels), which win over the catalogue's (api/web/labels.py FIELD)."""
    values = submitted or {}
    own = labels or {}
    choice, reason_field = refusal
    by_name = {f.name: f for f in form}
    when = ""
    if choice is not None and choice.field in by_name:
        when = " / ".join(refusing_answer(by_name[choice.field], v) for v in choice.values)
    out = []
    for f in form:
        value = values.get(PREFIX + f.name, "")
        required = f.required or (handback and f.name in HANDBACK_FIELDS)
        out.append(FieldView(
            f.name, PREFIX + f.name, f.type, own.get(f.name) or field_label(f.name), required, widget_of(f),
            tuple((c, label(CHOICE, c)) for c in f.choices), str(value),
            when if f.name == reason_field and not f.required else ""))
    return out


def refusing_answer(f: FormField, value: str) -> str:
    """How the officer sees a refusing value: the choice's label, or Yes / No."""
    if f.type == "bool":
        return str(_("Yes") if value == "true" else _("No"))
    return label(CHOICE, value)


HANDBACK_FIELDS = ("collected_by", "collector_id_number")


def is_handback(meta: ProcedureMeta, step: str) -> bool:
    """A step marked `handback`: the result goes to the applicant, and the page asks who collects it."""
    node = meta.nodes.get(step)
    return node is not None and node.properties.get("handback") == "true"


def submission(form: tuple[FormField, ...], posted: Mapping[str, Any]) -> dict[str, Any]:
    """The step's fields from the posted form; empty answers are left out (the engine says if required)."""
    data: dict[str, Any] = {}
    for f in form:
        value = posted.get(PREFIX + f.name)
        if value is None or str(value).strip() == "":
            continue
        data[f.name] = str(value).strip() if f.type != "text" else str(value)
    return data
