"""Slow clients (issue 13, point 7) against a real `landflow serve`, as `make run` starts it (one worker
on SQLite, the default 4 threads), and against nginx in front of it (deploy/nginx/landflow.conf).

A slowloris client sends its request head a few bytes at a time and never finishes; a slow body sends
its announced body the same way. Before api/cli/worker.py, 8 such connections took every thread of
gunicorn's gthread worker and /api/v1/health stopped answering. Also here: a URL too long for gunicorn's
request line is a 414 problem+json, not gunicorn's HTML page.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from api.cli.server import serve
from api.cli.worker import BODY_BUFFER, request_ready
from config.settings import ROOT
from tests.support.figures import Figures
from tests.support.live_server import Http, LiveServer, free_port

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the server's I/O, not the db
SLOW = 8  # the review's figure
PROBLEM = "application/problem+json"


class Slowloris:
    """`n` connections sending a request head (or a small body) one byte every `every` seconds."""

    def __init__(self, host: str, port: int, n: int, every: float = 0.5, body: bool = False):
        self.host, self.port, self.n, self.every, self.body = host, port, n, every, body
        self.stop = threading.Event()
        self.socks: list[socket.socket] = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Slowloris:
        for _ in range(self.n):
            s = socket.create_connection((self.host, self.port), timeout=5)
            if self.body:  # a complete head, then the announced body byte by byte
                s.sendall(b"POST /api/v1/auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          b"Content-Length: 4000\r\n\r\n{")
            else:
                s.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n")
            self.socks.append(s)
        self.thread.start()
        time.sleep(1.0)  # every connection has reached the server and sent something
        return self

    def _run(self) -> None:
        while not self.stop.wait(self.every):
            for s in self.socks:
                with contextlib.suppress(OSError):
                    s.send(b" " if self.body else b"X")

    def __exit__(self, *_exc: Any) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        for s in self.socks:
            s.close()


def answered_quickly(base: str, tries: int = 5, within: float = 2.0) -> list[float]:
    """GET /api/v1/health on fresh connections; every answer a 200 within `within` seconds."""
    times = []
    for _ in range(tries):
        reply = Http(base, timeout=within + 3).get("/api/v1/health")
        assert reply.status == 200, reply.body[:200]
        assert reply.elapsed < within, f"health took {reply.elapsed:.2f}s"
        times.append(reply.elapsed)
    return times


def test_serve_defaults_are_what_make_run_uses() -> None:
    """The server below is started with `serve`'s own defaults on SQLite: 1 worker, 4 threads."""
    threads = next(p for p in serve.params if p.name == "threads")
    assert threads.default == 4
    assert "landflow serve --host 127.0.0.1 --port 8080" in (ROOT / "Makefile").read_text()


@SQLITE_ONLY
def test_make_run_server_answers_beside_slow_clients(start_server: Callable[..., LiveServer],
                                                     figures: Figures) -> None:
    server = start_server(workers=1, threads=4)
    with Slowloris("127.0.0.1", server.port, SLOW), Slowloris("127.0.0.1", server.port, SLOW, body=True):
        times = answered_quickly(server.base)
        # and a real request with a body, still
        reply = Http(server.base, timeout=5).post("/api/v1/auth/token", json_body={"username": "auditor",
                                                                                   "password": "demo"})
        assert reply.status == 200 and reply.elapsed < 2.0
    assert max(times) < 2.0
    figures.add("hostile", 2 * SLOW)


@SQLITE_ONLY
def test_a_request_line_or_header_over_the_limits_is_a_problem(start_server: Callable[..., LiveServer],
                                                                   figures: Figures) -> None:
    server = start_server(workers=1, threads=4)
    http = Http(server.base, timeout=10)
    for length in (9_000, 20_000, 100_000):  # the app's limit (8000), gunicorn's (8190), far beyond
        reply = http.get("/api/v1/dossiers?code=" + "x" * length)
        assert reply.status == 414 and reply.mimetype == PROBLEM, (reply.status, reply.headers, reply.body[:200])
        assert reply.json["status"] == 414
        http.close()
    for headers in ({"X-Big": "y" * 9000}, {f"X-{n}": "y" for n in range(120)}):  # over gunicorn's field limits
        reply = http.get("/api/v1/health", headers=headers)
        assert reply.status == 431 and reply.mimetype == PROBLEM, (reply.status, reply.headers, reply.body[:200])
        http.close()
    assert http.get("/api/v1/health").status == 200
    figures.add("hostile", 5)


