"""What every page blueprint shares: CSRF check before, security headers after, the templates folder."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from . import csrf, headers


def blueprint(name: str, import_name: str, **options: Any) -> Blueprint:
    bp = Blueprint(name, import_name, template_folder="templates", **options)
    bp.before_request(csrf.check)
    bp.after_request(headers.apply)
    return bp
