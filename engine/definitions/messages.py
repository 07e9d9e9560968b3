"""The rules of message catch events: a dossier waiting for another agency's answer.

An intermediate catch event (or a boundary event on a step) with a `messageEventDefinition` is allowed
when someone can send it: its `messageRef` names a `bpmn:message` of the file with a name (the name the
sender gives to `POST /api/v1/dossiers/{code}/messages`; names are unique), and its properties say
who delivers it and what it carries:

- `from_role` (required): the role whose officers deliver it, e.g. `tax_office` (a known role; the
  unit is the one serving that role for the dossier's commune);
- `form` (optional): the payload's fields, in the steps' form syntax (`amount:number!; notice_no:text`);
- `clock` (optional): `paused` stops the dossier clock while the message is awaited (an excluded
  period such as the tax authority determining obligations), `run` (the default) does not.

A message *start* event and receive/send tasks stay refused (engine/definitions/validate.py).
"""

from __future__ import annotations

from collections import Counter

from lxml import etree

from .forms import FormError, parse_form
from .problems import Problem
from .reader import BPMN, Document

CATCHES = ("intermediateCatchEvent", "boundaryEvent")
CLOCKS = ("run", "paused")


def defined_messages(root: etree._Element) -> dict[str, str]:
    """The file's `bpmn:message` elements: id -> name (stripped)."""
    return {m.get("id", ""): (m.get("name") or "").strip() for m in root.iter(f"{{{BPMN}}}message")}


def message_catches(doc: Document) -> dict[str, str | None]:
    """Catch events of the process with a message definition: node id -> the messageRef (None: none)."""
    out: dict[str, str | None] = {}
    for process in doc.processes:
        for tag in CATCHES:
            for elem in process.iter(f"{{{BPMN}}}{tag}"):
                definition = elem.find(f"{{{BPMN}}}messageEventDefinition")
                if definition is not None:
                    out[elem.get("id", "")] = definition.get("messageRef") or None
    return out


def message_rules(doc: Document, roles: set[str]) -> list[Problem]:
    """Problems of the file's messages and of each message catch event."""
    if doc.meta is None:
        return []
    messages = defined_messages(doc.root)
    out: list[Problem] = []
    counts = Counter(name for name in messages.values() if name)
    for mid, name in messages.items():
        if not name:
            out.append(Problem(mid, "message.name", "the message has no name (the name a sender gives)"))
        elif counts[name] > 1:
            out.append(Problem(mid, "message.duplicate", f"the message name {name!r} is used by several messages",
                               (("name", name),)))
    for node, ref in message_catches(doc).items():
        out += _catch_rules(doc, node, ref, messages, roles)
    return out


def _catch_rules(doc: Document, node: str, ref: str | None, messages: dict[str, str],
                 roles: set[str]) -> list[Problem]:
    assert doc.meta is not None
    out: list[Problem] = []
    if ref is None or ref not in messages:
        out.append(Problem(node, "message.ref", "the message event names no message of the file (messageRef): "
                           "nothing could ever deliver it" if ref is None else
                           f"the message event names {ref!r}, which is no message of the file", (("ref", ref or ""),)))
    meta = doc.meta.nodes.get(node)
    props = meta.properties if meta is not None else {}
    role = props.get("from_role", "").strip()
    if not role:
        out.append(Problem(node, "message.from_role", "say which role delivers the message (property from_role, "
                           "e.g. tax_office)"))
    elif role not in roles:
        out.append(Problem(node, "message.from_role", f"role {role!r} is not known", (("role", role),)))
    try:
        parse_form(props.get("form"))
    except FormError as err:
        out.append(Problem(node, "message.form", f"form: {err}"))
    clock = props.get("clock", "run").strip() or "run"
    if clock not in CLOCKS:
        out.append(Problem(node, "message.clock", "clock is 'run' or 'paused'", (("clock", clock),)))
    return out