def test_a_request_gets_a_thread_only_once_it_has_arrived() -> None:
    head = b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n"
    assert request_ready(head, 8190) is None
    assert request_ready(head + b"\r\n", 8190) == "ready"
    post = b"POST /x HTTP/1.1\r\nContent-Length: 10\r\n\r\n"
    assert request_ready(post + b"12345", 8190) is None
    assert request_ready(post + b"1234567890", 8190) == "ready"
    big = f"POST /x HTTP/1.1\r\nContent-Length: {BODY_BUFFER + 1}\r\n\r\n".encode()
    assert request_ready(big, 8190) == "ready"  # large bodies are read by the thread
    assert request_ready(b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 8190) == "ready"
    assert request_ready(b"GET /" + b"x" * 9000, 8190) == "too_long"
    assert request_ready(b"GET /" + b"x" * 9000 + b" HTTP/1.1\r\n\r\n", 8190) == "too_long"
    assert request_ready(head + b"X-Big: " + b"y" * 9000 + b"\r\n\r\n", 8190) == "too_large"
    assert request_ready(head + b"X-A: 1\r\n" * 101 + b"\r\n", 8190) == "too_large"
    assert request_ready(head + b"X-A: 1\r\n" * 98 + b"\r\n", 8190) == "ready"


# -- nginx in front (the documented production deployment) -------------------------------------------

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@pytest.fixture
def nginx(start_server: Callable[..., LiveServer], tmp_path: Path) -> Iterator[tuple[str, LiveServer]]:
    """deploy/nginx/landflow.conf's server block in front of `landflow serve`, nginx in the foreground.
    `make test` installs Debian's nginx where it is missing (scripts/test-tools.sh)."""
    assert Path(NGINX).exists(), "nginx is missing: run `make test` (scripts/test-tools.sh installs it)"
    server = start_server(workers=1, threads=4)
    port = free_port()
    site = (ROOT / "deploy/nginx/landflow.conf").read_text()
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port};").replace("127.0.0.1:8080", f"127.0.0.1:{server.port}")
    assert f"127.0.0.1:{server.port}" in site and f"listen 127.0.0.1:{port};" in site
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"""daemon off;
master_process on;
worker_processes 1;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {tmp_path}/body;
  proxy_temp_path {tmp_path}/proxy;
  fastcgi_temp_path {tmp_path}/fastcgi;
  uwsgi_temp_path {tmp_path}/uwsgi;
  scgi_temp_path {tmp_path}/scgi;
{site}
}}
""")
    proc = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(tmp_path)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            if Http(base, timeout=2).get("/api/v1/health").status == 200:
                break
        except OSError:
            pass
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "nginx exited"
        assert time.monotonic() < deadline, "nginx did not answer"
        time.sleep(0.1)
    try:
        yield base, server
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@SQLITE_ONLY
def test_nginx_in_front_withstands_many_slow_clients(nginx: tuple[str, LiveServer], figures: Figures) -> None:
    base, _server = nginx
    port = int(base.rsplit(":", 1)[1])
    many = 4 * SLOW
    with Slowloris("127.0.0.1", port, many), Slowloris("127.0.0.1", port, many, body=True):
        times = answered_quickly(base)
    assert max(times) < 2.0
    for length in (9_000, 20_000):  # landflow's 414, then nginx's own (over its 16 KB buffers)
        reply = Http(base, timeout=10).get("/api/v1/dossiers?code=" + "x" * length)
        assert reply.status == 414 and reply.mimetype == PROBLEM, (reply.status, reply.body[:200])
        assert reply.json["status"] == 414
    figures.add("hostile", 2 * many + 2)
