"""The hostile corpus (tests/data/hostile/, made by its generate.py; 50 MB files made here): every file
is refused with a problem list — over HTTP by a real server (deploy and validate) and by `landflow
lint` — none is deployed, no code runs (the canary file the payloads aim at never appears), and the
server keeps answering /health while it is fed the corpus from several threads at once.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from api.cli import main as landflow_main
from config.settings import ROOT
from engine.store import AuditEntryRow, ProcedureVersionRow
from tests.data.hostile.generate import CANARY
from tests.support.bpmn_builder import small_procedure
from tests.support.figures import Figures
from tests.support.live_server import Http, post_oversized

from .conftest import DemoDatabase, scale
from .land import is_problem

HOSTILE = ROOT / "tests" / "data" / "hostile"
# file -> the rule that must be among its problems (the reason it is hostile, not an accident)
EXPECTED = {
    "xxe_local_file": "xml.doctype", "xxe_network": "xml.doctype", "xxe_parameter_entity": "xml.doctype",
    "billion_laughs": "xml.doctype", "quadratic_blowup": "xml.doctype", "doctype_after_comment": "xml.doctype",
    "utf16_hidden_doctype": "xml.encoding", "xinclude": "xml.xinclude", "deep_nesting": "xml.syntax",
    "not_xml": "xml.encoding", "empty": "xml.syntax", "truncated": "xml.syntax",
    "condition_import": "condition.unsafe", "condition_dunder_subclasses": "condition.unsafe",
    "condition_builtins_open": "condition.unsafe", "condition_eval": "condition.unsafe",
    "condition_lambda": "condition.unsafe", "condition_fstring": "condition.unsafe",
    "condition_walrus": "condition.unsafe", "condition_comprehension_loop": "condition.unsafe",
    "condition_huge_power": "condition.unsafe", "condition_huge_literal": "condition.unsafe",
    "condition_memory_bomb": "condition.unsafe", "condition_huge_repeat": "condition.unsafe",
    "condition_str_bomb": "condition.unsafe", "step_name_huge": "element.name", "documentation_huge": "element.text",
    "property_value_huge": "element.text", "dmn_input_entry_marks": "dmn.input",
    "script_import": "script.unsafe", "script_while_true": "script.unsafe", "script_recursion": "script.unsafe",
    "script_builtins_exec": "script.unsafe", "script_attribute_escape": "script.unsafe",
    "script_try_raise": "script.unsafe", "script_huge_list": "script.unsafe", "prescript_import": "script.unsafe",
    "postscript_open": "script.unsafe", "refusal_condition_dunder": "step.refusal",
    "dmn_input_entry_import": "dmn.input", "dmn_output_entry_open": "dmn.output",
    "dmn_input_expression_lambda": "dmn.input",
    "no_end_event": "flow.end", "unreachable_step": "flow.unreachable", "unknown_role": "step.role",
    "timer_absurd_duration": "timer.duration", "timer_cycle_forever": "timer.unsupported",
    "step_sla_absurd": "step.sla", "multi_instance_billion": "element.loop", "standard_loop_forever": "element.loop",
    "message_wait_forever": "message.ref", "service_task_call": "element.unsupported",
    "process_key_injection": "process.id", "not_executable": "process.executable",
}
UPLOAD_BOX = 10.0  # seconds any one upload may take, hostile or not
FIFTY_MB = 50 * 1024 * 1024


def corpus() -> list[tuple[str, bytes, list[bytes]]]:
    return [(f.stem, f.read_bytes(), [d.read_bytes() for d in sorted(HOSTILE.glob(f"{f.stem}*.dmn"))])
            for f in sorted(HOSTILE.glob("*.bpmn"))]


@pytest.fixture(autouse=True)
def no_canary() -> Any:
    Path(CANARY).unlink(missing_ok=True)
    yield
    assert not Path(CANARY).exists(), "a hostile payload ran code"


def rules_of(problems: list[dict[str, str]]) -> set[str]:
    return {p["rule"] for p in problems}


def test_the_corpus_is_what_the_tests_expect() -> None:
    names = [name for name, _bpmn, _dmns in corpus()]
    assert len(names) >= 30 and set(names) == set(EXPECTED)
    from engine.definitions.lint import lint
    from tests.support.org import small_organisation

    roles = {r.code for r in small_organisation().roles.values() if r.owns_steps}
    assert lint(small_procedure().to_xml(), [], roles).ok  # the files are this, plus one hostile change


def test_landflow_lint_refuses_every_file(tmp_path: Path, figures: Figures) -> None:
    runner = CliRunner()
    huge = tmp_path / "huge_50mb.bpmn"
    huge.write_bytes(small_procedure().to_xml().replace(b"</bpmn:definitions>", b"<!--" + b"x" * FIFTY_MB +
                                                        b"--></bpmn:definitions>"))
    files = [*sorted(HOSTILE.glob("*.bpmn")), huge]
    for path in files:
        start = time.monotonic()
        result = runner.invoke(landflow_main, ["lint", str(path), "--json"])
        assert time.monotonic() - start < UPLOAD_BOX, path.name
        assert result.exit_code == 1, (path.name, result.output[-500:])
        report = json.loads(result.output)
        assert report["ok"] is False and report["problems"]
        expected = EXPECTED.get(path.stem, "xml.size")
        assert expected in rules_of(report["problems"]), (path.name, report["problems"])
        assert all(p["message"] for p in report["problems"])
    figures.add("hostile", len(files))
    # and the real entry point, in its own process, on the worst of them
    for name in ("condition_import", "script_while_true", "billion_laughs"):
        proc = subprocess.run([sys.executable, "-m", "api.cli", "lint", str(HOSTILE / f"{name}.bpmn")], cwd=ROOT,
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 1 and EXPECTED[name] in proc.stdout, proc.stdout[-800:]
    figures.add("hostile", 3)


def multipart(bpmn: bytes, dmns: list[bytes]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [(b"file", b"procedure.bpmn", bpmn)] + [(b"dmn", f"d{i}.dmn".encode(), d) for i, d in enumerate(dmns)]
    body = b"".join(b"--" + boundary.encode() + b"\r\nContent-Disposition: form-data; name=\"" + field +
                    b"\"; filename=\"" + filename + b"\"\r\nContent-Type: application/xml\r\n\r\n" + data + b"\r\n"
                    for field, filename, data in parts)
    return body + b"--" + boundary.encode() + b"--\r\n", f"multipart/form-data; boundary={boundary}"


def test_hostile_uploads_over_http(demo_db: DemoDatabase, start_server: Any, figures: Figures) -> None:
    server = start_server(workers=2, threads=4)
    http = Http(server.base, timeout=UPLOAD_BOX * 3)
    supervisor = http.sign_in("supervisor")
    lf = demo_db.engine()

    def count(model: Any, *where: Any) -> int:
        with lf.db.read() as s:
            return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    versions_before = count(ProcedureVersionRow)
    refused_before = count(AuditEntryRow, AuditEntryRow.type == "deploy_refused")

    pings: list[tuple[int, float]] = []
    stop = threading.Event()

    def ping() -> None:
        client = Http(server.base, timeout=UPLOAD_BOX)
        while not stop.is_set():
            try:
                reply = client.get("/api/v1/health")
                pings.append((reply.status, reply.elapsed))
            except OSError:
                pings.append((0, UPLOAD_BOX))
            time.sleep(0.05)

    pinger = threading.Thread(target=ping, daemon=True)
    pinger.start()
    files = corpus()
    failures: list[str] = []
    rounds = 1 + scale(1, 5)
    uploads = 2 * len(files) * rounds

    def upload(entry: tuple[str, bytes, list[bytes]]) -> None:
        name, bpmn, dmns = entry
        body, ctype = multipart(bpmn, dmns) if dmns else (bpmn, "application/xml")
        for path in ("/api/v1/procedures", "/api/v1/procedures/validate"):
            reply = http.post(path, token=supervisor, data=body, content_type=ctype)
            if reply.elapsed > UPLOAD_BOX:
                failures.append(f"{name} {path}: {reply.elapsed:.1f}s")
            if path.endswith("validate"):
                ok = reply.status == 200 and reply.json["ok"] is False and EXPECTED[name] in rules_of(
                    reply.json["problems"])
            else:
                ok = reply.status == 422 and is_problem(reply) and reply.json["code"] == "invalid_procedure" \
                    and EXPECTED[name] in rules_of(reply.json["problems"])
            if not ok:
                failures.append(f"{name} {path}: {reply.status} {reply.body[:300]!r}")

    try:
        for entry in files:  # one by one, then all at once from four threads
            upload(entry)
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(upload, files * (rounds - 1)))
        # 50 MB: refused from the Content-Length header with 413, long before the body could be read
        big = []
        for path in ("/api/v1/procedures", "/api/v1/procedures/validate"):
            reply = post_oversized(server.base, path, FIFTY_MB, {"Authorization": f"Bearer {supervisor}",
                                                                 "Content-Type": "application/xml"})
            big.append(reply)
            assert reply.status == 413 and reply.mimetype == "application/problem+json", (reply.status, reply.body)
            assert json.loads(reply.body)["status"] == 413
            assert reply.elapsed < UPLOAD_BOX and reply.sent < FIFTY_MB // 2, (reply.elapsed, reply.sent)
        # and a bad token with a 50 MB body is a 401 first: nothing is read for an anonymous caller
        anon = post_oversized(server.base, "/api/v1/procedures", FIFTY_MB, {"Content-Type": "application/xml"})
        assert anon.status == 401, anon.status
    finally:
        stop.set()
        pinger.join(timeout=30)
    assert not failures, failures[:10]
    figures.add("hostile", uploads + 3)
    figures.add("operations", uploads + 3 + len(pings))
    # the server stayed responsive throughout
    # (how many pings fit in depends on the machine's load; that some did, each answered, is the point)
    assert len(pings) >= 5 and all(status == 200 for status, _ in pings), [p for p in pings if p[0] != 200][:5]
    assert max(elapsed for _, elapsed in pings) < 5.0
    assert http.get("/api/v1/health").status == 200
    # nothing was deployed; every refused deploy is in the audit log
    try:
        assert count(ProcedureVersionRow) == versions_before
        assert count(AuditEntryRow, AuditEntryRow.type == "deploy_refused") - refused_before == len(files) * rounds
        listed = http.get("/api/v1/procedures", token=supervisor).json
        assert "small_test" not in {p["key"] for p in listed}
    finally:
        lf.close()
    assert "unhandled error" not in server.tail(1_000_000)
