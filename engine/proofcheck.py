"""Checking a paper's proof bundle offline: no database, only the bundle, the file and the published keys.

A bundle (built by engine/proofs.py, served at GET /api/v1/public/proof/<sha256>) says: the file with this
SHA-256 is named by event `s` of dossier `d` (`slip_issued` or `document_added`); the events from there
to seq `q` chain to head hash `h`; checkpoint N signed a Merkle root over every dossier's head, and the
leaf "d:q:h" sits at `leaf_index` of its `tree_size` leaves with this audit path. Each step is redone here:

1. the file's SHA-256 is the one the event names;
2. every event's hash is recomputed (`eventlog.event_hash`: SHA-256 of prev + "\\n" + canonical header +
   "\\n" + payload) and each links to the one before; the last is the signed leaf;
3. the leaf hash SHA-256(0x00 || "d:q:h") and the audit path give the root (RFC 6962 §2.1.1; the
   verification algorithm of RFC 9162 §2.1.3.2), equal to the signed record's root and size;
4. the record's Ed25519 signature verifies with the public key its key id names (a `KeyRing`: the
   published key, or the signed key history of engine/keyhistory.py).

Every failure names where: the step, the dossier and seq, the checkpoint.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

PAPER_EVENTS = ("slip_issued", "document_added")


# -- Merkle (RFC 6962) -----------------------------------------------------------------------------------

def leaf_hash(dossier_id: int, last_seq: int, head_hash: str) -> bytes:
    """The checkpoint tree's leaf: SHA-256(0x00 || "id:seq:hash")."""
    return hashlib.sha256(b"\x00" + f"{dossier_id}:{last_seq}:{head_hash}".encode()).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def tree_hash(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) of RFC 6962 over leaf hashes (already 0x00-prefixed and hashed)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return node_hash(tree_hash(leaves[:k]), tree_hash(leaves[k:]))


def audit_path(leaves: list[bytes], index: int) -> list[bytes]:
    """PATH(m, D[n]) of RFC 6962 §2.1.1: the siblings from the leaf up to the root, nearest first."""
    if not 0 <= index < len(leaves):
        raise IndexError("leaf index out of range")
    if len(leaves) == 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return audit_path(leaves[:k], index) + [tree_hash(leaves[k:])]
    return audit_path(leaves[k:], index - k) + [tree_hash(leaves[:k])]


def root_from_path(leaf: bytes, index: int, size: int, path: list[bytes]) -> bytes | None:
    """RFC 9162 §2.1.3.2: the root an inclusion proof leads to, or None when the path cannot fit the size."""
    if not 0 <= index < size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


# -- events ----------------------------------------------------------------------------------------------

def event_hash(prev: str, ev: dict[str, Any]) -> str:
    """`engine.eventlog.event_hash` from a bundle's event (its instant already in the events' ISO spelling)."""
    head = json.dumps({"d": ev["d"], "s": ev["s"], "t": ev["t"], "a": ev["a"], "u": ev["u"], "st": ev["st"],
                       "at": ev["at"]}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{prev}\n{head}\n{ev['payload']}".encode()).hexdigest()


# -- keys ------------------------------------------------------------------------------------------------

PREFIX = "ed25519:"


def key_id(public: str) -> str:
    return hashlib.sha256(public.encode()).hexdigest()


def public_key(text: str) -> Ed25519PublicKey:
    if not text.startswith(PREFIX):
        raise ValueError("a public key is written ed25519:<base64>")
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(text[len(PREFIX):], validate=True))


@dataclass
class KeyRing:
    """Public keys by key id, each with the instants it was in force ([valid_from, valid_to); ISO strings,
    None = open). A single published key is a ring of one, always in force."""

    keys: dict[str, tuple[str, str | None, str | None]] = field(default_factory=dict)

    @classmethod
    def of(cls, *publics: str) -> KeyRing:
        return cls({key_id(p): (p, None, None) for p in publics})

    def problem(self, kid: str, at: str | None, record: bytes, signature: str) -> str | None:
        found = self.keys.get(kid)
        if found is None:
            return f"it was signed with an unknown key (key id {kid[:16]}…): not one of the published keys"
        public, start, end = found
        try:
            public_key(public).verify(base64.b64decode(signature), record)
        except (InvalidSignature, ValueError):
            return f"the signature does not match the record with the key named beside it ({kid[:16]}…)"
        if at is not None and ((start is not None and at < start) or (end is not None and at >= end)):
            return (f"it is dated {at}, outside the time its key {kid[:16]}… was in force "
                    f"({start or '…'} to {end or 'now'})")
        return None


# -- the bundle ------------------------------------------------------------------------------------------

