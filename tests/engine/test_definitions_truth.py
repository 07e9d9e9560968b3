"""The checker tells the truth: what it accepts runs, what it refuses it says plainly.

Each rule here passed a file that later failed (a plain `task` opened dossiers that failed with
`unknown_step`), or was silently read another way (two elements with one id), or answered in
SpiffWorkflow's words (an lxml element's repr)."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import ROOT
from engine.bootstrap import Landflow
from engine.definitions import DefinitionRefused, check
from engine.definitions.lint import lint
from engine.definitions.spec import MAX_MESSAGE, plain
from tests.conftest import officer
from tests.engine.test_definitions import ROLES, rules
from tests.support.bpmn_builder import Flow, Node, small_procedure

BUNDLED_ROLES = ROLES | {"commune_economic_division", "land_registration_office", "province_land_department"}


def messages(bpmn: bytes) -> dict[tuple[str, str], str]:
    _checked, problems = check(bpmn, [], ROLES)
    return {(p.element, p.rule): p.message for p in problems}


def test_a_plain_task_is_refused_and_nothing_deploys(lf: Landflow) -> None:
    proc = small_procedure()
    proc.nodes[7].kind = "task"  # handover, drawn as a plain task: before, it deployed and dossiers failed
    said = messages(proc.to_xml())
    assert ("handover", "element.task") in said and "user task" in said[("handover", "element.task")]
    with pytest.raises(DefinitionRefused) as err:
        lf.runtime.deploy(officer(lf, "supervisor"), proc.to_xml())
    assert ("handover", "element.task") in {(p.element, p.rule) for p in err.value.problems}


def test_duplicate_ids_are_a_rule_of_their_own() -> None:
    proc = small_procedure()
    proc.nodes.append(Node("verify", "user", "Bước trùng mã", lane="one_stop_desk", col=9,
                           props={"sla": "PT1H", "result": "x", "legal_basis": "y"}))
    proc.flows.append(Flow("f11", "notify", "verify"))
    said = messages(proc.to_xml())
    assert said[("verify", "id.duplicate")].startswith("the id 'verify' is used by 2 elements (userTask, userTask)")


def test_a_camunda_condition_gets_a_hint_not_a_syntax_error() -> None:
    proc = small_procedure()
    proc.flows[4].condition = "${eligible == true && area > 0}"
    said = messages(proc.to_xml())
    assert ("f5", "condition.unsafe") not in said
    assert said[("f5", "condition.camunda")].endswith("write 'eligible == True and area > 0'")


def test_gateway_defaults_naming_nothing_are_problems() -> None:
    proc = small_procedure()
    proc.nodes[4].attrs["default"] = "f_nothing"
    assert messages(proc.to_xml())[("gw", "gateway.default")] == \
        "the default flow 'f_nothing' of 'gw' names no sequence flow"
    proc.nodes[4].attrs["default"] = "f2"  # a flow, but one that leaves another element
    assert "does not leave it (from receive)" in messages(proc.to_xml())[("gw", "gateway.default")]
    proc.nodes[4].attrs["default"] = "f6"
    assert ("gw", "gateway.default") not in messages(proc.to_xml())


def _with_message_flow(source: str, target: str) -> bytes:
    xml = small_procedure().to_xml()
    pool = b'<bpmn:participant id="Applicant" name="Ng\xc6\xb0\xe1\xbb\x9di n\xe1\xbb\x99p" />'
    flow = f'<bpmn:messageFlow id="mf1" sourceRef="{source}" targetRef="{target}" />'.encode()
    return xml.replace(b"</bpmn:collaboration>", pool + flow + b"</bpmn:collaboration>")


def test_message_flows_naming_nothing_are_problems() -> None:
    checked, problems = check(_with_message_flow("Applicant", "receive"), [], ROLES)
    assert problems == [] and checked is not None  # a drawn message from the applicant's pool is fine
    said = messages(_with_message_flow("Applicant", "nobody"))
    assert said == {("mf1", "message_flow.dangling"): "the message flow's targetRef names 'nobody', which is no "
                                                      "element of the file"}


def test_a_boundary_event_on_nothing_is_a_problem() -> None:
    proc = small_procedure()
    proc.nodes.append(Node("late", "boundary", "Quá hạn", lane="one_stop_desk", col=9,
                           attrs={"attachedToRef": "nothing"},
                           extra_xml="<bpmn:timerEventDefinition><bpmn:timeDuration>'P1D'</bpmn:timeDuration>"
                                     "</bpmn:timerEventDefinition>"))
    proc.flows.append(Flow("f11", "late", "end_no"))
    assert ("late", "boundary.attached") in rules(proc.to_xml())


def test_spiffworkflow_messages_are_never_passed_through_raw() -> None:
    proc = small_procedure()
    proc.nodes[1].extra_xml = ("<bpmn:dataInputAssociation><bpmn:sourceRef>nothing</bpmn:sourceRef>"
                               "</bpmn:dataInputAssociation>")
    said = messages(proc.to_xml())
    text = said[("receive", "spiff.parse")]
    assert "0x" not in text and "<Element" not in text and "{http" not in text
    assert text == "Cannot resolve dataInputAssociation (sourceRef element)"
    # a decision named by nobody: the rule says it; SpiffWorkflow's cut "Available DMN ids are: " is not repeated
    proc = small_procedure()
    proc.nodes[3].kind = "rule"
    proc.nodes[3].script = None
    said = messages(proc.to_xml())
    assert ("fee", "rule.decision") in said and ("fee", "spiff.parse") not in said


def test_long_messages_are_cut_between_sentences_only() -> None:
    long = " ".join(f"Sentence number {n} says something about <Foo object at 0x7f00ab12>." for n in range(40))
    text = plain(long)
    assert len(text) <= MAX_MESSAGE and text.endswith(".") and "0x" not in text and "a Foo" in text
    assert plain("word " * 200).endswith("(the rest of the message is left out)")


@pytest.mark.parametrize("path", sorted((ROOT / "workflows").rglob("*.bpmn")), ids=lambda p: p.stem)
def test_every_bundled_procedure_lints_clean(path: Path) -> None:
    dmns = [d.read_bytes() for d in path.parent.glob(f"{path.stem}*.dmn")]
    report = lint(path.read_bytes(), dmns, BUNDLED_ROLES)
    assert report.problems == []


def with_sla(path: Path, step: str, value: str) -> bytes:
    """The bundled file with one step's limit changed."""
    text = path.read_text(encoding="utf-8")
    at = text.index(f'<bpmn:userTask id="{step}"')
    sla = text.index('name="sla" value="', at) + len('name="sla" value="')
    return (text[:sla] + value + text[text.index('"', sla):]).encode("utf-8")


