"""Security headers of the pages.

- Content-Security-Policy: everything from this server only; no inline script at all (the little
  JavaScript there is lives in static files), no inline style; no plugins; forms post only here;
  no framing (`frame-ancestors 'none'`, and X-Frame-Options for older browsers).
- X-Content-Type-Options: nosniff; Referrer-Policy: same-origin (dossier codes in URLs stay here).
- Pages with data are `Cache-Control: no-store`: a shared office PC must not show the last officer's
  worklist from the browser cache after sign-out.

The API keeps its own headers (Swagger UI needs inline script); these apply to the pages' responses.
"""

from __future__ import annotations

from werkzeug.wrappers import Response

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def apply(resp: Response, private: bool = True) -> Response:
    resp.headers["Content-Security-Policy"] = CSP
    resp.headers["X-Frame-Options"] = "DENY"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Referrer-Policy"] = "same-origin"
    resp.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    resp.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if private and "Cache-Control" not in resp.headers:
        resp.headers["Cache-Control"] = "no-store"
    return resp
