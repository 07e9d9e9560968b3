"""The pages and the BPMN elements of decisions 0157-0159: an expanded sub-process drawn as a box beneath
its steps and flows (never over them), a non-interrupting boundary timer dashed, an inclusive gateway
with its circle; the reception form is the process's first step, not the sub-process's."""

from __future__ import annotations

from lxml import etree

from api.web import diagram
from api.web.reception import reception_step
from engine.definitions.reader import read
from tests.support.bpmn_builder import consultation_procedure, posting_procedure, reminder_procedure

SVG = "{http://www.w3.org/2000/svg}"


def drawn(source: bytes, hl: diagram.Highlight | None = None) -> etree._Element:
    layout = diagram.layout_of(source)
    assert layout is not None
    return etree.fromstring(str(diagram.render(layout, highlight=hl)).encode())


def groups(svg: etree._Element) -> list[etree._Element]:
    return [g for g in svg.iter(f"{SVG}g") if g.get("data-element-id")]


def test_the_expanded_sub_process_is_a_box_beneath_its_steps_and_flows() -> None:
    hl = diagram.Highlight(done={"post"}, current={"close_posting"}, passed={"posting"}, flows={"p2"})
    svg = drawn(posting_procedure().to_xml(), hl)
    order = [g.get("data-element-id") for g in groups(svg)]
    cls = {g.get("data-element-id"): set(g.get("class", "").split()) for g in groups(svg)}
    # the box and every element inside it are drawn, the box first: a white box drawn later hid them
    assert {"posting", "p_start", "post", "close_posting", "p_end", "p1", "p2", "p3", "too_long"} <= set(order)
    assert all(order.index("posting") < order.index(x) for x in ("p1", "p2", "post", "close_posting", "too_long"))
    box = next(g for g in groups(svg) if g.get("data-element-id") == "posting")
    assert box.get("data-kind") == "subProcess" and "passed" in cls["posting"]
    assert "Niêm yết công khai" in "".join(box.itertext())
    assert not [r for r in box.iter(f"{SVG}rect") if r.get("width") == "14"]  # no collapsed (+) marker
    # the open step inside the box is marked as open, the finished one as done
    assert "current" in cls["close_posting"] and "done" in cls["post"] and "taken" in cls["p2"]
    # the inner shapes lie inside the box
    rect = box.find(f"{SVG}rect")
    assert rect is not None
    x, y, w, h = (float(rect.get(k, "0")) for k in ("x", "y", "width", "height"))
    inner = next(g for g in groups(svg) if g.get("data-element-id") == "close_posting").find(f"{SVG}rect")
    assert inner is not None
    ix, iy = float(inner.get("x", "0")), float(inner.get("y", "0"))
    assert x < ix < x + w and y < iy < y + h


def test_a_non_interrupting_timer_is_dashed_and_an_interrupting_one_is_not() -> None:
    def dashed(source: bytes, element: str) -> bool:
        g = next(g for g in groups(drawn(source)) if g.get("data-element-id") == element)
        return any(c.get("stroke-dasharray") for c in g.iter(f"{SVG}circle"))

    assert dashed(reminder_procedure().to_xml(), "slow")
    assert not dashed(posting_procedure().to_xml(), "too_long")


def test_an_inclusive_gateway_has_its_circle() -> None:
    svg = drawn(consultation_procedure().to_xml())
    split = next(g for g in groups(svg) if g.get("data-element-id") == "split")
    assert split.get("data-kind") == "inclusiveGateway" and split.find(f"{SVG}circle") is not None


def test_the_reception_step_is_the_process_s_not_the_sub_process_s() -> None:
    # the box's own start (p_start -> post, a land officer's step) is read before the process's in the file
    meta = read(etree.fromstring(posting_procedure().to_xml())).meta
    assert meta is not None
    step = reception_step(meta)
    assert step is not None and step.id == "receive"
