"""The procedure checker's problems on the pages: in Vietnamese, for every rule the engine has.

The engine names each problem's rule and says it in English for the API; the check page renders the
rule (and its parameters) through the catalog. A rule added to engine/definitions without a sentence
in api/web/lint_messages.py, or a sentence without its Vietnamese, fails here."""

from __future__ import annotations

import ast
import io
import re

from flask.testing import FlaskClient

from api.web.lint_messages import DETAIL, RULE
from config.settings import ROOT
from tests.engine.test_definitions_truth import LAND, with_sla
from tests.support.page_text import visible_text
from tests.web.conftest import sign_in_page
from tests.web.test_messages import msgid, vietnamese

# rules passed to Problem through a variable: _duration_problem(..., "step.sla", ...), f"dmn.{tag}", limits.py
INDIRECT = {"process.sla", "step.sla", "process.remote_extension", "dmn.output", "element.id", "element.name"}


def engine_rules() -> set[str]:
    found = set(INDIRECT)
    for path in (ROOT / "engine").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or len(node.args) < 2:
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name in ("Problem", "_duration_problem") and isinstance(node.args[1], ast.Constant):
                found.add(node.args[1].value)
    return found


def test_every_rule_of_the_checker_has_a_vietnamese_sentence() -> None:
    rules = engine_rules()
    assert {"budget.path", "element.task", "id.duplicate", "xml.encoding", "step.sla"} <= rules
    assert rules - set(RULE) == set()
    vi = vietnamese()
    missing = [msgid(t) for t in [*RULE.values(), *DETAIL.values()] if msgid(t) not in vi]
    assert missing == []


def check_page(client: FlaskClient, bpmn: bytes) -> str:
    token = sign_in_page(client, "supervisor")
    resp = client.post("/procedures/check", data={"csrf_token": token, "intent": "check",
                                                  "bpmn": (io.BytesIO(bpmn), "p.bpmn")},
                       content_type="multipart/form-data")
    assert resp.status_code == 200
    return visible_text(resp.get_data(as_text=True))


def test_the_time_budget_reads_in_vietnamese_on_the_check_page(client: FlaskClient) -> None:
    page = check_page(client, with_sla(LAND / "land_transfer.bpmn", "update_register", "P5D"))
    assert ("các bước tính giờ cộng lại là 9 ngày làm việc (receive 4 giờ làm việc + check_rights 2 ngày làm việc + "
            "send_form19 1 ngày làm việc + update_register 5 ngày làm việc + return_result 4 giờ làm việc), vượt "
            "thời hạn 8 ngày làm việc (sla)") in page
    assert "running-clock" not in page and "P9D" not in page


def test_a_plain_task_and_a_rule_without_details_read_in_vietnamese(client: FlaskClient) -> None:
    text = (LAND / "land_transfer.bpmn").read_text(encoding="utf-8")
    plain = re.sub(r'<bpmn:userTask id="return_result"(.*?)</bpmn:userTask>',
                   r'<bpmn:task id="return_result"\1</bpmn:task>', text, count=1, flags=re.S)
    page = check_page(client, plain.encode("utf-8"))
    assert "“Trả kết quả” là bước thông thường (task), không cán bộ nào thực hiện được" in page, page[:2000]
    assert "plain task" not in page


def test_older_rules_say_their_details_in_vietnamese_too(client: FlaskClient) -> None:
    text = (LAND / "land_transfer.bpmn").read_text(encoding="utf-8")
    page = check_page(client, text.replace('name="registration_branch"', 'name="tax_collector"', 1).encode("utf-8"))
    assert "Làn “tax_collector” không mang mã vai trò nào của tổ chức (các vai trò:" in page, page[:3000]
    assert "is not a role code" not in page
