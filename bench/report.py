"""`python -m bench.report [--readme]`: the Performance table of docs/performance.md, from bench/results/*.json.

With `--readme` the table replaces what stands between docs/performance.md's `<!-- figures:begin -->` and
`<!-- figures:end -->` markers, so the figures quoted there are always the ones in bench/results/.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from config.settings import ROOT

from .common import RESULTS

BEGIN, END = "<!-- figures:begin (python -m bench.report --readme) -->", "<!-- figures:end -->"


def _load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _yes(met: bool) -> str:
    return "met" if met else "**missed**"


def rows() -> list[tuple[str, str, str, str, str]]:
    out: list[tuple[str, str, str, str, str]] = []
    engine = _load("engine")
    if engine:
        f = engine["figures"]
        out.append(("engine", f"{f['durable_commands_per_s']:,.0f} durable commands/s vs "
                              f"{f['in_memory_steps_per_s']:,.0f} in-memory steps/s: ratio {engine['ratio']}",
                    ">= 0.5", _yes(engine["met"]), "`landflow bench engine`"))
    storage = _load("storage")
    if storage:
        f = storage["figures"]
        b = f["bytes_per_dossier"]
        out.append(("storage", f"{b['6']:,} bytes per finished 6-step dossier (3 steps {b['3']:,}, 12 steps "
                               f"{b['12']:,}; growth per step ratio {f['growth_ratio']})",
                    "<= 6 KB", _yes(storage["met"]), "`landflow bench storage`"))
    http = _load("http")
    if http:
        t = http["figures"]["targets"]
        for db, levels in http["figures"]["databases"].items():
            parts = []
            for clients, lv in levels.items():
                c = lv["complete"]
                parts.append(f"{clients} client(s): {c['per_s']:,.0f}/s, p50 {c['p50_ms']} / p95 {c['p95_ms']} / "
                             f"p99 {c['p99_ms']} ms, ratio to ping {lv['ratio']} (server CPU "
                             f"{c['server_cpu_ms_per_request']} ms per completion)")
            out.append((f"http ({db})", "; ".join(parts), "", "", ""))
        out.append(("http targets", f"peak {t['completions_per_s']['reached']:,.0f} completions/s; one client p95 "
                                    f"{t['p95_ms_one_client']['reached']} ms; ratio {t['ratio_to_ping']['reached']}",
                    ">= 1,000/s; <= 5 ms; >= 0.3",
                    " / ".join(_yes(t[k]["met"]) for k in ("completions_per_s", "p95_ms_one_client",
                                                            "ratio_to_ping")),
                    "`landflow bench http`"))
    scale = _load("scale")
    if scale:
        f = scale["figures"]
        t = f["targets"]
        n = f["fixture"]["dossiers"] or 0
        fx = f["fixture"]
        cmd = f"`landflow bench scale --dossiers {n:,}`".replace(",", "_") if n else "`landflow bench scale`"
        cmd = cmd.replace("_", "")
        a, b, c = f["dossier_count"], f["history_length"], f["big_database"]
        out.append(("scale (a)", f"one command: {a['small']['median_ms']} ms with 1,000 dossiers, "
                                 f"{a['big']['median_ms']} ms with {n:,} ({f['database']}); "
                                 f"{a['small']['statements_per_complete']} SQL statements per complete in both",
                    "ratio <= 1.2", f"{a['ratio']}: {_yes(t['command_1k_vs_big']['met'])}", cmd))
        out.append(("scale (b)", "5 vs ~500 events: " + ", ".join(
            f"{k} {b['short'][k]} vs {b['long'][k]} ms" for k in b["ratios"]),
                    "ratio <= 1.2", f"{b['ratio']}: {_yes(t['command_5_vs_500_events']['met'])}", cmd))
        out.append(("scale (c) worklist", f"p50 {c['worklist']['p50_ms']} ms, p99 {c['worklist']['p99_ms']} ms "
                                          f"({c['worklist']['open_work_items']:,} open items)",
                    "p99 <= 20 ms", _yes(t["worklist_p99_ms"]["met"]), cmd))
        out.append(("scale (c) sweep", f"nothing newly due: {c['sweep']['nothing_new_s']} s over "
                                       f"{c['sweep']['open_work_items']:,} open items; with work: "
                                       f"{c['sweep']['ms_per_notice']} ms per notice",
                    "<= 1 s", _yes(t["sweep_nothing_new_s"]["met"]), cmd))
        k = c["kpi"]
        out.append(("scale (c) KPI year", f"by unit {k['unit']['seconds']} s, officer {k['officer']['seconds']} s, "
                                          f"procedure {k['procedure']['seconds']} s "
                                          f"({k['unit']['handled']:,} handled items)",
                    "<= 2 s", _yes(t["kpi_year_s"]["met"]), cmd))
        v = c["verify"]
        out.append(("scale (c) verify", f"full check {v['events_per_s']:,} events/s ({v['workers']} processes, "
                                        f"{v['dossiers']:,} dossiers sampled); chains only "
                                        f"{v['chains']['events_per_s']:,} events/s over {v['chains']['events']:,}",
                    ">= 200,000 events/s", f"{_yes(t['verify_events_per_s']['met'])} / "
                                           f"{_yes(t['verify_chains_events_per_s']['met'])}", cmd))
        r = c["replay"]
        out.append(("scale (c) replay", f"{r['events']} events: {r['median_ms']} ms ({r['cold_procedure_median_ms']} "
                                        "ms loading the procedure too)",
                    "<= 50 ms", _yes(t["replay_50_events_ms"]["met"]), cmd))
        if fx.get("build_s"):
            out.append(("fixture", f"{n:,} dossiers ({fx['open']:,} open), {fx['events']:,} events built in "
                                   f"{fx['build_s']:,.0f} s ({fx['phases_s']})",
                        "< 10 min", _yes(fx["build_s"] < 600), cmd))
    verify = _load("verify")
    if verify:
        f = verify["figures"]
        u, first, ch, ref = f["unchanged"], f["first_run"], f["changed"], f["reference_hashlib"]
        hashing = max(ref["events_per_s"], ref["again_events_per_s"])
        out.append(("verify", f"`verify --all`, {u['events']:,} events of {u['dossiers']:,} dossiers, one process: "
                              f"{u['events_per_s']:,} events/s when nothing changed ({u['events_per_cpu_s']:,} per "
                              f"CPU second), {ch['events_per_s']:,} with {ch['changed_dossiers']} changed dossiers "
                              f"replayed, {first['events_per_s']:,} on the first run (all replayed); SHA-256 alone "
                              f"{hashing:,} events/s: ratio {verify['ratio']}",
                    ">= 20,000 events/s", f"{_yes(f['met_wall'])} (per CPU second: {_yes(f['met_cpu'])})",
                    "`landflow bench verify`"))
    return out


def table() -> str:
    lines = ["| bench | figures | target | | command |", "|---|---|---|---|---|"]
    lines += [f"| {' | '.join(r)} |" for r in rows()]
    loads = []
    for name in ("engine", "storage", "http", "scale", "verify"):
        res = _load(name)
        if res:
            loads.append(f"{name} {res.get('when', '?')}")
    lines.append("")
    lines.append("Taken: " + "; ".join(loads) + ".")
    return "\n".join(lines)


def write_readme(path: Path = ROOT / "docs" / "performance.md") -> None:
    text = path.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{BEGIN}\n{table()}\n{END}{tail}", encoding="utf-8")


if __name__ == "__main__":
    if "--readme" in sys.argv[1:]:
        write_readme()
    else:
        print(table())
