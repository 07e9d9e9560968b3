"""The checker's rules for message catch events (engine/definitions/messages.py): a message event is
allowed when something can deliver it — a named message, a known role to send it, a readable form."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from config.organisation import load_roles
from config.settings import ROOT
from engine.definitions.validate import check
from tests.support.bpmn_builder import Node, Procedure, message_procedure, message_xml

ROLES = set(load_roles(ROOT / "config" / "organisation" / "roles.toml"))


def rules(proc: Procedure) -> set[tuple[str, str]]:
    _checked, problems = check(proc.to_xml(), [], ROLES)
    return {(p.element, p.rule) for p in problems}


def wait(proc: Procedure) -> Node:
    return next(n for n in proc.nodes if n.id == "tax_wait")


def test_the_tax_notice_procedure_lints_clean() -> None:
    checked, problems = check(message_procedure().to_xml(), [], ROLES)
    assert problems == [] and checked is not None


def _set(**props: str) -> Callable[[Procedure], None]:
    def mutate(p: Procedure) -> None:
        wait(p).props.update(props)
    return mutate


def _drop(name: str) -> Callable[[Procedure], None]:
    return lambda p: wait(p).props.pop(name)


@pytest.mark.parametrize(("mutate", "expected"), [
    (_drop("from_role"), ("tax_wait", "message.from_role")),
    (_set(from_role="tax_collector"), ("tax_wait", "message.from_role")),
    (_set(form="amount:money!"), ("tax_wait", "message.form")),
    (_set(clock="stopped"), ("tax_wait", "message.clock")),
    (lambda p: setattr(wait(p), "extra_xml", message_xml("Message_nowhere")), ("tax_wait", "message.ref")),
    (lambda p: setattr(wait(p), "extra_xml", "<bpmn:messageEventDefinition />"), ("tax_wait", "message.ref")),
    (lambda p: setattr(p, "definitions_xml", '<bpmn:message id="Message_tax_notice" name=" " />'),
     ("Message_tax_notice", "message.name")),
    (lambda p: setattr(p, "definitions_xml", p.definitions_xml + '<bpmn:message id="Message_2" name="tax_notice" />'),
     ("Message_2", "message.duplicate")),
    # a dossier is never started by a message: nothing would receive it at the desk
    (lambda p: setattr(p.nodes[0], "extra_xml", message_xml("Message_tax_notice")), ("start", "event.unsupported")),
])
def test_each_message_rule(mutate: Callable[[Procedure], None], expected: tuple[str, str]) -> None:
    proc = message_procedure()
    mutate(proc)
    assert expected in rules(proc)
