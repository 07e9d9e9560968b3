"""Rotating the pages' session key without signing anyone out (docs/operations.md, Keys), and the lookup key
read from the settings like every other key."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from api.app import create_app
from api.lookup_key import lookup_key
from api.web.session import COOKIE, rotate_session_key, secret_key_fallbacks
from config.settings import Settings
from engine.bootstrap import Landflow
from tests.web.conftest import sign_in_page


def signed_in(client: FlaskClient) -> bool:
    return client.get("/welcome").status_code == 200


def with_cookie(lf: Landflow, value: str) -> FlaskClient:
    """A browser holding this session cookie, talking to a worker started now (with the keys on disk now)."""
    client = create_app(lf).test_client()
    client.set_cookie(COOKIE, value)
    return client


def test_the_session_key_rotates_in_two_steps_and_nobody_is_signed_out(demo_lf: Landflow) -> None:
    first = create_app(demo_lf).test_client()
    sign_in_page(first, "desk.haichau")
    cookie = first.get_cookie(COOKIE)
    assert cookie is not None and signed_in(first)
    keys = demo_lf.settings.var_dir / "keys"
    old_key = (keys / "session.key").read_text()

    assert "staged" in rotate_session_key(demo_lf.settings, stage=True)  # 1. every worker accepts the next key
    staged = with_cookie(demo_lf, cookie.value)
    assert signed_in(staged)

    rotate_session_key(demo_lf.settings)  # 2. the next key signs; the old one is accepted for a while
    assert (keys / "session.key").read_text() != old_key and (keys / "session.key.previous").read_text() == old_key
    assert not (keys / "session.key.next").exists()
    rotated = with_cookie(demo_lf, cookie.value)
    assert signed_in(rotated)  # a cookie of the old key, on a worker of the new one
    fresh = create_app(demo_lf).test_client()
    sign_in_page(fresh, "land.haichau")
    new_cookie = fresh.get_cookie(COOKIE)
    assert new_cookie is not None
    assert signed_in(with_cookie_on(staged, new_cookie.value))  # a worker not restarted yet accepts the new key

    # after a page session's lifetime, the old key is no longer accepted; the new one is
    hours = demo_lf.settings.token_hours
    past = time.time() - hours * 3600 - 60
    os.utime(keys / "session.key.previous", (past, past))
    assert old_key not in secret_key_fallbacks(demo_lf.settings)
    assert not signed_in(with_cookie(demo_lf, cookie.value))
    assert signed_in(with_cookie(demo_lf, new_cookie.value))


def with_cookie_on(client: FlaskClient, value: str) -> FlaskClient:
    client.set_cookie(COOKIE, value)
    return client


def test_keys_given_in_the_environment_rotate_with_fallbacks(demo_lf: Landflow, tmp_path: Path) -> None:
    old = Settings.from_env({"LANDFLOW_SECRET_KEY": "old-key-0123456789"}, database_url=demo_lf.settings.database_url,
                            var_dir=demo_lf.settings.var_dir, demo=True)
    new = Settings.from_env({"LANDFLOW_SECRET_KEY": "new-key-0123456789",
                             "LANDFLOW_SECRET_KEY_FALLBACKS": "old-key-0123456789, other"},
                            database_url=demo_lf.settings.database_url, var_dir=demo_lf.settings.var_dir, demo=True)
    assert new.secret_key_fallbacks == ("old-key-0123456789", "other")
    with pytest.raises(ValueError, match="LANDFLOW_SECRET_KEY is set"):
        rotate_session_key(new)
    demo_lf.settings = old  # type: ignore[misc]
    client = create_app(demo_lf).test_client()
    sign_in_page(client, "desk.haichau")
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    demo_lf.settings = new  # type: ignore[misc]
    assert signed_in(with_cookie(demo_lf, cookie.value))
    demo_lf.settings = Settings.from_env({"LANDFLOW_SECRET_KEY": "new-key-0123456789"},  # type: ignore[misc]
                                         database_url=demo_lf.settings.database_url,
                                         var_dir=demo_lf.settings.var_dir, demo=True)
    assert not signed_in(with_cookie(demo_lf, cookie.value))


def test_the_cli_rotates_the_session_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from api.cli import main

    monkeypatch.setenv("LANDFLOW_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("LANDFLOW_SECRET_KEY", raising=False)
    assert "staged" in CliRunner().invoke(main, ["keys", "rotate-session", "--stage"]).output
    out = CliRunner().invoke(main, ["keys", "rotate-session"])
    assert out.exit_code == 0 and "previous key stays accepted" in " ".join(out.output.split())
    assert (tmp_path / "keys" / "session.key.previous").exists()


def test_the_lookup_key_comes_from_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANDFLOW_LOOKUP_KEY", "from-the-process-environment")
    given = Settings.from_env({"LANDFLOW_LOOKUP_KEY": "from-the-settings"}, var_dir=tmp_path)
    assert given.lookup_key == "from-the-settings" and lookup_key(given) == b"from-the-settings"
    made = Settings.from_env({}, var_dir=tmp_path)  # settings built without it: the key file, never os.environ
    assert made.lookup_key == ""
    assert lookup_key(made) == (tmp_path / "keys" / "lookup.key").read_text().strip().encode()
