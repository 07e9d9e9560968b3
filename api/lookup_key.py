"""The key of the receipts' QR tokens (engine/lookup.py): LANDFLOW_LOOKUP_KEY, else a random key kept in
<var dir>/keys/lookup.key (mode 0600), made by the first process that needs it. Its own key, not the
session secret: rotating the session secret must not turn every printed receipt's QR code into a dead
link. Rotating this key does (the code and identity digits still work): keep it for years."""

from __future__ import annotations

import os

from config.settings import Settings


def lookup_key(settings: Settings) -> bytes:
    given = os.environ.get("LANDFLOW_LOOKUP_KEY", "")
    if given:
        return given.encode()
    from .web.session import _read_or_create

    return _read_or_create(settings.var_dir / "keys" / "lookup.key").encode()
