"""Commands on dossiers: open, claim, complete, return, transfer, supplements, apologise, stop, cancel."""

from ..errors import CommandRefused
from .commands import Runtime, RuntimeSettings
from .state import DossierState, ItemState

__all__ = ["CommandRefused", "DossierState", "ItemState", "Runtime", "RuntimeSettings"]
