"""What-if before deploying: replay the organisation's own recent dossiers through a candidate version
(docs/whatif.md)."""

from .report import MAX_MONTHS, Variant, WhatIfRefused, WhatIfReport, what_if

__all__ = ["MAX_MONTHS", "Variant", "WhatIfRefused", "WhatIfReport", "what_if"]
