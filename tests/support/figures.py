"""Figures of the reliability suite (operations run, faults injected, hostile inputs tried, losses
found), summed over every test and xdist worker and printed at the end of the run.

README's "Reliability" section quotes these lines from `make test` and `make soak`. Each test
records what it actually did (counted while it ran, not planned numbers) through the `figures`
fixture; workers append JSON lines to one file named by the controller.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

ENV = "LANDFLOW_RELIABILITY_FIGURES"
KINDS = ("operations", "faults", "hostile", "refusals_checked", "losses")


class Figures:
    def __init__(self, path: Path | None, test: str):
        self.path, self.test = path, test
        self.counts: Counter[str] = Counter()

    def add(self, kind: str, n: int = 1) -> None:
        assert kind in KINDS, kind
        self.counts[kind] += n

    def flush(self) -> None:
        if self.path is None or not self.counts:
            return
        line = json.dumps({"test": self.test, **self.counts}) + "\n"
        with self.path.open("a", encoding="utf-8") as f:  # one short append per test: atomic enough
            f.write(line)


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or os.environ.get(ENV):
        return
    fd, name = tempfile.mkstemp(prefix="landflow-figures-", suffix=".jsonl")
    os.close(fd)
    os.environ[ENV] = name  # xdist workers start after this and inherit it
    config._landflow_figures = name  # type: ignore[attr-defined]


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Iterator[Figures]:
    path = os.environ.get(ENV)
    fig = Figures(Path(path) if path else None, request.node.nodeid)
    yield fig
    fig.flush()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    name = getattr(config, "_landflow_figures", None)
    if not name:
        return
    path = Path(name)
    try:
        lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    finally:
        path.unlink(missing_ok=True)
    if not lines:
        return
    total: Counter[str] = Counter()
    for line in lines:
        total.update({k: v for k, v in line.items() if k in KINDS})
    soak = " (soak)" if os.environ.get("LANDFLOW_SOAK") == "1" else ""
    terminalreporter.write_sep("-", f"reliability figures{soak}")
    terminalreporter.write_line(
        f"{len(lines)} test(s): {total['operations']} operations run, {total['faults']} faults injected, "
        f"{total['hostile']} hostile inputs tried, {total['refusals_checked']} refusals checked, "
        f"{total['losses']} losses found")
