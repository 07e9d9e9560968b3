"""Shared bench plumbing: result files, machine description, the land_transfer happy path."""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"

# The land_transfer happy path: (step, form data) in order.
LAND_TRANSFER_PATH: list[tuple[str, dict[str, Any]]] = [
    ("receive", {"decision": "accept", "kind": "transfer"}),
    ("check_rights", {"eligible": True}),
    ("send_form19", {}),
    ("tax_assess", {"obligation_amount": 12_500_000}),
    ("tax_payment", {"payment_date": "2026-03-02"}),
    ("update_register", {}),
    ("return_result", {}),
]


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, {cpu}, "
            f"Python {platform.python_version()}")


def write_result(name: str, ratio: float, target: float, figures: dict[str, Any], higher_is_better: bool = True
                 ) -> dict[str, Any]:
    RESULTS.mkdir(parents=True, exist_ok=True)
    result = {"bench": name, "ratio": round(ratio, 4), "target": target,
              "met": ratio >= target if higher_is_better else ratio <= target,
              "figures": figures, "machine": machine(),
              "when": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return result


CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.process_time}
CLOCK = ["wall"]  # `--cpu`: this process's CPU time, for a machine other work keeps busy


@contextmanager
def timer() -> Iterator[Callable[[], float]]:
    now = CLOCKS[CLOCK[0]]
    start = now()
    end: list[float] = []
    yield lambda: (end[0] if end else now()) - start
    end.append(now())
