"""The migration plan as CSV (the dry-run page's download and `landflow migrate plan --csv`)."""

from __future__ import annotations

import csv
import io

from engine.migration.plan import Plan

HEADER = ["dossier_id", "code", "status", "moves", "reason", "suggestion", "detail"]


def plan_csv(plan: Plan) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for d in plan.dossiers:
        moves = "; ".join(f"{m.from_step}->{m.to_step}" for m in d.moves)
        writer.writerow([d.dossier_id, d.code, d.status, moves, d.reason or "", d.suggestion or "", d.detail])
    return out.getvalue()
