"""Call activities on a drawn procedure: which fragment version each one runs (decision 0166).

A fragment's steps are not drawn on the caller's diagram (they have their own file): the dossier's
state inside a fragment is shown on the call activity that runs it, and each call activity carries a
caption with the fragment's name and version, the binding stored with the caller's version.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import gettext as _

from engine.definitions.fragments import bindings_of
from engine.definitions.model import ProcedureMeta

from .diagram import Highlight


def captions(meta: ProcedureMeta) -> dict[str, str]:
    """call activity id -> "key, version 1: fragment name" (the version first: a caption is cut to two lines)."""
    return {b.element: _("%(key)s, version %(version)s: %(name)s", name=b.name or b.key, key=b.key,
                         version=b.version) for b in bindings_of(meta)}


def fold(hl: Highlight, meta: ProcedureMeta) -> Highlight:
    """A call activity is current while a step of its fragment is open, done once one was done."""
    for b in bindings_of(meta):
        steps = set(b.steps)
        if hl.current & steps:
            hl.current.add(b.element)
        elif hl.done & steps:
            hl.done.add(b.element)
    return hl


def fold_states(states: Mapping[str, str], meta: ProcedureMeta) -> dict[str, str]:
    """Tooltips: a call activity says which of its fragment's steps the dossier is at."""
    out = dict(states)
    for b in bindings_of(meta):
        inside = [f"{s}: {states[s]}" for s in b.steps if s in states]
        if inside:
            out[b.element] = "; ".join(inside)
    return out
