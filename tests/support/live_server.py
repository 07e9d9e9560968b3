"""A real landflow server in a subprocess (`landflow serve`: gunicorn, gthread workers), and a small
HTTP client for it built on http.client (one keep-alive connection per thread).

The reliability tests kill this server with SIGKILL, stop its database, and flood it with requests;
they need a process boundary the Flask test client does not have.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.client import HTTPConnection, HTTPException
from pathlib import Path
from typing import Any

from config.settings import ROOT

PROBLEM = "application/problem+json"
IDLE_REUSE = 1.0  # seconds a keep-alive connection is reused after its last answer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(database_url: str, var_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LANDFLOW_")}
    env.update(LANDFLOW_DATABASE_URL=database_url, LANDFLOW_VAR_DIR=str(var_dir), LANDFLOW_DEMO="1",
               LANDFLOW_CHECKPOINT_MINUTES="0", PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


class LiveServer:
    """`landflow serve` on 127.0.0.1 in its own process group (so SIGKILL takes master and workers)."""

    def __init__(self, env: Mapping[str, str], log: Path, workers: int = 1, threads: int = 8,
                 scheduler: bool = False):
        self.env = dict(env)
        self.scheduler = scheduler  # `serve`'s own scheduler child (same process group: a kill takes it too)
        self.log = log
        self.workers, self.threads = workers, threads
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> None:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port),
                 "--workers", str(self.workers), "--threads", str(self.threads),
                 "--scheduler" if self.scheduler else "--no-scheduler"],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.starts += 1
        client = Http(self.base, timeout=2)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; log: {self.tail()}")
            try:
                if client.get("/api/v1/health").status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not answer /health within {timeout}s; log: {self.tail()}")

    def kill(self) -> None:
        """SIGKILL the whole process group: master and workers die mid-request, as in a power cut."""
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()
        except ProcessLookupError:
            pass

    def tail(self, n: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-n:]
        except OSError:
            return ""


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    elapsed: float = 0.0
    sent: int = 0  # bytes of the request body actually sent (post_oversized)
    _json: Any = field(default=None, repr=False)

    @property
    def mimetype(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip()

    @property
    def json(self) -> Any:
        if self._json is None and self.body:
            self._json = json.loads(self.body)
        return self._json


class Http:
    """A thread-safe client: each thread keeps its own keep-alive connection, reopened after errors.

    Connection failures raise OSError (or http.client.HTTPException, re-raised as ConnectionError): for the
    caller that is an unknown outcome, never an acknowledgement.
    """

    def __init__(self, base: str, timeout: float = 60):
        host, _, port = base.removeprefix("http://").partition(":")
        self.host, self.port, self.timeout = host, int(port), timeout
        self._local = threading.local()

    def _conn(self) -> HTTPConnection:
        """This thread's connection; a fresh one when it sat idle longer than the server keeps it (gunicorn
        closes idle keep-alive connections after 2 s, and a request sent into that close is lost)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and time.monotonic() - getattr(self._local, "used", 0.0) > IDLE_REUSE:
            conn.close()
            conn = None
        if conn is None:
            conn = HTTPConnection(self.host, self.port, timeout=self.timeout)
            self._local.conn = conn
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def request(self, method: str, path: str, *, json_body: Any = None, data: bytes | None = None,
                token: str | None = None, headers: Mapping[str, str] | None = None,
                content_type: str | None = None) -> Reply:
        hdrs = dict(headers or {})
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        if json_body is not None:
            data = json.dumps(json_body).encode()
            content_type = content_type or "application/json"
        if content_type:
            hdrs["Content-Type"] = content_type
        start = time.monotonic()
        conn = self._conn()
        try:
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            body = resp.read()
        except (OSError, HTTPException) as err:
            self.close()
            if isinstance(err, OSError):
                raise
            raise ConnectionError(f"{type(err).__name__}: {err}") from err
        self._local.used = time.monotonic()
        reply = Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, body, time.monotonic() - start)
        if reply.headers.get("connection", "").lower() == "close":
            self.close()
        return reply

    def get(self, path: str, **kw: Any) -> Reply:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Reply:
        return self.request("POST", path, **kw)

    def sign_in(self, username: str, password: str = "demo") -> str:
        reply = self.post("/api/v1/auth/token", json_body={"username": username, "password": password})
        assert reply.status == 200, (reply.status, reply.body[:300])
        return str(reply.json["token"])


def post_oversized(base: str, path: str, size: int, headers: Mapping[str, str], timeout: float = 20) -> Reply:
    """POST a body of `size` bytes announced by Content-Length, streamed in 1 MB chunks; stop sending as
    soon as the server answers or closes (a server that refuses from the header alone never reads it)."""
    host, _, port = base.removeprefix("http://").partition(":")
    start = time.monotonic()
    head = f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {size}\r\nConnection: close\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    received = b""
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(head.encode())
        chunk = b" " * 1_000_000
        sent = 0
        sock.setblocking(False)
        try:
            while sent < size:
                try:
                    received += sock.recv(65536)
                    break  # the server answered before the body was sent
                except BlockingIOError:
                    pass
                try:
                    sent += sock.send(chunk[: min(len(chunk), size - sent)])
                except BlockingIOError:
                    time.sleep(0.01)
                if time.monotonic() - start > timeout:
                    raise TimeoutError("the server neither read the body nor answered")
        except (BrokenPipeError, ConnectionResetError):
            pass
        sock.setblocking(True)
        sock.settimeout(timeout)
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                received += data
        except (ConnectionResetError, TimeoutError):
            pass
    head_bytes, _, body = received.partition(b"\r\n\r\n")
    lines = head_bytes.decode("iso-8859-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines and lines[0].startswith("HTTP/") else 0
    hdrs = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return Reply(status, hdrs, body, time.monotonic() - start, sent)
