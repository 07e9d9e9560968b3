"""`lint` on the bundled library: zero problems and every step 100% "6 clear"; and the deploy-time rules
for the properties the engine acts on (sla_<field>, jurisdiction_from, refusal), shown on the files."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.organisation import load_roles
from engine.definitions.lint import CLEAR, lint
from tests.workflows.conftest import FILES, ORG_DIR

ROLES = {r.code for r in load_roles(ORG_DIR / "roles.toml").values() if r.owns_steps}


def read(key: str) -> tuple[str, list[bytes]]:
    bpmn, dmns = FILES[key]
    return bpmn.read_text(encoding="utf-8"), [d.read_bytes() for d in dmns]


@pytest.mark.parametrize("key", sorted(FILES))
def test_lint_reports_no_problem_and_six_clear_everywhere(key: str) -> None:
    bpmn, dmns = read(key)
    report = lint(bpmn.encode(), dmns, ROLES)
    assert report.problems == []
    assert report.key == key
    assert report.six_clear and all(all(cells[c] for c in CLEAR) for cells in report.six_clear.values())
    assert report.completeness == 1.0
    assert report.as_dict()["completeness"] == 1.0


@pytest.mark.parametrize("key,old,new,rule", [
    ("certificate_exchange", 'name="sla_remeasured"', 'name="sla_remeasuring"', "process.sla_field"),
    ("certificate_exchange", 'name="sla_remeasured" value="P10D"', 'name="sla_remeasured" value="P10M"',
     "process.sla_field"),
    ("district_handover", 'name="jurisdiction_from" value="old_commune"',
     'name="jurisdiction_from" value="old_ward"', "process.jurisdiction_from"),
    ("district_handover", 'name="refusal" value="accepted=false"', 'name="refusal" value="approved=false"',
     "step.refusal"),
    ("district_handover", 'name="refusal" value="accepted=false"', 'name="refusal" value="__import__(1)"',
     "step.refusal"),
    ("district_handover", 'name="refusal" value="accepted=false"', 'name="refusal" value="not accepted"',
     "step.refusal"),
    ("district_handover", 'name="refusal_reason" value="note"', 'name="refusal_reason" value="accepted"',
     "step.refusal"),
    ("district_handover", 'name="continues" value="true"', 'name="continues" value="yes"', "end.continues"),
])
def test_engine_properties_must_name_what_exists(key: str, old: str, new: str, rule: str) -> None:
    bpmn, dmns = read(key)
    assert old in bpmn
    report = lint(bpmn.replace(old, new, 1).encode(), dmns, ROLES)
    assert rule in {p.rule for p in report.problems}, [p.as_dict() for p in report.problems]


def test_the_library_is_where_the_tests_look() -> None:
    assert {p.parent.name for p, _ in FILES.values()} == {"land", "transitional", "fragments"}
    assert all(isinstance(p, Path) and p.exists() for p, _ in FILES.values())


LAND = sorted(k for k, (p, _) in FILES.items() if p.parent.name == "land")


@pytest.mark.parametrize("key", LAND)
@pytest.mark.parametrize("choice", ["decision=refuse", "eligible=false"])
def test_an_unmarked_refusal_of_the_library_is_refused_naming_its_step(key: str, choice: str) -> None:
    """Take away one `refusal` mark (refused at reception, or not eligible): lint names that step."""
    bpmn, dmns = read(key)
    mark = f'<spiffworkflow:property name="refusal" value="{choice}" />'
    assert bpmn.count(mark) == 1
    at = bpmn.index(mark)
    step = bpmn[bpmn.rindex('<bpmn:userTask id="', 0, at):].split('"')[1]
    report = lint(bpmn.replace(mark, "").encode(), dmns, ROLES)
    assert {(p.element, p.rule) for p in report.problems} >= {(step, "step.refusal")}
    assert any(choice in p.message for p in report.problems if p.element == step)
    # and the ending without the result, called a result, is refused too
    flipped = bpmn.replace('name="outcome" value="refusal"', 'name="outcome" value="result"')
    assert {p.rule for p in lint(flipped.encode(), dmns, ROLES).problems} == {"step.refusal"}
