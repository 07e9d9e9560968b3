"""Security headers on every response: the API's JSON, the Swagger UI page, and (if a page sets none
of its own) any HTML page.

- `Content-Security-Policy`: API responses may load and run nothing (`default-src 'none'`); the
  Swagger UI page loads its own assets from this server only (its inline start-up script and styles
  need 'unsafe-inline'); other HTML gets a same-origin policy unless it sets its own.
- `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY` (and `frame-ancestors 'none'`),
  `Referrer-Policy: no-referrer`, `Cross-Origin-Opener-Policy` / `-Resource-Policy: same-origin`.
- `Cache-Control: no-store` on /api/v1: dossiers hold applicants' personal data and must not linger in
  shared caches or on a shared office computer's disk.
- `Strict-Transport-Security` only over HTTPS (browsers ignore it on plain HTTP; a reverse proxy that
  terminates TLS should set it too).

Headers a view has set itself are kept (`setdefault`), so a page with stricter needs can say so.
"""

from __future__ import annotations

from flask import Flask, Response, request

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
PAGE_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
COMMON = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def init_app(app: Flask) -> None:
    @app.after_request
    def secure(resp: Response) -> Response:
        # The names present are read once and the missing headers added in one go: werkzeug's
        # `setdefault` scans the whole header list (lower-casing every name) for each of the eight,
        # which was an eighth of a ping's CPU.
        h = resp.headers
        present = {name.lower() for name, _value in h.items()}
        path = request.path
        wanted = list(COMMON.items())
        if path.startswith("/api/docs"):
            wanted.append(("Content-Security-Policy", DOCS_CSP))
        elif resp.mimetype == "text/html":
            wanted.append(("Content-Security-Policy", PAGE_CSP))
        else:
            wanted.append(("Content-Security-Policy", API_CSP))
        if path.startswith("/api/v1/"):
            wanted.append(("Cache-Control", "no-store"))
        if request.is_secure:
            wanted.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
        h.extend([(name, value) for name, value in wanted if name.lower() not in present])
        return resp
