"""`landflow serve`: the web pages and the HTTP API under gunicorn, with the scheduler.

Each worker builds its own engine after the fork (`create_app()` in `load`), so no database
connection crosses a fork. Defaults suit one machine: SQLite gets one worker with threads (SQLite
has one writer anyway); PostgreSQL gets 2 × cores + 1 workers. `--production` refuses the
combinations that must never face users: demo accounts, and the embedded SQLite database. The
deadline scheduler runs beside the server by default, as a child process (`--no-scheduler` when
`landflow scheduler` runs elsewhere; several schedulers on one PostgreSQL are safe: the sweep takes
an advisory lock).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
from gunicorn.app.base import BaseApplication
from rich.table import Table

from config.settings import Settings
from engine import accounts

from .common import console, landflow


class Server(BaseApplication):
    def __init__(self, options: dict[str, Any], scheduler: bool = False):
        self.options = options
        if scheduler:
            self.options["when_ready"] = start_scheduler_process
            self.options["on_exit"] = stop_scheduler_process
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from ..app import create_app

        return create_app()


def start_scheduler_process(server: Any) -> None:
    """Once gunicorn listens: `landflow scheduler` as a child process. Not a thread in the master:
    gunicorn forks workers from the master at any time, and a fork taken while a thread holds a lock
    (the import lock, logging's, a pool's) leaves the worker deadlocked."""
    server.landflow_scheduler = subprocess.Popen([sys.executable, "-m", "api.cli", "scheduler"])
    console.print(f"scheduler started (pid {server.landflow_scheduler.pid})")


def stop_scheduler_process(server: Any) -> None:
    proc = getattr(server, "landflow_scheduler", None)
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def metrics_folder(settings: Settings, port: int) -> Path:
    """prometheus-client's multiprocess folder for this server: every worker writes its counters there
    and a scrape sums them (api/metrics.py). Set before any worker imports prometheus-client; emptied at
    start, as the library requires (counters start again from zero with the server)."""
    folder = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or settings.var_dir / f"metrics-{port}")
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.db"):
        old.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    return folder


def print_demo_accounts() -> None:
    lf = landflow()
    try:
        demo = [a for a in accounts.list_accounts(lf.db) if a.demo and a.active]
    finally:
        lf.close()
    table = Table("username", "unit", "roles", title="demo accounts (password: demo)")
    for a in demo:
        table.add_row(a.username, a.unit, " ".join(a.roles))
    console.print(table)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="default: 1 on SQLite, 2×cores+1 else")
@click.option("--threads", type=click.IntRange(1, 64), default=4, show_default=True)
@click.option("--production", is_flag=True, help="refuse demo mode and SQLite")
@click.option("--scheduler/--no-scheduler", default=True, show_default=True,
              help="run the deadline sweep and checkpoints inside the server (else: `landflow scheduler`)")
def serve(host: str, port: int, workers: int | None, threads: int, production: bool, scheduler: bool) -> None:
    """Serve the pages and the API on http://HOST:PORT (API docs at /api/docs)."""
    settings = Settings.from_env()
    sqlite = settings.database_url.startswith("sqlite")
    if production and settings.demo:
        raise click.ClickException("--production with LANDFLOW_DEMO=1: demo accounts must not face users")
    if production and sqlite:
        raise click.ClickException("--production needs PostgreSQL (LANDFLOW_DATABASE_URL)")
    if settings.demo:
        print_demo_accounts()
    workers = workers or (1 if sqlite else 2 * (os.cpu_count() or 1) + 1)
    metrics_folder(settings, port)
    console.print(f"landflow on http://{host}:{port}/ (pages /, API /api/v1, docs /api/docs); {workers} worker(s)")
    # gthread that gives a thread only to a request that has arrived (slow clients: api/cli/worker.py);
    # request lines up to gunicorn's maximum, so that the app answers a too long URL (414 problem+json)
    Server({"bind": f"{host}:{port}", "workers": workers, "threads": threads,
            "worker_class": "api.cli.worker.BufferingThreadWorker", "limit_request_line": 8190,
            "accesslog": "-", "timeout": 60, "graceful_timeout": 10}, scheduler=scheduler).run()


COMMANDS = [serve]
