"""The small organisation lives in bench/ (the benches seed it too, and bench must not import tests)."""

from bench.org import BR1, C2, TAX1, W1, small_organisation

__all__ = ["BR1", "C2", "TAX1", "W1", "small_organisation"]
