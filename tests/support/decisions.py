"""Waiting for the decision records a signed completion hands to the app's issuer (api/slips/issuer.py):
the answer comes first, the record a moment later."""

from __future__ import annotations

from flask import Flask


def records_issued(app: Flask) -> None:
    """Return once every record submitted so far is issued (or its issuing failed and was logged)."""
    assert app.extensions["landflow_decisions"].drain(), "the decision records were not issued within 30 s"
