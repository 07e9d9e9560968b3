"""The key of the receipts' QR tokens (engine/lookup.py): LANDFLOW_LOOKUP_KEY (`Settings.lookup_key`), else a
random key kept in <var dir>/keys/lookup.key (mode 0600), made by the first process that needs it. Its own key, not the
session secret: rotating the session secret must not turn every printed receipt's QR code into a dead
link. Rotating this key does (the code and identity digits still work): keep it for years."""

from __future__ import annotations

from config.settings import Settings
from engine.lookup import lookup_key as engine_lookup_key


def lookup_key(settings: Settings) -> bytes:
    return engine_lookup_key(settings.var_dir, settings.lookup_key)
