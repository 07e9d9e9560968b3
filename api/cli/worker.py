"""The gunicorn worker of `landflow serve`: gthread, but a connection gets a thread only once its request
has arrived.

gunicorn's gthread worker hands a connection to a thread as soon as its first byte arrives, and the thread
then blocks reading the rest of the request line and headers. Eight clients that send their headers a
byte every few seconds ("slowloris") held every thread of `make run`'s server, and nobody else was
answered. Here the worker's own event loop (the selector gthread already runs) reads each connection
without blocking until its head is complete, and its body too when that is small, and only then gives it
to a thread, with the bytes already read put back in front of gunicorn's parser. A slow client costs a
socket and a buffer, not a thread; one that has not sent its head within HEAD_TIMEOUT seconds is answered
408 and closed. A request line or header fields over gunicorn's limits are answered 414 or 431
problem+json here, where gunicorn would have answered an HTML page.

What this does not cover (docs/operations-slow-clients.md): thousands of slow connections (each worker
takes `worker_connections`, default 1000), slow bodies over BODY_BUFFER bytes (uploads of procedures, by
signed-in supervisors), and clients that read the answer slowly. A buffering reverse proxy (nginx, sample
in deploy/nginx/landflow.conf) in front covers those.
"""

from __future__ import annotations

import contextlib
import errno
import json
import re
import selectors
import socket
import time
from collections import deque
from functools import partial
from typing import Any

from gunicorn.workers.gthread import TConn, ThreadWorker

HEAD_TIMEOUT = 15.0  # seconds for a request's head (and a small body) to arrive
BODY_BUFFER = 1_048_576  # bodies up to this size are read before a thread is given; larger ones after the head
MAX_HEAD = 65_536  # a head larger than this is refused (431), whatever its fields
_LENGTH = re.compile(rb"^content-length[ \t]*:[ \t]*(\d{1,12})[ \t]*$", re.I | re.M)
_NO_WAIT = re.compile(rb"^(?:transfer-encoding|expect)[ \t]*:", re.I | re.M)


def _problem(status: int, reason: str, detail: str) -> bytes:
    body = json.dumps({"type": "about:blank", "title": reason, "status": status, "detail": detail}).encode()
    return (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/problem+json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body


class Arriving:
    """A connection whose request is still coming in, and what it sent so far."""

    __slots__ = ("conn", "data", "deadline")

    def __init__(self, conn: TConn, deadline: float):
        self.conn, self.data, self.deadline = conn, bytearray(), deadline


def request_ready(data: bytes | bytearray, limit_line: int, limit_field: int = 8190,
                  limit_fields: int = 100) -> str | None:
    """"ready" when the head (and a body up to BODY_BUFFER) is complete, "too_long" when the request line
    is over `limit_line`, "too_large" when a header field or their number is over its limit (gunicorn's
    settings), None while more must come."""
    line_end = data.find(b"\n")
    if (line_end < 0 and len(data) > limit_line + 2) or line_end > limit_line + 2:
        return "too_long"
    end = data.find(b"\r\n\r\n")
    size = 4
    if end < 0:
        end, size = data.find(b"\n\n"), 2
    if end < 0:
        return "too_large" if len(data) > MAX_HEAD else None
    head = bytes(data[:end])
    fields = head.split(b"\n")[1:]
    if len(fields) > limit_fields or any(len(f) > limit_field + 1 for f in fields):
        return "too_large"
    if _NO_WAIT.search(head):  # chunked bodies and 100-continue: gunicorn's parser takes them from here
        return "ready"
    m = _LENGTH.search(head)
    length = int(m[1]) if m else 0
    if length > BODY_BUFFER or len(data) >= end + size + length:
        return "ready"
    return None


class BufferingThreadWorker(ThreadWorker):
    """gthread whose threads are given only to requests that have arrived (see the module's docstring)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.arriving: deque[Arriving] = deque()  # in deadline order: every wait is HEAD_TIMEOUT long

    def _own_path(self) -> bool:
        """TLS bytes cannot be read ahead of the handshake, nor an HTTP/2 preface ahead of gunicorn's
        sniffing: with either configured, gthread's own path (landflow configures neither)."""
        return bool(self.cfg.is_ssl) or getattr(self.cfg, "http2_cleartext", None) in ("prior-knowledge", "both")

    def accept(self, listener: socket.socket) -> None:
        if self._own_path():
            super().accept(listener)
            return
        try:
            client_sock, client_addr = listener.accept()
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        self._gather(TConn(self.cfg, client_sock, client_addr, listener.getsockname()))  # non-blocking

    def on_client_socket_readable(self, conn: TConn, client: socket.socket) -> None:
        """A kept-alive connection sends its next request: gather it too, not in a thread."""
        if self._own_path():
            super().on_client_socket_readable(conn, client)
            return
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._gather(conn)

    def _gather(self, conn: TConn) -> None:
        conn.sock.setblocking(False)
        waiting = Arriving(conn, time.monotonic() + HEAD_TIMEOUT)
        self.arriving.append(waiting)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_data, waiting))

    def _on_data(self, waiting: Arriving, _sock: socket.socket) -> None:
        conn = waiting.conn
        try:
            chunk = conn.sock.recv(65_536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if not chunk:  # the client went away
            self._drop(waiting)
            return
        waiting.data += chunk
        cfg = self.cfg
        state = request_ready(waiting.data, cfg.limit_request_line or 8190, cfg.limit_request_field_size or 8190,
                              cfg.limit_request_fields or 100)
        if state is None:
            return
        if state == "too_long":
            self._answer(waiting, _problem(414, "URI Too Long", "the request line is longer than "
                                                                 f"{cfg.limit_request_line} bytes"))
            return
        if state == "too_large":
            self._answer(waiting, _problem(431, "Request Header Fields Too Large",
                                           f"a header field is longer than {cfg.limit_request_field_size} bytes, "
                                           f"or there are more than {cfg.limit_request_fields}"))
            return
        self._forget(waiting)
        conn.prefetched = bytes(waiting.data)
        conn.data_ready = True
        self.enqueue_req(conn)

    def handle(self, conn: TConn) -> Any:
        prefetched = getattr(conn, "prefetched", None)
        if prefetched:
            conn.prefetched = None
            conn.sock.setblocking(True)
            conn.init()
            conn.parser.unreader.unread(prefetched)
        return super().handle(conn)

    def murder_pending(self) -> None:
        """Also close the connections whose request did not arrive in time (408), and, once the worker
        stops, those that have sent nothing yet."""
        super().murder_pending()
        now = time.monotonic()
        while self.arriving and (self.arriving[0].deadline <= now or not self.alive):
            waiting = self.arriving[0]
            if waiting.data:
                self._answer(waiting, _problem(408, "Request Timeout",
                                               f"the request did not arrive within {HEAD_TIMEOUT:g} seconds"))
            else:
                self._drop(waiting)

    def _answer(self, waiting: Arriving, response: bytes) -> None:
        with contextlib.suppress(OSError):
            waiting.conn.sock.send(response)  # non-blocking, best effort: the answer is small
        self._drop(waiting)

    def _forget(self, waiting: Arriving) -> None:
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(waiting.conn.sock)
        with contextlib.suppress(ValueError):
            self.arriving.remove(waiting)

    def _drop(self, waiting: Arriving) -> None:
        self._forget(waiting)
        self.nr_conns -= 1
        waiting.conn.close()
