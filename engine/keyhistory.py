"""The checkpoint keys over the years: a signed history of public keys, each with the instant it took over.

Rotating the checkpoint key (`landflow keys rotate-checkpoint`) must leave every old checkpoint
verifiable, and must not let whoever holds the database (or the key folder) slip in a key of their own.
So the history is a list of entries

    {"public": "ed25519:…", "key_id": sha256 of public, "valid_from": instant | null,
     "previous": key id of the entry before | null, "by_previous": signature | null, "by_self": signature}

where both signatures are Ed25519 over the canonical JSON of {"purpose": PURPOSE, "public", "valid_from",
"previous"}: the new key signs itself (it is a key someone holds) and the previous key signs the new one
(it was handed over by whoever held the old). The first entry has no previous. A key is in force from its
`valid_from` to the next entry's. Kept beside the private key (`checkpoint-keys.json`) and published with
it; it is small, and it is what `landflow verify-slip --key` and `verify --all` read.

Pure: no database, so the offline checker (engine/proofcheck.py) uses it too.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .proofcheck import KeyRing, key_id, public_key

PURPOSE = "landflow-checkpoint-key/1"
FILE = "checkpoint-keys.json"


class KeyHistoryProblem(ValueError):
    """The key history is broken: an entry whose signatures do not hold, named."""


def history_path(private: Path) -> Path:
    return private.with_name(FILE)


def _statement(public: str, valid_from: str | None, previous: str | None) -> bytes:
    return json.dumps({"purpose": PURPOSE, "public": public, "valid_from": valid_from, "previous": previous},
                      sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _sign(key: Ed25519PrivateKey, data: bytes) -> str:
    return base64.b64encode(key.sign(data)).decode()


def _public_text(key: Ed25519PrivateKey) -> str:
    from cryptography.hazmat.primitives import serialization

    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + base64.b64encode(raw).decode()


def entry(new: Ed25519PrivateKey, valid_from: str | None, previous: Ed25519PrivateKey | None) -> dict[str, Any]:
    """A history entry for `new`, in force from `valid_from`, handed over by `previous` (None: the first)."""
    public = _public_text(new)
    prev_id = key_id(_public_text(previous)) if previous is not None else None
    statement = _statement(public, valid_from, prev_id)
    return {"public": public, "key_id": key_id(public), "valid_from": valid_from, "previous": prev_id,
            "by_previous": _sign(previous, statement) if previous is not None else None,
            "by_self": _sign(new, statement)}


@dataclass(frozen=True)
class KeyHistory:
    entries: list[dict[str, Any]]

    @classmethod
    def parse(cls, text: str) -> KeyHistory:
        data = json.loads(text)
        entries = data.get("keys") if isinstance(data, dict) else None
        if not isinstance(entries, list) or not entries:
            raise KeyHistoryProblem("the key history lists no keys")
        history = cls(entries)
        history.check()
        return history

    @classmethod
    def load(cls, path: Path) -> KeyHistory:
        return cls.parse(path.read_text(encoding="utf-8"))

    def text(self) -> str:
        return json.dumps({"purpose": "landflow-checkpoint-keys/1", "keys": self.entries}, indent=1,
                          ensure_ascii=False) + "\n"

    def check(self) -> None:
        """Every entry signed by itself and (after the first) by the one before; instants in order."""
        prev: dict[str, Any] | None = None
        for n, e in enumerate(self.entries, 1):
            try:
                public = str(e["public"])
                statement = _statement(public, e.get("valid_from"), e.get("previous"))
                if key_id(public) != e.get("key_id"):
                    raise KeyHistoryProblem(f"key history entry {n}: its key id is not its key's")
                _verify(public, e["by_self"], statement, f"key history entry {n}: not signed by its own key")
                if prev is None:
                    if e.get("previous") is not None:
                        raise KeyHistoryProblem(f"key history entry {n}: the first entry names a previous key")
                else:
                    if e.get("previous") != prev["key_id"]:
                        raise KeyHistoryProblem(f"key history entry {n}: does not name entry {n - 1} as previous")
                    _verify(str(prev["public"]), e.get("by_previous"), statement,
                            f"key history entry {n}: not signed by the key before it (entry {n - 1})")
                    if not e.get("valid_from") or (prev.get("valid_from") or "") >= str(e["valid_from"]):
                        raise KeyHistoryProblem(f"key history entry {n}: takes over before entry {n - 1}")
            except (KeyError, TypeError) as err:
                raise KeyHistoryProblem(f"key history entry {n}: malformed ({err})") from None
            prev = e

    def ring(self) -> KeyRing:
        ring = KeyRing()
        for i, e in enumerate(self.entries):
            end = self.entries[i + 1]["valid_from"] if i + 1 < len(self.entries) else None
            ring.keys[e["key_id"]] = (e["public"], e.get("valid_from"), end)
        return ring

    def current(self) -> dict[str, Any]:
        return self.entries[-1]


def _verify(public: str, signature: Any, data: bytes, message: str) -> None:
    try:
        public_key(public).verify(base64.b64decode(str(signature)), data)
    except (InvalidSignature, ValueError) as err:
        raise KeyHistoryProblem(message) from err


def ring_from_text(text: str) -> KeyRing:
    """A published key (`ed25519:…`) or a key history (JSON), as a key ring; KeyHistoryProblem if broken."""
    text = text.strip()
    if text.startswith("{"):
        return KeyHistory.parse(text).ring()
    return KeyRing.of(text)
