"""The event catalogue (engine/events/), with no database:

- every kind of event the engine writes has a type, and api/web/labels.py words every kind;
- payloads stored by real runs (tests/data/events/payloads.json: the demo history and the engine
  tests, made with the code before the catalogue, one or two per kind and shape of payload) parse to
  their type and serialise back to the same bytes, so their hashes stay valid;
- a field the kind does not have, a required field missing, a wrong JSON type, or a null where the
  writers leave the field out are errors naming the kind and the field;
- a kind the catalogue does not know parses to `Unrecognised`, kept as stored.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from api.web import labels
from engine import events as ev
from engine.jsoncanon import canonical

PAYLOADS: dict[str, list[str]] = json.loads(
    (Path(__file__).parents[1] / "data" / "events" / "payloads.json").read_text(encoding="utf-8"))
CASES = [(kind, text) for kind, texts in PAYLOADS.items() for text in texts]


def test_every_kind_has_a_type_a_real_payload_and_a_vietnamese_wording() -> None:
    assert set(PAYLOADS) == set(ev.KINDS)
    assert set(labels.EVENT) == set(ev.KINDS)


@pytest.mark.parametrize(("kind", "text"), CASES, ids=[f"{k}-{i}" for i, (k, _t) in enumerate(CASES)])
def test_a_stored_payload_round_trips_byte_for_byte(kind: str, text: str) -> None:
    assert canonical(json.loads(text)) == text  # the fixture holds stored (canonical) text
    event = ev.parse(kind, text)
    assert type(event) is ev.KINDS[kind] and event.kind == kind
    assert event.canonical() == text
    assert ev.parse(kind, json.loads(text)) == event
    assert ev.parse(kind, event.to_payload()) == event


def test_writers_construct_the_type_and_readers_get_attributes() -> None:
    claimed = ev.Claimed(item=3, fx={"items": {"3": {"state": "claimed", "assignee": "land.w1"}}})
    assert claimed.canonical() == '{"fx":{"items":{"3":{"assignee":"land.w1","state":"claimed"}}},"item":3}'
    assert ev.Claimed(item=3).canonical() == '{"item":3}' and ev.Claimed(item=3).effects == {}
    sub = ev.parse_as(ev.Substituted, '{"absence":1,"from":"a","item":2,"to":"b","was":"claimed"}')
    assert (sub.from_, sub.to, sub.item) == ("a", "b", 2)
    assert ev.Substituted(item=2, from_="a", to="b", absence=1, was="claimed").to_payload()["from"] == "a"
    opened = ev.Opened(procedure="p", version=1, procedure_version_id=2, limit="P5D", remote_extension=None,
                       data={})
    assert opened.to_payload()["remote_extension"] is None  # always written, null when unset
    assert "resume_at" not in opened.to_payload()  # left out when unset
    assert ev.payload_of(claimed) == claimed.to_payload() and ev.payload_of({"item": 1}) == {"item": 1}


def some_payload(kind: str) -> dict[str, Any]:
    return dict(json.loads(PAYLOADS[kind][0]))


@pytest.mark.parametrize("kind", sorted(ev.KINDS))
def test_an_unknown_field_is_an_error_naming_it(kind: str) -> None:
    with pytest.raises(ev.EventError, match=rf"event '{kind}': unknown field\(s\) 'surprise'"):
        ev.parse(kind, {**some_payload(kind), "surprise": 1})


@pytest.mark.parametrize("kind", sorted(ev.KINDS))
def test_a_missing_required_field_is_an_error_naming_it(kind: str) -> None:
    required = [f.key for f in ev.KINDS[kind]._fields if f.required]
    assert required
    for name in required:
        body = some_payload(kind)
        body.pop(name, None)
        with pytest.raises(ev.EventError, match=rf"event '{kind}': missing field '{name}'"):
            ev.parse(kind, body)


def test_wrong_types_and_nulls_of_left_out_fields_are_errors() -> None:
    with pytest.raises(ev.EventError, match="field 'item' must be integer, not str"):
        ev.parse("claimed", {"item": "3"})
    with pytest.raises(ev.EventError, match="field 'item' must be integer, not bool"):
        ev.parse("claimed", {"item": True})
    with pytest.raises(ev.EventError, match="field 'fx' is left out when empty, never null"):
        ev.parse("claimed", {"item": 3, "fx": None})
    with pytest.raises(ev.EventError, match="not a JSON object"):
        ev.parse("claimed", "[1]")
    with pytest.raises(json.JSONDecodeError):
        ev.parse("claimed", "{")


def test_an_unknown_kind_parses_as_stored() -> None:
    event = ev.parse("retired_kind", '{"b":1,"a":[2]}')
    assert isinstance(event, ev.Unrecognised) and event.type == "retired_kind"
    assert event.canonical() == '{"a":[2],"b":1}'


def test_events_are_frozen() -> None:
    event = ev.Rated(rating="good")
    with pytest.raises(AttributeError):
        event.rating = "excellent"  # type: ignore[misc]


def test_readers_helpers() -> None:
    completed = ev.parse("completed", PAYLOADS["completed"][0])
    assert ev.item_of(completed) == json.loads(PAYLOADS["completed"][0])["item"]
    assert ev.item_of(ev.parse("apologised", PAYLOADS["apologised"][0])) is None
    assert ev.reason_of(ev.Returned(item=1, to_step="a", reason="thiếu giấy")) == "thiếu giấy"
    assert ev.reason_of(ev.Claimed(item=1)) is None
    # pages show a tampered payload as stored instead of failing; verify reports it
    shown = ev.parse_shown("claimed", {"item": "x"})
    assert isinstance(shown, ev.Unrecognised) and shown.payload == {"item": "x"}
    shown = ev.parse_shown("claimed", '{"item":1,"note":"đã sửa"}')
    assert isinstance(shown, ev.Unrecognised) and shown.payload == {"item": 1, "note": "đã sửa"}
    assert ev.parse_shown("claimed", '{"item":1}') == ev.Claimed(item=1)
    # counts made in SQL match the canonical spelling of a field
    assert ev.stored_like(ev.Completed, "refused", True) == '%"refused":true%'
    assert ev.stored_like(ev.DocumentAdded, "kind_", "result") == '%"kind":"result"%'
    with pytest.raises(ev.EventError, match="no field 'rate'"):
        ev.stored_like(ev.Rated, "rate", "good")
    with pytest.raises(ev.EventError, match="field 'refused' must be"):
        ev.stored_like(ev.Completed, "refused", "yes")


def test_kinds_that_never_signal_are_listed_apart() -> None:
    from engine.accountability import SIGNALLING, signals_of

    for kind, texts in PAYLOADS.items():
        if kind not in SIGNALLING:
            assert all(signals_of(ev.parse(kind, t), "a", "u") == [] for t in texts), kind


AUDIT_PAYLOADS: dict[str, list[str]] = json.loads(
    (Path(__file__).parents[1] / "data" / "events" / "audit_payloads.json").read_text(encoding="utf-8"))
AUDIT_CASES = [(kind, text) for kind, texts in AUDIT_PAYLOADS.items() for text in texts]


def test_every_audit_kind_has_a_type_and_a_real_entry() -> None:
    assert set(AUDIT_PAYLOADS) == set(ev.AUDIT_KINDS)
    # refusals and incidents that concern no dossier go to the audit log, with the same type
    assert ev.AUDIT_KINDS["action_refused"] is ev.KINDS["action_refused"] is ev.ActionRefused
    assert ev.AUDIT_KINDS["incident_raised"] is ev.KINDS["incident_raised"] is ev.IncidentRaised
    assert not (set(ev.AUDIT_KINDS) - {"action_refused", "incident_raised"}) & set(ev.KINDS)


@pytest.mark.parametrize(("kind", "text"), AUDIT_CASES, ids=[f"{k}-{i}" for i, (k, _t) in enumerate(AUDIT_CASES)])
def test_an_audit_entry_round_trips_byte_for_byte(kind: str, text: str) -> None:
    assert canonical(json.loads(text)) == text
    event = ev.parse_audit(kind, text)
    assert type(event) is ev.AUDIT_KINDS[kind] and event.canonical() == text


def test_audit_kinds_are_not_dossier_kinds() -> None:
    assert isinstance(ev.parse("review_opened", AUDIT_PAYLOADS["review_opened"][0]), ev.Unrecognised)
    absence = ev.parse_audit("absence_recorded", AUDIT_PAYLOADS["absence_recorded"][0])
    assert isinstance(absence, ev.AbsenceRecorded) and absence.to_payload()["from"] == absence.first_day


def test_a_writer_gets_a_wrong_type_refused_where_it_makes_the_event() -> None:
    with pytest.raises(ev.EventError, match="event 'claimed': field 'item' must be integer, not str"):
        ev.Claimed(item="3")  # type: ignore[arg-type]
    with pytest.raises(ev.EventError, match="field 'to' must be array, not tuple"):
        ev.Escalated(item=1, officer=None, unit="U", deadline="d", late_minutes=1, to=("a",),  # type: ignore[arg-type]
                     delay="P1D", reason="r")
    assert ev.Rated(rating="good").to_payload() == {"rating": "good"}  # an optional field left unset is fine
