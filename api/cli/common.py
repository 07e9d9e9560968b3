"""Shared pieces of the `landflow` commands: building the engine, printing problems."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from config.settings import ROOT, Settings
from engine.bootstrap import Landflow, build

console = Console()
WORKFLOWS = ROOT / "workflows"


def landflow() -> Landflow:
    """The engine built from the environment (see README, Settings)."""
    return build(Settings.from_env())


def print_problems(name: str, problems: list[Any]) -> None:
    table = Table(title=f"{name}: {len(problems)} problem(s)")
    for col in ("element", "rule", "message"):
        table.add_column(col)
    for p in problems:
        table.add_row(p.element, p.rule, p.message)
    console.print(table)
