"""The server-side BPMN drawing (api/web/diagram.py): every bundled procedure, read back as SVG."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from api.web import diagram
from config.settings import ROOT
from tests.support.bpmn_builder import Node, small_procedure

SVG = "{http://www.w3.org/2000/svg}"
BPMN_FILES = sorted((ROOT / "workflows").glob("*/*.bpmn"))
DRAWN = {"startEvent", "endEvent", "userTask", "businessRuleTask", "exclusiveGateway", "parallelGateway",
         "sequenceFlow", "lane", "participant", "task", "manualTask", "scriptTask", "intermediateCatchEvent",
         "boundaryEvent"}


def drawn_ids(path: Path) -> dict[str, str]:
    """Element id -> tag, for every element the file's DI draws (read here with lxml, not by the renderer)."""
    root = etree.parse(str(path)).getroot()
    refs = {el.get("bpmnElement") for el in root.iter() if isinstance(el.tag, str) and el.get("bpmnElement")}
    out = {}
    for el in root.iter():
        if isinstance(el.tag, str) and el.get("id") in refs and etree.QName(el.tag).localname in DRAWN:
            out[el.get("id")] = etree.QName(el.tag).localname
    return out


def render(source: str | bytes, **kw: object) -> etree._Element:
    layout = diagram.layout_of(source)
    assert layout is not None
    svg = diagram.render(layout, **kw)  # type: ignore[arg-type]
    return etree.fromstring(str(svg).encode())  # well-formed XML, or this raises


@pytest.mark.parametrize("path", BPMN_FILES, ids=[p.stem for p in BPMN_FILES])
def test_every_bundled_diagram_is_drawn_whole(path: Path) -> None:
    svg = render(path.read_bytes(), title="t")
    groups = {g.get("data-element-id"): g for g in svg.iter(f"{SVG}g") if g.get("data-element-id")}
    expected = drawn_ids(path)
    assert set(expected) <= set(groups), sorted(set(expected) - set(groups))
    for eid, tag in expected.items():
        assert tag in groups[eid].get("class", "") or tag == "sequenceFlow", eid
    flows = [g for g in groups.values() if "sequenceFlow" in g.get("class", "")]
    assert flows and all(g.find(f"{SVG}path").get("marker-end", "").endswith("-arrow)") for g in flows)
    tasks = [g for g in groups.values() if "userTask" in g.get("class", "")]
    assert all(g.find(f"{SVG}rect").get("rx") == "10" for g in tasks)
    # the viewBox holds every shape
    x, y, w, h = (float(v) for v in svg.get("viewBox").split())
    for rect in svg.iter(f"{SVG}rect"):
        if rect.get("x") and rect.get("width"):
            assert x <= float(rect.get("x")) and float(rect.get("x")) + float(rect.get("width")) <= x + w + 0.5


def test_names_are_escaped_and_lanes_named() -> None:
    proc = small_procedure()
    proc.nodes[1].name = 'Tiếp nhận <script>alert("x")</script> & kiểm tra'
    proc.nodes.append(Node("note", "end", "</text><image href='http://evil/x.png'/>", lane="one_stop_desk", col=9))
    proc.flows[0].name = "a & b"
    text = str(diagram.render(diagram.layout_of(proc.to_xml()), lane_labels={"one_stop_desk": "Bộ phận Một cửa"}))
    assert "<script" not in text and "<image" not in text
    svg = etree.fromstring(text.encode())
    titles = {g.get("data-element-id"): g.find(f"{SVG}title").text for g in svg.iter(f"{SVG}g")
              if "node" in g.get("class", "").split()}
    assert titles["receive"] == 'Tiếp nhận <script>alert("x")</script> & kiểm tra'  # text, never markup
    assert titles["note"] == "</text><image href='http://evil/x.png'/>"
    words = " ".join("".join(t.itertext()) for t in svg.iter(f"{SVG}text"))
    assert "Bộ phận Một cửa" in words and "a & b" in words
    assert not list(svg.iter(f"{SVG}image"))


def test_highlight_classes() -> None:
    hl = diagram.Highlight(done={"receive"}, current={"verify"}, passed={"start"}, returned={"post"}, flows={"f1"})
    svg = render(small_procedure().to_xml(), highlight=hl)
    cls = {g.get("data-element-id"): set(g.get("class", "").split()) for g in svg.iter(f"{SVG}g")
           if g.get("data-element-id")}
    assert "done" in cls["receive"] and "current" in cls["verify"] and "passed" in cls["start"]
    assert "returned" in cls["post"] and "taken" in cls["f1"] and "taken" not in cls["f2"]
    assert not cls["sign"] & {"done", "current", "passed", "returned"}
    taken = next(g for g in svg.iter(f"{SVG}g") if g.get("data-element-id") == "f1")
    assert taken.find(f"{SVG}path").get("marker-end").endswith("-arrow-taken)")


def test_files_without_a_diagram_or_with_broken_bounds() -> None:
    assert diagram.layout_of(small_procedure(with_di=False).to_xml()) is None
    assert diagram.layout_of(b"<not xml") is None
    broken = small_procedure().to_xml().replace(b'<dc:Bounds x="', b'<dc:Bounds x="nan', 1)
    layout = diagram.layout_of(broken)
    assert layout is not None and "Participant_1" not in {s.element for s in layout.shapes}
    assert {"receive", "verify"} <= {s.element for s in layout.shapes}


def test_wrapping() -> None:
    lines = diagram.wrap("Chỉnh lý hồ sơ địa chính, cấp/xác nhận Giấy chứng nhận", 110)
    assert len(lines) > 1 and all(len(line) <= int(110 / (12 * diagram.CHAR)) for line in lines)
    assert diagram.wrap("x" * 50, 60) == ["x" * 8] * 6 + ["xx"]
    cut = diagram.wrap("một hai ba bốn năm sáu bảy tám chín mười", 40, max_lines=2)
    assert len(cut) == 2 and cut[-1].endswith("…")


def test_a_huge_name_is_drawn_in_linear_time() -> None:
    """A 1.9 MB step name (deployed before the checker capped names, issue 13) made every dossier page of
    its procedure take 24 s: a long word was cut by re-slicing its rest, once per line."""
    from functools import partial

    from tests.support.cost import within

    for name in ("x" * 1_900_000, "Kiểm tra hiện trạng " * 70_000):
        proc = small_procedure()
        next(n for n in proc.nodes if n.id == "verify").name = name
        svg, _ = within(4.0, partial(render, proc.to_xml()))  # 24 s before: two hundred references
        (drawn,) = svg.xpath("//*[@data-element-id='verify']")
        assert len("".join(drawn.itertext())) < 600
        assert len(etree.tostring(svg)) < 100_000
    assert diagram.wrap("x" * 30, 60, 12, 2) == ["xxxxxxxx", "xxxxxxx…"]
    assert diagram.wrap("Kiểm tra hiện trạng thửa đất", 90, 12) == ["Kiểm tra hiện", "trạng thửa", "đất"]
