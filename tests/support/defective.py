"""Procedures that deploy (they pass every check) but carry a defect met only at run time: the makings
of procedure incidents (engine/runtime/incidents.py)."""

from __future__ import annotations

from .bpmn_builder import Flow, Node, Procedure

STEP = {"sla": "P1D", "result": "Phiếu", "legal_basis": "Luật Đất đai 2024"}
WHOLE = {"sla": "P5D", "legal_basis": "Luật Đất đai 2024"}
DESK = "one_stop_desk"


def _node(id_: str, kind: str, col: int, name: str = "", **kw: object) -> Node:
    return Node(id_, kind, name or id_, lane=DESK, col=col, **kw)  # type: ignore[arg-type]


def deadlock() -> Procedure:
    """receive (fast?) -> exclusive split -> a | b -> PARALLEL join -> after -> end: the join waits for ever."""
    nodes = [_node("start", "start", 0), _node("receive", "user", 1, props={**STEP, "form": "fast:bool!"}),
             _node("split", "xor", 2), _node("a", "user", 3, props=STEP), _node("b", "user", 3, props=STEP),
             _node("join", "and", 4), _node("after", "user", 5, props=STEP), _node("end", "end", 6)]
    flows = [Flow("f1", "start", "receive"), Flow("f2", "receive", "split"),
             Flow("f3", "split", "a", condition="fast == True"), Flow("f4", "split", "b", condition="fast == False"),
             Flow("f5", "a", "join"), Flow("f6", "b", "join"), Flow("f7", "join", "after"), Flow("f8", "after", "end")]
    return Procedure("deadlock_test", "Thủ tục có chỗ tắc", nodes, flows, props=WHOLE)


def missing_key() -> Procedure:
    """The gateway reads `note`, an optional field: left empty, the name is missing at run time."""
    nodes = [_node("start", "start", 0), _node("receive", "user", 1, props={**STEP, "form": "note:text"}),
             _node("gw", "xor", 2), _node("a", "user", 3, props=STEP),
             # two ends, both with the result (docs/procedure-conventions.md: several ends say their outcome)
             _node("end", "end", 4, props={"outcome": "result"}), _node("end2", "end", 4, props={"outcome": "result"})]
    flows = [Flow("f1", "start", "receive"), Flow("f2", "receive", "gw"),
             Flow("f3", "gw", "a", condition="note == 'x'"), Flow("f4", "gw", "end2", condition="note != 'x'"),
             Flow("f5", "a", "end")]
    return Procedure("missing_key_test", "Thủ tục thiếu dữ liệu", nodes, flows, props=WHOLE)


def script_loop() -> Procedure:
    """A script and a gateway that send each other the dossier for ever."""
    nodes = [_node("start", "start", 0), _node("receive", "user", 1, props=STEP),
             _node("count", "script", 2, script="n = 1"), _node("gw", "xor", 3), _node("a", "user", 4, props=STEP),
             _node("end", "end", 5)]
    flows = [Flow("f1", "start", "receive"), Flow("f2", "receive", "count"), Flow("f3", "count", "gw"),
             Flow("f4", "gw", "count", condition="n == 1"), Flow("f5", "gw", "a", condition="n != 1"),
             Flow("f6", "a", "end")]
    return Procedure("script_loop_test", "Thủ tục vòng lặp tự động", nodes, flows, props=WHOLE)


def user_loop() -> Procedure:
    """A step that the officer may send round again and again (four scripts per round deepen the tree)."""
    nodes = [_node("start", "start", 0), _node("receive", "user", 1, props={**STEP, "form": "again:bool!"}),
             *[_node(f"s{i}", "script", 2 + i, script=f"k{i} = {i}") for i in range(4)],
             _node("gw", "xor", 6), _node("end", "end", 7)]
    flows = [Flow("f1", "start", "receive"), Flow("f2", "receive", "s0"),
             *[Flow(f"fs{i}", f"s{i}", f"s{i + 1}") for i in range(3)], Flow("f3", "s3", "gw"),
             Flow("f4", "gw", "receive", condition="again == True"),
             Flow("f5", "gw", "end", condition="again == False")]
    return Procedure("user_loop_test", "Thủ tục lặp bước", nodes, flows, props=WHOLE)


def big_data(copies: int = 40) -> Procedure:
    """A script whose values are each within the sandbox's limits (engine/expression_cost.py: 100,000
    characters a value), but which together serialise to megabytes (issue 13, point 2): the total is the
    workflow data cap's to refuse."""
    script = "s = 'a' * 10000\nbig = [s] * 9\n" + "\n".join(f"b{i} = big" for i in range(copies))
    nodes = [_node("start", "start", 0), _node("receive", "user", 1, props=STEP),
             _node("grow", "script", 2, script=script), _node("a", "user", 3, props=STEP), _node("end", "end", 4)]
    flows = [Flow("f1", "start", "receive"), Flow("f2", "receive", "grow"), Flow("f3", "grow", "a"),
             Flow("f4", "a", "end")]
    return Procedure("big_data_test", "Thủ tục dữ liệu lớn", nodes, flows, props=WHOLE)


def missing_key_at_start() -> Procedure:
    """The first gateway reads `note`, which no opening carries: the defect is met when the dossier opens."""
    proc = missing_key()
    proc.key = "missing_key_start"
    proc.flows = [Flow("f1", "start", "gw"), Flow("f3", "gw", "receive", condition="note == 'x'"),
                  Flow("f4", "gw", "end2", condition="note != 'x'"), Flow("f2", "receive", "a"), Flow("f5", "a", "end")]
    return proc
