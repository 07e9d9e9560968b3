"""`landflow bench NAME`: run a benchmark from bench/ and print its ratio."""

from __future__ import annotations

import importlib

import click

# bench name -> module of bench/ (`http` would shadow the standard library's package)
MODULES = {"engine": "engine", "storage": "storage", "http": "http_api", "scale": "scale", "verify": "verify"}
NAMES = tuple(MODULES)


@click.command("bench", context_settings={"ignore_unknown_options": True})
@click.argument("name", type=click.Choice(NAMES))
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def bench_cmd(name: str, args: tuple[str, ...]) -> None:
    """Run bench/NAME.py; results also go to bench/results/NAME.json."""
    module = importlib.import_module(f"bench.{MODULES[name]}")
    module.main(list(args))


COMMANDS = [bench_cmd]
