"""What the API itself costs around an action (bench/http_api.py measures the whole; docs/performance.md).

The engine's command has its own statement budget (tests/engine/test_flat_costs.py); these tests hold
the API's part of a request to what it needs: the read-scope check before an action is one statement,
with no transaction around it.
"""

from __future__ import annotations

from flask import Flask

from api.unseen import unseen
from engine.bootstrap import Landflow
from engine.org import Officer
from engine.queries import SEE_ALL
from tests.support.statements import recording


def _officer(lf: Landflow, username: str) -> Officer:
    return lf.directory.refresh().officers[username]


def test_the_scope_check_before_an_action_is_one_statement(app: Flask, demo_lf: Landflow) -> None:
    desk = _officer(demo_lf, "desk.haichau")
    st = demo_lf.runtime.open(desk, "land_transfer", "20242", {"name": "Lê Văn Tám", "id_number": "1"},
                              {"sheet": 1, "number": 2})
    (item,) = st.open_items()
    assert item.id is not None
    with app.app_context():
        for officer, kind, target in ((desk, "item", item.id), (desk, "dossier", st.id)):
            with recording(demo_lf) as statements:
                assert unseen(officer, kind, target, "complete") is None
            # SQLite's reads open with a deferred BEGIN (engine/store/db.py): free, in the process
            assert [s for s in statements if s != "BEGIN"] == statements[-1:], statements
        # out of scope (another unit) and missing: still refused, as a missing id
        other = next(o for o in demo_lf.directory.refresh().officers.values()
                     if o.unit not in (None, "", desk.unit, "20242") and not o.roles & SEE_ALL)
        missing = f"work item {item.id} does not exist or is not yours to read"
        assert unseen(other, "item", item.id, "complete") == missing
        assert unseen(other, "dossier", st.id, "stop") == f"dossier {st.id} does not exist or is not yours to read"
        assert unseen(desk, "item", 10**12, "claim") == f"work item {10**12} does not exist or is not yours to read"


def test_only_the_limited_views_pay_for_the_rate_limiter(app: Flask) -> None:
    """Flask-Limiter's per-request hook is gone (no application-wide limit exists); the sign-in and
    look-up views check their own limits (tests/reliability/test_sign_in_limit.py proves they still do)."""
    from flask_limiter import Limiter

    (limiter,) = app.extensions["limiter"]
    assert isinstance(limiter, Limiter)
    assert not [h for h in app.before_request_funcs.get(None, []) if getattr(h, "__self__", None) is limiter]
