"""Writes the hostile corpus beside this file: `python -m tests.data.hostile.generate`.

Each file is the small test procedure (tests/support/bpmn_builder.py, valid as drawn) with one
hostile change, or a hostile XML document. EXPECTED (tests/reliability/test_hostile_bpmn.py) names
the rule each must be refused by. Payloads that would write a file aim at CANARY; the tests check
that it never appears. The 50 MB file is made at test time, never committed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.support.bpmn_builder import Flow, Node, Procedure, small_procedure, timer_xml

HERE = Path(__file__).resolve().parent
CANARY = "/tmp/landflow-hostile-canary"
TOUCH = f"__import__('os').system('touch {CANARY}')"
BPMN_NS = 'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'


def variant(change: Callable[[Procedure], None]) -> bytes:
    proc = small_procedure()
    change(proc)
    return proc.to_xml()


def node(proc: Procedure, nid: str) -> Node:
    return next(n for n in proc.nodes if n.id == nid)


def condition(text: str) -> bytes:
    def change(p: Procedure) -> None:
        p.flows[4] = Flow("f5", "gw", "post", condition=text, name="Đủ")
    return variant(change)


def script(text: str) -> bytes:
    return variant(lambda p: setattr(node(p, "fee"), "script", text))


def ext(nid: str, xml: str) -> bytes:
    return variant(lambda p: setattr(node(p, nid), "extra_xml", xml))


def between(p: Procedure, before: str, after: str, new: Node) -> None:
    """Put `new` on the flow from `before` to `after`."""
    p.nodes.insert(2, new)
    i = next(i for i, f in enumerate(p.flows) if (f.source, f.target) == (before, after))
    p.flows[i] = Flow(p.flows[i].id, before, new.id)
    p.flows.append(Flow(f"{new.id}_out", new.id, after))


def with_decision(p: Procedure) -> None:
    """fee -> decide (business rule task, decision `hostile`) -> gw."""
    p.nodes.insert(4, Node("decide", "rule", "Phân loại", lane="commune_land_officer", col=4,
                           extra_xml="<bpmn:extensionElements><spiffworkflow:calledDecisionId>hostile"
                                     "</spiffworkflow:calledDecisionId></bpmn:extensionElements>"))
    p.flows[3] = Flow("f4", "fee", "decide")
    p.flows.append(Flow("f4b", "decide", "gw"))


def dmn(input_entry: str = '"x"', output_entry: str = '"ok"', input_expression: str = "area") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="D_hostile" name="hostile" namespace="x">
  <decision id="hostile" name="hostile">
    <decisionTable id="t" hitPolicy="UNIQUE">
      <input id="i1" label="in"><inputExpression id="ie1" typeRef="string"><text>{input_expression}</text>
      </inputExpression></input>
      <output id="o1" label="out" name="track" typeRef="string" />
      <rule id="r1"><inputEntry id="r1i"><text>{input_entry}</text></inputEntry>
        <outputEntry id="r1o"><text>{output_entry}</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>
""".encode()


def doc(body: str, doctype: str = "") -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{doctype}\n<bpmn:definitions {BPMN_NS} id="d">{body}' \
           f"</bpmn:definitions>\n".encode()


VALID_PROCESS = small_procedure().to_xml().decode().split("?>", 1)[1]

