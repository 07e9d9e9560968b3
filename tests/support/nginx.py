"""Debian's nginx in the foreground on 127.0.0.1, with a site file from deploy/nginx/ whose addresses a
test rewrites (`make test` installs nginx where it is missing: scripts/test-tools.sh)."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from pathlib import Path

from .live_server import Http, free_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


class Nginx:
    """nginx running `site` (a server block, upstreams allowed) in `workdir`; `stop()` always."""

    def __init__(self, site: str, workdir: Path):
        assert Path(NGINX).exists(), "nginx is missing: run `make test` (scripts/test-tools.sh installs it)"
        self.port = free_port()
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.site = site.replace("listen 80;", f"listen 127.0.0.1:{self.port};")
        assert f"listen 127.0.0.1:{self.port};" in self.site
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> None:
        d = self.dir
        conf = d / "nginx.conf"
        conf.write_text(f"""daemon off;
master_process on;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log {d}/access.log;
  client_body_temp_path {d}/body;
  proxy_temp_path {d}/proxy;
  fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi;
  scgi_temp_path {d}/scgi;
{self.site}
}}
""")
        self.proc = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(d)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(OSError):
                if Http(self.base, timeout=5).get("/api/v1/health").status == 200:
                    return
            if self.proc.poll() is not None:
                raise RuntimeError(self.proc.stderr.read().decode() if self.proc.stderr else "nginx exited")
            if time.monotonic() > deadline:
                raise RuntimeError("nginx did not answer")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def access_log(self) -> str:
        try:
            return (self.dir / "access.log").read_text(errors="replace")
        except OSError:
            return ""
