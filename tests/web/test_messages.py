"""The catalogue of the engine's codes (api/web/messages.py, api/web/labels.py) covers every code.

The codes are read from the engine's source (every `refuse(kind, "code", …)`, `Refusal(kind, "code",
…)`, every event type it appends, every action it names) and from its tables (signal kinds, notice
kinds, policy actions), so a code added anywhere in the engine without a Vietnamese text fails here.
Each template is then rendered in Vietnamese with sample parameters: every parameter is filled, and
no English and no ISO date or duration is left.
"""

from __future__ import annotations

import ast
from typing import Any

import pytest
from babel.messages.pofile import read_po

from api.web import messages
from api.web.labels import EVENT, REFUSAL, SIGNAL
from config.settings import ROOT
from engine.accountability import KINDS
from engine.events import KINDS as EVENT_KINDS
from engine.policy import DOSSIER_ACTIONS, ITEM_ACTIONS, RULES
from engine.scheduler.notices import DOSSIER_KINDS, ITEM_KINDS
from tests.support.page_text import refusal_codes_in_engine

CATALOG = ROOT / "api" / "translations" / "vi" / "LC_MESSAGES" / "messages.po"


def vietnamese() -> dict[str, str]:
    po = read_po(CATALOG.open("rb"), locale="vi")
    return {m.id: m.string for m in po if isinstance(m.id, str) and m.id and m.string and not m.fuzzy}


def msgid(text: Any) -> str:
    return text._args[0] if hasattr(text, "_args") else str(text)


def _calls(name: str, position: int) -> set[str]:
    """The string constants passed at `position` to calls of `name` anywhere in the engine."""
    found: set[str] = set()
    for path in (ROOT / "engine").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and len(node.args) > position:
                called = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
                arg = node.args[position]
                if called == name and isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.add(arg.value)
    return found


def event_types() -> set[str]:
    """What the engine appends to a dossier's history: emitted by commands, or pending events of its own."""
    # engine/runtime emits typed events (engine/events.py): the catalogue names their kinds
    return _calls("emit", 1) | _calls("PendingEvent", 0) | {"stopped", "cancelled"} | set(ITEM_KINDS) | set(
        DOSSIER_KINDS) | set(EVENT_KINDS)


def actions() -> set[str]:
    return set(RULES) | set(ITEM_ACTIONS) | set(DOSSIER_ACTIONS) | _calls("_record_refusal", 0) | _calls(
        "record_refusal", 0) | _calls("_guard", 2)


@pytest.mark.parametrize(("what", "codes", "table"), [
    ("refusal code", refusal_codes_in_engine, REFUSAL),
    ("signal kind", lambda: set(KINDS), SIGNAL),
    ("event type", event_types, EVENT),
    ("scheduler notice", lambda: set(ITEM_KINDS) | set(DOSSIER_KINDS), messages.NOTICE),
    ("action", actions, messages.ACTION),
])
def test_every_engine_code_has_vietnamese_text(what: str, codes: Any, table: dict[str, Any]) -> None:
    found = codes()
    assert len(found) >= 4, f"the scan found no {what}: {found}"
    vi = vietnamese()
    missing = sorted(c for c in found if c not in table)
    assert not missing, f"{what}s without a text in the catalogue: {missing}"
    untranslated = sorted(c for c in found if msgid(table[c]) not in vi)
    assert not untranslated, f"{what}s without Vietnamese in {CATALOG.name}: {untranslated}"


def test_every_template_of_the_catalogue_is_translated() -> None:
    vi = vietnamese()
    for table in (messages.REFUSAL_DETAIL, messages.NOTICE, messages.ACTION, REFUSAL):
        for code, text in table.items():
            assert msgid(text) in vi, f"{code}: {msgid(text)!r} has no Vietnamese"
    assert msgid(messages.GENERIC) in vi


def test_every_signal_kind_says_whose_words_its_reason_holds() -> None:
    """An officer's reason is shown as typed; the engine's is worded from its event. A new kind must choose."""
    unclassified = sorted(set(KINDS) - messages.OFFICER_WORDED - messages.ENGINE_WORDED)
    assert not unclassified, f"add these signal kinds to OFFICER_WORDED or ENGINE_WORDED: {unclassified}"
    assert not messages.OFFICER_WORDED & messages.ENGINE_WORDED
