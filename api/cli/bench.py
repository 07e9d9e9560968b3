"""`landflow bench NAME`: run a benchmark from bench/ and print its ratio."""

from __future__ import annotations

import importlib

import click

NAMES = ("engine", "storage")


@click.command("bench")
@click.argument("name", type=click.Choice(NAMES))
@click.argument("args", nargs=-1)
def bench_cmd(name: str, args: tuple[str, ...]) -> None:
    """Run bench/NAME.py; results also go to bench/results/NAME.json."""
    module = importlib.import_module(f"bench.{name}")
    module.main(list(args))


COMMANDS = [bench_cmd]
