"""The modeler's panel for the elements a redesign adds besides steps (issue 17, point 2): a call
activity chooses the deployed fragment it runs (decision 0166), a message catch event names its
message, the role that delivers it and its clock (decision 0160), and a consultation (a parallel
multi-instance step, decision 0163) opens and saves with its loop intact and chooses its agencies
(decision 0175); what the panel writes is what the engine reads, and its check stays clear. In headless
Chromium, every request kept on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from lxml import etree

from api.cli.setup import initialise
from bench.fragment_builder import caller_procedure
from config.settings import Settings
from engine.bootstrap import build
from engine.clock import FixedClock
from tests.conftest import officer
from tests.support.bpmn_builder import agencies_procedure, message_procedure
from tests.web.conftest import NOW, Pages, Site, serving

pytestmark = pytest.mark.xdist_group("browser")
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"


@pytest.fixture(scope="module")
def own_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("modeler-elements")
    settings = Settings.from_env({}, database_url=f"sqlite:///{root / 'landflow.db'}", var_dir=root, demo=True,
                                 secret_key="test-secret-key-for-the-modeler-elements-test")
    setup = build(settings)
    initialise(setup, say=lambda _msg: None)  # deploys the bundled fragments before the procedures
    sup = officer(setup, "supervisor")
    setup.runtime.deploy(sup, caller_procedure("caller_ui", "Thủ tục có niêm yết", sla="P30D",
                                               fragment="public_posting").to_xml())
    setup.runtime.deploy(sup, message_procedure().to_xml())
    older = agencies_procedure()  # as el-multi first wrote it: the loop's names declared nowhere else
    older.extra_process_xml = ""
    setup.runtime.deploy(sup, older.to_xml())
    setup.close()
    clock = FixedClock(NOW)
    yield from serving(build(settings, clock=clock), clock)


@pytest.fixture
def own_pages(own_site: Site, browser: Any) -> Iterator[Pages]:
    p = Pages(own_site, browser)
    yield p
    p.close()
    assert own_site.outside == [], f"the modeler asked for something outside landflow: {own_site.outside[:5]}"


def opened(page: Any, site: Site, key: str) -> None:
    page.goto(site.url(f"/procedures/{key}/modeler"))
    page.wait_for_selector("#modeler[data-ready=true]")
    page.wait_for_selector("#check-status[data-problems]")


def select(page: Any, element: str) -> None:
    page.evaluate(f"""() => {{ const m = window.landflowModeler;
        m.get('selection').select(m.get('elementRegistry').get('{element}')); }}""")


def saved(page: Any) -> etree._Element:
    xml: str = page.evaluate("() => window.landflowModeler.saveXML({ format: true }).then(r => r.xml)")
    return etree.fromstring(xml.encode("utf-8"))


def props_of(root: etree._Element, element: str) -> dict[str, str]:
    (node,) = [e for e in root.iter() if e.get("id") == element]
    return {p.get("name", ""): p.get("value", "") for p in node.iter(f"{SPIFF}property")}


def change(page: Any, selector: str, value: str) -> None:
    page.fill(selector, value)
    page.locator(selector).dispatch_event("change")


def test_a_call_activity_chooses_its_fragment_in_the_panel(own_site: Site, own_pages: Pages) -> None:
    page = own_pages.signed_in("supervisor")
    opened(page, own_site, "caller_ui")
    assert page.get_attribute("#check-status", "data-problems") == "0"
    select(page, "posting")
    page.wait_for_selector("#p-fragment")
    options = page.eval_on_selector_all("#p-fragment option", "os => os.map(o => o.value)")
    assert {"public_posting", "financial_obligations"} <= set(options) and "caller_ui" not in options
    assert page.input_value("#p-fragment") == "public_posting"
    assert "Niêm yết công khai" in page.inner_text("#panel-body")
    page.select_option("#p-fragment", "financial_obligations")
    (call,) = [e for e in saved(page).iter(f"{BPMN}callActivity")]
    assert call.get("calledElement") == "financial_obligations"
    page.wait_for_selector("#check-status[data-problems='0']")  # the engine's check binds the other fragment
    page.select_option("#p-fragment", "")  # no fragment: the engine names the problem on the element
    page.wait_for_selector("#problems li[data-element='posting'][data-rule='call.element']")


def test_a_message_catch_event_names_its_message_sender_and_clock(own_site: Site, own_pages: Pages) -> None:
    page = own_pages.signed_in("supervisor")
    opened(page, own_site, "message_test")
    page.wait_for_selector("#check-status[data-problems='0']")
    select(page, "tax_wait")
    page.wait_for_selector("#p-message")
    assert page.input_value("#p-message") == "tax_notice"
    assert page.input_value("#p-from-role") == "tax_office"
    assert "Chờ cơ quan khác trả lời" in page.inner_text("#panel-body")
    change(page, "#p-message", "thong_bao_thue")
    page.select_option("#p-from-role", "registration_branch")
    root = saved(page)
    messages = {m.get("id"): m.get("name") for m in root.iter(f"{BPMN}message")}
    (definition,) = [e for e in root.iter(f"{BPMN}messageEventDefinition")]
    assert messages[definition.get("messageRef")] == "thong_bao_thue"
    assert props_of(root, "tax_wait")["from_role"] == "registration_branch"
    assert props_of(root, "tax_wait")["clock"] == "paused"
    page.wait_for_selector("#check-status[data-problems='0']")
    page.select_option("#p-from-role", "")  # nobody may deliver it: the engine says so on the element
    page.wait_for_selector("#problems li[data-element='tax_wait']")


def test_a_consultation_opens_and_saves_with_its_loop_and_chooses_its_agencies(own_site: Site,
                                                                              own_pages: Pages) -> None:
    """bpmn-js drops a loop reference naming no element: before decision 0175 this deployed, clean file
    showed two problems as soon as it was opened, and a saved draft lost its collections."""
    page = own_pages.signed_in("supervisor")
    opened(page, own_site, "consultation_test")
    assert page.get_attribute("#check-status", "data-problems") == "0", page.inner_text("#problems")
    root = saved(page)
    (loop,) = [e for e in root.iter(f"{BPMN}multiInstanceLoopCharacteristics")]
    assert loop.findtext(f"{BPMN}loopDataInputRef") == "agencies"
    assert loop.findtext(f"{BPMN}loopDataOutputRef") == "opinions"
    select(page, "consult")
    page.wait_for_selector("#p-instances")
    chosen = page.eval_on_selector_all("#p-instances .f-agency:checked", "cs => cs.map(c => c.value)")
    assert sorted(chosen) == ["commune_economic_division", "tax_office"]
    page.locator("#p-instances .f-agency[value='registration_branch']").check()
    page.locator("#p-instances .f-agency[value='commune_economic_division']").uncheck()
    assert sorted(props_of(saved(page), "consult")["instances"].split("|")) == ["registration_branch", "tax_office"]
    page.wait_for_selector("#check-status[data-problems='0']")
