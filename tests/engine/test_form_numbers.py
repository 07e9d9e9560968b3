"""Issue 12, defect 2: numbers typed the Vietnamese way (docs/decisions/0051-vietnamese-numbers.md)."""

from __future__ import annotations

import pytest

from engine.definitions.forms import FormField, clean_submission, parse_number


@pytest.mark.parametrize("text,value", [
    ("35.000.000", 35_000_000), ("35 000 000", 35_000_000), ("35\u00a0000\u00a0000", 35_000_000),
    ("35000000", 35_000_000), ("12,5", 12.5), ("0,5", 0.5), ("1.234,5", 1234.5), ("12.500,75", 12500.75),
    ("12.5", 12.5), ("0.500", 0.5), ("1234.567", 1234.567), ("-1.500.000", -1_500_000), ("+7", 7),
    (" 42 ", 42), ("3.000,0", 3000.0),
])
def test_numbers_as_officers_write_them(text: str, value: float) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize("text,fragment", [
    ("1.500", "ambiguous (1500 or 1,5?)"), ("1,500", "ambiguous (1500 or 1,5?)"),
    ("-35.000", "ambiguous (-35000 or -35,0?)"),
    ("1,234.5", "not a number"), ("1,234,567", "not a number"), ("12 mét", "not a number"), ("1..0", "not a number"),
    ("12,", "not a number"), (".5", "not a number"), ("1.5e3", "not a number"), ("١٢", "not a number"),
    ("35.00.000", "not a number"), ("", "not a number"),
])
def test_what_cannot_be_read_one_way_only_is_refused_with_how_to_write_it(text: str, fragment: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_number(text)
    assert fragment in str(info.value)


def test_the_form_checks_numbers_and_whole_numbers_by_this_rule() -> None:
    form = [FormField("obligation_amount", "number", True), FormField("parcels", "integer")]
    assert clean_submission(form, {"obligation_amount": "35.000.000", "parcels": "2"}) == (
        {"obligation_amount": 35_000_000.0, "parcels": 2}, [])
    assert clean_submission(form, {"obligation_amount": "12,5"})[0] == {"obligation_amount": 12.5}
    assert clean_submission(form, {"obligation_amount": 35_000_000})[0] == {"obligation_amount": 35_000_000}
    clean, problems = clean_submission(form, {"obligation_amount": "1.500", "parcels": "2,5"})
    assert clean == {} and problems == ["obligation_amount: '1.500' is ambiguous (1500 or 1,5?): write 1500 or 1,5",
                                        "parcels: must be a whole number"]
