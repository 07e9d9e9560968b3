"""The papers a procedure requires (`paper.*` process properties): parsed, checked, counted by lint."""

from __future__ import annotations

import re

import pytest

from engine.definitions.lint import lint
from engine.papers.requirements import Paper, PaperError, paper_problems, papers_of, parse_paper
from tests.workflows.conftest import FILES
from tests.workflows.test_lint_library import ROLES, read


def test_required_and_conditional_papers_are_read_in_document_order() -> None:
    props = {"sla": "P8D",
             "paper.don_18": "required | Đơn đăng ký biến động (Mẫu số 18) | Nghị định 151/2025/NĐ-CP",
             "paper.uy_quyen": "conditional: nộp qua người đại diện | Văn bản ủy quyền"}
    assert papers_of(props) == [
        Paper("don_18", "Đơn đăng ký biến động (Mẫu số 18)", True, None, "Nghị định 151/2025/NĐ-CP"),
        Paper("uy_quyen", "Văn bản ủy quyền", False, "nộp qua người đại diện", None),
    ]


@pytest.mark.parametrize("code,value,words", [
    ("Don-18", "required | Đơn", "lowercase"),
    ("don", "required", "write 'required | name"),
    ("don", "maybe | Đơn | x", "starts with 'required'"),
    ("don", "required |  | x", "name is empty"),
    ("don", "required | " + "Đ" * 401, "too long"),
    ("don", "conditional: | Đơn", "starts with"),
])
def test_a_malformed_paper_is_refused_with_its_code(code: str, value: str, words: str) -> None:
    with pytest.raises(PaperError, match=words):
        parse_paper(code, value)
    assert paper_problems({f"paper.{code}": value})[0][0] == code


def test_lint_names_the_malformed_paper_and_counts_missing_papers_against_completeness() -> None:
    bpmn, dmns = read("land_transfer")
    prop = 'name="paper.giay_chung_nhan" value='
    broken = bpmn.replace(prop + '"required |', prop + '"bắt buộc |')
    assert broken != bpmn
    report = lint(broken.encode(), dmns, ROLES)
    assert [(p.element, p.rule) for p in report.problems] == [("land_transfer/paper.giay_chung_nhan", "process.papers")]
    bare = re.sub(r'\s*<spiffworkflow:property name="paper\.[^"]+" value="[^"]*" />', "", bpmn)
    assert "paper." not in bare
    report = lint(bare.encode(), dmns, ROLES)
    assert report.problems == [] and report.papers == []
    assert report.completeness < 1.0


@pytest.mark.parametrize("key", sorted(k for k, (path, _dmns) in FILES.items() if path.parent.name != "fragments"))
def test_every_bundled_procedure_lists_its_papers_with_a_legal_basis(key: str) -> None:
    """Every procedure (a fragment is never received: it has no papers of its own)."""
    bpmn, dmns = read(key)
    report = lint(bpmn.encode(), dmns, ROLES)
    assert report.problems == []
    required = [p for p in report.papers if p["required"]]
    assert required, f"{key}: no required paper"
    assert all(p["legal_basis"] for p in report.papers)
    assert all(p["condition"] for p in report.papers if not p["required"])
    assert len({p["code"] for p in report.papers}) == len(report.papers)


def test_the_files_order_survives_the_stored_metadata() -> None:
    """Stored procedure metadata is canonical JSON with sorted keys; the checklist keeps the file's order."""
    import json

    from engine.definitions.model import ProcedureMeta
    from engine.jsoncanon import canonical

    bpmn, dmns = read("land_transfer")
    report = lint(bpmn.encode(), dmns, ROLES)
    meta = ProcedureMeta.from_dict(json.loads(canonical(_meta("land_transfer").as_dict())))
    assert [p.code for p in meta.papers()] == [p["code"] for p in report.papers]
    assert [p.code for p in meta.papers()][:2] == ["don_mau_18", "giay_chung_nhan"]


def _meta(key: str) -> object:
    from engine.definitions.reader import read as read_doc
    from engine.definitions.xmlsafe import parse_xml

    root, _ = parse_xml(read(key)[0].encode(), "bpmn", 2_000_000)
    return read_doc(root).meta
