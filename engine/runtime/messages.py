"""Message catch events: a dossier waits for another agency's answer (e.g. the tax office's notice of
financial obligations), which an officer of that agency delivers through the API.

- A `bpmn:intermediateCatchEvent` (or a `boundaryEvent` on a step) with a `messageEventDefinition`
  names a `bpmn:message`; its properties say who may deliver it (`from_role`), what it carries (`form`,
  the steps' form syntax) and whether the dossier clock stops while it is awaited (`clock=paused`: the
  excluded period "the tax authority determining obligations").
- Whenever a command moves the workflow, the catch events it now waits on are folded into the dossier
  (`awaiting`, `awaiting_paused`, in the event's effects): pages show what the dossier waits for, the
  clock pauses like a paused step's (engine/runtime/deadlines.py), and a dossier waiting on a message
  is not stuck.
- `deliver_message` (decided here, run by `Runtime.deliver_message`) checks the message is one of the
  procedure's, the officer's role and unit, that the dossier waits on it now, and the payload against
  the form; then catches it in SpiffWorkflow at that element and records `message_received`. Replay
  catches the recorded message again (`deliver`), never the sender's request.
- An idempotency key: the same key again (same message, same officer) answers the first delivery and
  records nothing; the same key for another message is refused (`key_reused`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from sqlalchemy import Connection, select

from ..definitions.forms import FormError, clean_submission, parse_form
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..events import MessageReceived, parse_as, stored_like
from ..jsoncanon import iso
from ..org import UnresolvedOwner
from ..policy import READ_ONLY_ROLES
from ..store import CaseEventRow, DossierRow
from .awaiting import deliver, waiting_messages
from .context import Context
from .decide import emit, finish_if_ended, new_items, run_spiff

KEY = re.compile(r"^[A-Za-z0-9._:/-]{1,100}$")


@dataclass(frozen=True)
class Delivery:
    """What a delivery answers: the first one's, again, for a repeated key (`repeated`)."""

    code: str
    message: str
    element: str
    seq: int
    at: str
    repeated: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "element": self.element, "seq": self.seq,
                "received_at": self.at}


@dataclass
class Prior:
    """The load phase's find: an earlier delivery to this dossier with the same key."""

    seq: int
    actor: str
    at: str
    event: MessageReceived


def message_nodes(spec: Any) -> dict[str, str]:
    """The procedure's message catch events: node id -> message name (from the compiled spec)."""
    out: dict[str, str] = {}
    for ts in spec.task_specs.values():
        definition = getattr(ts, "event_definition", None)
        if isinstance(definition, MessageEventDefinition) and getattr(ts, "bpmn_id", None):
            out[ts.bpmn_id] = definition.name
    return out


# -- the command ------------------------------------------------------------------------------------

def dossier_id(conn: Connection, code: str) -> int:
    """The dossier a delivery names by its code (the sender knows the code, not landflow's id)."""
    found = conn.execute(select(DossierRow.id).where(DossierRow.code == code)).scalar()
    if found is None:
        raise NotFound("not_found", f"dossier {code} does not exist")
    return int(found)


def prior_delivery(conn: Connection, dossier: int, key: str) -> Prior | None:
    """An earlier `message_received` of this dossier with this key (the load phase reads it)."""
    rows = conn.execute(select(CaseEventRow.seq, CaseEventRow.actor, CaseEventRow.at, CaseEventRow.payload).where(
        CaseEventRow.dossier_id == dossier, CaseEventRow.type == MessageReceived.kind,
        CaseEventRow.payload.like(stored_like(MessageReceived, "key", key))))
    for seq, actor, at, payload in rows:
        event = parse_as(MessageReceived, payload)
        if event.key == key:  # LIKE matched; `_` in a key is a wildcard there
            return Prior(int(seq), str(actor), iso(at), event)
    return None


def check_input(message: str, data: Any, key: str) -> None:
    if not isinstance(message, str) or not message.strip():
        raise Invalid("invalid_data", "the message name is missing")
    if not isinstance(data, dict):
        raise Invalid("invalid_data", "the message data must be an object")
    if not isinstance(key, str) or not KEY.match(key):
        raise Invalid("invalid_data", "the idempotency key is 1 to 100 letters, digits or . _ : / -")


def deliver_message(ctx: Context, message: str, data: dict[str, Any], key: str, prior: Prior | None) -> Delivery:
    """Decide a delivery (no I/O): refused, repeated, or caught and recorded as `message_received`."""
    st, officer = ctx.state, ctx.officer
    if prior is not None:
        if prior.event.message != message or prior.actor != officer.username:
            raise Conflict("key_reused", f"the key {key!r} was used for another delivery", {"key": key})
        return Delivery(st.code, message, prior.event.element, prior.seq, prior.at, repeated=True)
    if officer.roles & READ_ONLY_ROLES:
        raise Forbidden("read_only", "a read-only account delivers no message")
    proc = ctx.procedure()
    nodes = [n for n, name in message_nodes(proc.spec).items() if name == message]
    if not nodes:
        raise Invalid("unknown_message", f"the procedure of dossier {st.code} waits for no message {message!r}",
                      {"message": message})
    role = proc.meta.nodes[nodes[0]].properties.get("from_role", "")
    if not officer.has(role):
        raise Forbidden("wrong_role", f"message {message!r} is delivered by role {role}", {"role": role})
    try:
        unit = ctx.directory.owner_unit(role, st.commune, st.desk_unit)
    except UnresolvedOwner as err:
        raise Invalid("no_owner", str(err)) from None
    if officer.unit != unit:
        raise Forbidden("wrong_unit", f"message {message!r} for this dossier comes from unit {unit}", {"unit": unit})
    if st.is_finished:
        raise Conflict("finished", f"the dossier is {st.status}")
    wf = ctx.workflow()
    waiting = [n for n in nodes if n in waiting_messages(wf)]
    if not waiting:
        raise Conflict("not_awaiting", f"the dossier is not waiting for message {message!r}", {"message": message})
    node = waiting[0]
    try:
        fields = parse_form(proc.meta.nodes[node].properties.get("form"))
    except FormError as err:  # the linter refuses it; a stored version is what it is
        raise Invalid("invalid_data", str(err)) from None
    clean, problems = clean_submission(fields, data)
    if problems:
        raise Invalid("invalid_data", "; ".join(problems), problems=problems)
    run_spiff(ctx, lambda: deliver(wf, node, clean), element=node)
    new, task_ids, closed = new_items(ctx, None)
    fx: dict[str, Any] = {"new": new, "items": closed}
    finish_if_ended(ctx, fx)
    emit(ctx, MessageReceived(message=message, element=node, data=clean, key=key, fx=fx), step=node,
         task_ids=task_ids)
    return Delivery(st.code, message, node, st.last_seq + len(ctx.events), iso(ctx.at))