CORPUS: dict[str, bytes] = {
    # -- XML itself ----------------------------------------------------------------------------------------
    "xxe_local_file": doc("<bpmn:process id='p'><bpmn:documentation>&xxe;</bpmn:documentation></bpmn:process>",
                          '<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'),
    "xxe_network": doc("<bpmn:process id='p'><bpmn:documentation>&m;</bpmn:documentation></bpmn:process>",
                       '<!DOCTYPE d [<!ENTITY m SYSTEM "http://169.254.169.254/latest/meta-data/">]>'),
    "xxe_parameter_entity": doc("<bpmn:process id='p'/>",
                                f'<!DOCTYPE d [<!ENTITY % p SYSTEM "file://{CANARY}"> %p;]>'),
    "billion_laughs": doc("<bpmn:process id='p'><bpmn:documentation>&l9;</bpmn:documentation></bpmn:process>",
                          "<!DOCTYPE d [<!ENTITY l0 'lol'>" + "".join(
                              f"<!ENTITY l{i} '{('&l' + str(i - 1) + ';') * 10}'>" for i in range(1, 10)) + "]>"),
    "quadratic_blowup": doc("<bpmn:process id='p'><bpmn:documentation>" + "&a;" * 20_000 +
                            "</bpmn:documentation></bpmn:process>", f"<!DOCTYPE d [<!ENTITY a '{'a' * 40_000}'>]>"),
    "doctype_after_comment": ("<?xml version='1.0'?><!-- innocent --><!DOCTYPE d [<!ENTITY x SYSTEM "
                              "'file:///etc/shadow'>]>" + VALID_PROCESS.replace("Thủ tục thử nghiệm", "&x;", 1)
                              ).encode(),
    "utf16_hidden_doctype": ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE d [<!ENTITY x SYSTEM '
                             '"file:///etc/passwd">]><bpmn:definitions ' + BPMN_NS + '>&x;</bpmn:definitions>'
                             ).encode("utf-16"),
    "xinclude": VALID_PROCESS.replace(
        "<bpmn:process ", '<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" '
        'parse="text"/><bpmn:process ', 1).encode(),
    "deep_nesting": doc("<x>" * 30_000 + "</x>" * 30_000),
    "not_xml": b"PK\x03\x04" + bytes(range(256)) * 40,
    "empty": b"   \n",
    "truncated": small_procedure().to_xml()[:5000],
    # -- conditions -----------------------------------------------------------------------------------------
    "condition_import": condition(f"{TOUCH} or True"),
    "condition_dunder_subclasses": condition("().__class__.__bases__[0].__subclasses__() != []"),
    "condition_builtins_open": condition(f"open('{CANARY}', 'w') is None"),
    "condition_eval": condition(f'eval("{TOUCH}") or True'),
    "condition_lambda": condition("(lambda: True)()"),
    "condition_fstring": condition("f\"{__import__('os').getcwd()}\" != ''"),
    "condition_walrus": condition("(eligible := True)"),
    "condition_comprehension_loop": condition("len([x for x in range(10 ** 9)]) > 0"),
    "condition_huge_power": condition("9 ** 9 ** 9 > 0"),
    "condition_huge_literal": condition("area == " + "9" * 3_000),
    "condition_memory_bomb": condition("len(str(sum([[0] * 9999] * 9999, []))) > 0"),
    "condition_huge_repeat": condition("len('x' * 10 ** 12) > 0"),
    "condition_str_bomb": condition("str(['a' * 10000] * 10000) == ''"),  # 100 MB of text, refused unbuilt
    # -- scripts --------------------------------------------------------------------------------------------
    "script_import": script(f"import os\nos.system('touch {CANARY}')\nfee = 1"),
    "script_while_true": script("while True:\n    pass\nfee = 1"),
    "script_recursion": script("def f(n):\n    return f(n + 1)\nfee = f(0)"),
    "script_builtins_exec": script(f"fee = __builtins__['exec'](\"{TOUCH}\")"),
    "script_attribute_escape": script("fee = area.__class__.__mro__[-1].__subclasses__()"),
    "script_try_raise": script("try:\n    fee = 1\nexcept Exception:\n    raise SystemExit"),
    "script_huge_list": script("fee = [0] * 10 ** 9"),
    "prescript_import": ext("receive", f"<bpmn:extensionElements><spiffworkflow:preScript>x = {TOUCH}"
                                       "</spiffworkflow:preScript></bpmn:extensionElements>"),
    "postscript_open": ext("verify", f"<bpmn:extensionElements><spiffworkflow:postScript>x = open('{CANARY}', 'w')"
                                     "</spiffworkflow:postScript></bpmn:extensionElements>"),
    "refusal_condition_dunder": variant(lambda p: node(p, "verify").props.update(refusal=f"{TOUCH} or not eligible")),
    # -- decisions (DMN beside the BPMN, same stem) -----------------------------------------------------------
    "dmn_input_entry_import": variant(with_decision),
    "dmn_output_entry_open": variant(with_decision),
    "dmn_input_expression_lambda": variant(with_decision),
    # -- structure, owners, time ------------------------------------------------------------------------------
    "no_end_event": variant(lambda p: (p.nodes.__setitem__(8, Node("end_ok", "task", "Không kết thúc",
                                                                   lane="one_stop_desk", col=8)),
                                       p.nodes.__setitem__(10, Node("end_no", "task", "Không kết thúc",
                                                                    lane="one_stop_desk", col=6)))),
    "unreachable_step": variant(lambda p: p.nodes.append(Node("island", "user", "Đảo", lane="one_stop_desk", col=9,
                                                              props={"sla": "P1D"}))),
    "unknown_role": variant(lambda p: setattr(node(p, "sign"), "lane", "district_people_committee")),
    "timer_absurd_duration": variant(lambda p: (
        p.nodes.append(Node("late", "boundary", "Quá hạn", lane="commune_land_officer", col=2,
                            attrs={"attachedToRef": "verify"}, extra_xml=timer_xml("P99999D"))),
        p.flows.append(Flow("f11", "late", "notify")))),
    "timer_cycle_forever": variant(lambda p: (
        p.nodes.append(Node("tick", "boundary", "Mỗi giây", lane="commune_land_officer", col=2,
                            attrs={"attachedToRef": "verify", "cancelActivity": "false"},
                            extra_xml="<bpmn:timerEventDefinition><bpmn:timeCycle>R/PT1S</bpmn:timeCycle>"
                                      "</bpmn:timerEventDefinition>")),
        p.flows.append(Flow("f11", "tick", "notify")))),
    "step_sla_absurd": variant(lambda p: node(p, "verify").props.update(sla="P99999999D")),
    "multi_instance_billion": ext("verify", "<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>10**9"
                                            "</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>"),
    "standard_loop_forever": ext("verify", "<bpmn:standardLoopCharacteristics><bpmn:loopCondition>True"
                                           "</bpmn:loopCondition></bpmn:standardLoopCharacteristics>"),
    "message_wait_forever": variant(lambda p: between(p, "receive", "verify", Node(
        "wait", "catch", "Chờ tin nhắn", lane="one_stop_desk", col=1, extra_xml="<bpmn:messageEventDefinition />"))),
    "service_task_call": variant(lambda p: between(p, "receive", "verify", Node(
        "svc", "service", "Gọi hệ thống ngoài", lane="one_stop_desk", col=1))),
    # -- text where landflow shows it (names are drawn on every dossier page) -------------------------------
    "step_name_huge": variant(lambda p: setattr(node(p, "verify"), "name", "Kiểm tra hiện trạng " * 40)),
    "documentation_huge": ext("verify", "<bpmn:documentation>" + "Hướng dẫn " * 2_500 + "</bpmn:documentation>"),
    "property_value_huge": variant(lambda p: node(p, "verify").props.update(legal_basis="Điều 1 " * 800)),
    "dmn_input_entry_marks": variant(with_decision),
    "process_key_injection": variant(lambda p: setattr(p, "key", "small'; DROP TABLE dossier; --")),
    "not_executable": variant(lambda p: setattr(p, "executable", False)),
}

DMN: dict[str, bytes] = {
    "dmn_input_entry_import": dmn(input_entry=TOUCH),
    "dmn_output_entry_open": dmn(output_entry=f"open('{CANARY}', 'w')"),
    "dmn_input_expression_lambda": dmn(input_expression="(lambda: __builtins__)()"),
    # SpiffWorkflow rewrites each '?' of an entry with a look-ahead to the end of the text: quadratic
    "dmn_input_entry_marks": dmn(input_entry='"' + "?" * 400 + '"'),
}


def main() -> None:
    for old in HERE.glob("*.bpmn"):
        old.unlink()
    for old in HERE.glob("*.dmn"):
        old.unlink()
    for name, data in CORPUS.items():
        (HERE / f"{name}.bpmn").write_bytes(data)
    for name, data in DMN.items():
        (HERE / f"{name}.dmn").write_bytes(data)
    print(f"{len(CORPUS)} BPMN and {len(DMN)} DMN files in {HERE}")


if __name__ == "__main__":
    main()