@dataclass
class ProofReport:
    ok: bool = False
    steps: list[str] = field(default_factory=list)   # what was checked, in order
    problem: str | None = None                        # the first failure, naming where
    where: str | None = None                          # file | event | chain | merkle | signature | pending

    def fail(self, where: str, problem: str) -> ProofReport:
        self.ok, self.where, self.problem = False, where, problem
        return self

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "steps": self.steps, "problem": self.problem, "where": self.where}


def check_bundle(bundle: dict[str, Any], keys: KeyRing, file_sha256: str | None = None) -> ProofReport:
    """Every step of the module docstring, stopping at the first that fails."""
    report = ProofReport()
    try:
        return _check(bundle, keys, file_sha256, report)
    except (KeyError, TypeError, ValueError, IndexError) as err:
        return report.fail("bundle", f"the proof bundle is malformed ({type(err).__name__}: {err})")


def _check(bundle: dict[str, Any], keys: KeyRing, file_sha256: str | None, report: ProofReport) -> ProofReport:
    sha = str(bundle["sha256"])
    if file_sha256 is not None:
        if file_sha256 != sha:
            return report.fail("file", f"the file's SHA-256 is {file_sha256}, the proof is for {sha}")
        report.steps.append(f"file SHA-256 {sha}")
    events: list[dict[str, Any]] = bundle["events"]
    if not events:
        return report.fail("event", "the proof names no event")
    first = events[0]
    payload = json.loads(first["payload"])
    if first["t"] not in PAPER_EVENTS or payload.get("sha256") != sha:
        return report.fail("event", f"dossier {first['d']}, event {first['s']} ({first['t']}) does not name "
                                    f"a file with this SHA-256")
    report.steps.append(f"dossier {first['d']}, event {first['s']} ({first['t']}) names the file")
    prev = first["prev"]
    for i, ev in enumerate(events):
        if ev["d"] != first["d"] or ev["s"] != first["s"] + i:
            return report.fail("chain", f"dossier {first['d']}: the events of the proof are not consecutive "
                                        f"at seq {ev['s']}")
        if ev["prev"] != prev:
            return report.fail("chain", f"dossier {ev['d']}, event {ev['s']}: does not follow the event before it")
        h = event_hash(prev, ev)
        if h != ev["hash"]:
            return report.fail("chain", f"dossier {ev['d']}, event {ev['s']}: its content does not give its hash")
        prev = h
    last = events[-1]
    cp = bundle.get("checkpoint")
    if cp is None:
        report.steps.append(f"chain recomputed to event {last['s']}")
        return report.fail("pending", f"dossier {first['d']}, event {first['s']} is not yet covered by a signed "
                                      "checkpoint (they are made every hour): try again later")
    leaf = bundle["leaf"]
    if (leaf["dossier"], leaf["seq"]) != (last["d"], last["s"]) or leaf["hash"] != prev:
        return report.fail("chain", f"dossier {first['d']}: the events from seq {first['s']} to {last['s']} hash to "
                                    f"{prev[:16]}…, but checkpoint {cp['id']} signed {leaf['hash'][:16]}… at seq "
                                    f"{leaf['seq']}: the dossier's history was changed after checkpoint {cp['id']}")
    report.steps.append(f"chain recomputed from event {first['s']} to the signed head, event {last['s']}")
    record_text = str(cp["record"])
    record = json.loads(record_text)
    if record.get("id") != cp["id"]:
        return report.fail("signature", f"checkpoint {cp['id']}: the record is of checkpoint {record.get('id')}")
    size, index = int(bundle["tree_size"]), int(bundle["leaf_index"])
    root = root_from_path(leaf_hash(leaf["dossier"], leaf["seq"], leaf["hash"]), index, size,
                          [bytes.fromhex(p) for p in bundle["audit_path"]])
    if root is None or root.hex() != record.get("root") or size != record.get("dossiers"):
        return report.fail("merkle", f"checkpoint {cp['id']}: the audit path of dossier {leaf['dossier']} (leaf "
                                     f"{index} of {size}) does not lead to the signed root "
                                     f"{str(record.get('root'))[:16]}… of {record.get('dossiers')} leaves")
    report.steps.append(f"Merkle root {root.hex()} of checkpoint {cp['id']} ({size} dossiers) from the audit path")
    problem = keys.problem(str(cp["key_id"]), record.get("at"), record_text.encode(), str(cp["signature"]))
    if problem:
        return report.fail("signature", f"checkpoint {cp['id']}: {problem}")
    report.steps.append(f"Ed25519 signature of checkpoint {cp['id']} ({record.get('at')}) verifies with key "
                        f"{str(cp['key_id'])[:16]}…")
    report.ok = True
    return report
