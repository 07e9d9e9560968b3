"""What checking a procedure file costs (issue 13, points 1 and 6): hostile files made here, each up to
the 2 MB upload cap, are refused with problems naming their elements, for at most the CPU of checking
ten ordinary 500 KB files (tests/support/cost.py: a ratio to a reference run beside the work, so the
bound moves with the machine; an ordinary 2 MB file costs about five). Before: 60
`str(['a'*10000]*10000)` conditions in 21 KB took 12 s (about ninety references), and a 1.9 MB step
name made every page of a dossier of that procedure take 24 s."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from engine.definitions.lint import LintReport, lint
from tests.data.hostile.generate import node, with_decision
from tests.support.bpmn_builder import Flow, Procedure, small_procedure
from tests.support.cost import within
from tests.support.figures import Figures
from tests.support.org import small_organisation

CAP = 2_000_000
LIMIT = 10.0  # references (tests/support/cost.py)
ROLES = {r.code for r in small_organisation().roles.values() if r.owns_steps}
STR_BOMB = "str(['a' * 10000] * 10000) == ''"
HEAVY = [  # each is cheap to write and was expensive to check
    STR_BOMB,
    "lower(['a' * 9000, 'b' * 9000, 'c' * 9000]) == ''",
    " and ".join(["[0] * 9999 == [0] * 9999"] * 25),
    "len([[0] * 99] * 99) == 9801",
    "a" + " + 1" * 130 + " > 0",
    " or ".join(f"(area > {i} and eligible)" for i in range(300)),
    "1" + " + 1" * 1900,
]


def checked(bpmn: bytes, dmns: list[bytes] | None = None) -> LintReport:
    """The file's report, failing if checking it cost more than LIMIT references."""
    assert len(bpmn) <= CAP and all(len(d) <= CAP for d in dmns or []), "the test file must fit the upload cap"
    print(f"checking {len(bpmn) + sum(map(len, dmns or []))} bytes")
    report, _ = within(LIMIT, lambda: lint(bpmn, dmns or [], ROLES, CAP))
    return report


def with_conditions(conditions: Callable[[int], str], count: int | None = None) -> tuple[bytes, list[str]]:
    """The test procedure plus `count` flows from its gateway (default: as many as fit in 2 MB), one
    condition each."""
    proc = small_procedure()
    sizes = []
    for n in (0, 70):
        proc.flows = small_procedure().flows + [Flow(f"h{i}", "gw", "post", condition=conditions(i)) for i in range(n)]
        sizes.append(len(proc.to_xml()))
    if count is None:
        count = (CAP - 30_000 - sizes[0]) * 70 // (sizes[1] - sizes[0])
    while True:
        proc.flows = small_procedure().flows + [Flow(f"h{i}", "gw", "post", condition=conditions(i))
                                                for i in range(count)]
        xml = proc.to_xml()
        if len(xml) <= CAP - 10_000:
            return xml, [f.id for f in proc.flows if f.id.startswith("h")]
        count = count * (CAP - 20_000) // len(xml)


def fill(unit: str, size: int = 1_900_000) -> str:
    """`unit` repeated to about `size` bytes of UTF-8."""
    return unit * (size // len(unit.encode("utf-8")))


def rules_at(report: LintReport, element: str) -> set[str]:
    return {p.rule for p in report.problems if p.element == element}


def test_sixty_str_bombs_in_21_kb(figures: Figures) -> None:
    bpmn, flows = with_conditions(lambda i: STR_BOMB, count=60)
    report = checked(bpmn)
    assert all("condition.unsafe" in rules_at(report, f) for f in flows), report.problems[:5]
    figures.add("hostile", 1)


@pytest.mark.parametrize("kind", ["one_kind", "mixed"])
def test_two_megabytes_of_conditions(kind: str, figures: Figures) -> None:
    bpmn, flows = with_conditions(lambda i: STR_BOMB if kind == "one_kind" else HEAVY[i % len(HEAVY)])
    assert len(bpmn) > CAP * 0.97, len(bpmn)
    report = checked(bpmn)
    refused = {p.element for p in report.problems if p.rule == "condition.unsafe"}
    assert "h0" in refused and refused <= set(flows), sorted(refused)[:10]
    figures.add("hostile", 1)


def huge(change: Callable[[Procedure], None]) -> bytes:
    proc = small_procedure()
    change(proc)
    return proc.to_xml()


@pytest.mark.parametrize(("what", "bpmn", "element", "rule"), [
    ("step name", lambda: huge(lambda p: setattr(node(p, "verify"), "name", fill("Kiểm tra "))),
     "verify", "element.name"),
    ("flow name", lambda: huge(lambda p: setattr(p.flows[4], "name", fill("Đủ "))), "f5", "element.name"),
    ("lane name", lambda: huge(lambda p: setattr(node(p, "sign"), "lane", fill("x", 300_000))), "Lane_2",
     "element.name"),
    ("property", lambda: huge(lambda p: node(p, "verify").props.update(result=fill("Phiếu "))),
     "verify", "element.text"),
    ("documentation", lambda: huge(lambda p: setattr(node(p, "verify"), "extra_xml", "<bpmn:documentation>" +
                                                     fill("Hướng dẫn ") + "</bpmn:documentation>")),
     "verify", "element.text"),
    ("process name", lambda: huge(lambda p: setattr(p, "name", fill("Thủ tục ", 900_000))), "small_test",
     "element.name"),
])
def test_a_huge_text_is_refused_naming_its_element(what: str, bpmn: Callable[[], bytes], element: str, rule: str,
                                                  figures: Figures) -> None:
    report = checked(bpmn())
    assert rule in rules_at(report, element), (what, report.problems[:5])
    figures.add("hostile", 1)


def decision_table(rules: int, entry: Callable[[int], str]) -> bytes:
    rows = "".join(f'<rule id="r{i}"><inputEntry id="r{i}i"><text>{entry(i)}</text></inputEntry>'
                   f'<outputEntry id="r{i}o"><text>"ok"</text></outputEntry></rule>' for i in range(rules))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="D_hostile" name="hostile" namespace="x">
  <decision id="hostile" name="hostile">
    <decisionTable id="t" hitPolicy="FIRST">
      <input id="i1" label="in"><inputExpression id="ie1" typeRef="number"><text>area</text></inputExpression></input>
      <output id="o1" label="out" name="track" typeRef="string" />{rows}
    </decisionTable>
  </decision>
</definitions>""".encode()


@pytest.mark.parametrize(("dmn", "element", "rule"), [
    (lambda: decision_table(14_000, lambda i: f"&gt; {i}"), "hostile", "dmn.size"),
    (lambda: decision_table(1, lambda i: '"' + fill("a") + '"'), "r0i", "dmn.input"),
    (lambda: decision_table(1_000, lambda i: '"' + "?" * 1_800 + '"'), "r0i", "dmn.input"),
])
def test_a_decision_table_spiffworkflow_would_take_long_over_is_refused(
        dmn: Callable[[], bytes], element: str, rule: str, figures: Figures) -> None:
    bpmn = huge(with_decision)
    report = checked(bpmn, [dmn()])
    assert rule in rules_at(report, element), report.problems[:5]
    figures.add("hostile", 1)


def test_the_library_and_a_plain_large_table_still_pass() -> None:
    """The caps are far above what a real procedure holds."""
    report = checked(huge(with_decision), [decision_table(900, lambda i: f"&gt; {i}")])
    assert report.ok, report.problems[:5]