LAND = ROOT / "workflows" / "land"


def budget(bpmn: bytes) -> dict[str, str]:
    report = lint(bpmn, [], BUNDLED_ROLES)
    return {p.element: p.message for p in report.problems if p.rule == "budget.path"}


def test_the_running_clock_steps_must_fit_the_limit_along_every_path() -> None:
    # land_transfer: 0.5 + 2 + 1 + 3 + 0.5 = 7 days of running clock against P8D (tax steps are paused)
    assert budget((LAND / "land_transfer.bpmn").read_bytes()) == {}
    # update_register P3D -> P5D: 9 days against 8 (this variant linted clean before)
    said = budget(with_sla(LAND / "land_transfer.bpmn", "update_register", "P5D"))
    assert list(said) == ["update_register"]  # the step where the path passes the limit
    assert ("the running-clock steps take P9D (receive PT4H + check_rights P2D + send_form19 P1D + "
            "update_register P5D + return_result PT4H), more than the procedure's limit sla = P8D") in said[
        "update_register"]
    assert "start" in said["update_register"] and "→ return_result →" in said["update_register"]
    # a paused step may be as long as the law allows: it is not counted
    assert budget(with_sla(LAND / "land_transfer.bpmn", "tax_assess", "P30D")) == {}


def test_conditional_limits_are_honoured_per_path() -> None:
    path = LAND / "certificate_exchange.bpmn"
    # remeasured: 0.5 + 1 + 5 + 2 + 0.5 = 9 days, within sla_remeasured = P10D (over the ordinary P5D)
    assert budget(path.read_bytes()) == {}
    said = budget(with_sla(path, "remeasure", "P7D"))  # 11 days on the remeasured branch, passed at issuing
    assert list(said) == ["issue_certificate"] and "limit sla_remeasured = P10D" in said["issue_certificate"]
    assert "remeasure P7D" in said["issue_certificate"]
    # issue_certificate P4D: the ordinary branch takes 6 days (> 5), the remeasured one 11 (> 10)
    both = lint(with_sla(path, "issue_certificate", "P4D"), [], BUNDLED_ROLES).problems
    assert {p.message.split("limit ")[1].split(":")[0] for p in both if p.rule == "budget.path"} == {
        "sla = P5D", "sla_remeasured = P10D"}
