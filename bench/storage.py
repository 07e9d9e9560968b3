"""bench storage: bytes per finished 6-step dossier including its whole history (SQLite, after
VACUUM), and how that grows with the number of steps (it must grow linearly, not with steps²).

Target: <= 6 KB per finished 6-step dossier (SpiffArena's backend: 17.7 KB). The ratio printed is
bytes / 6144 (lower is better; met when <= 1).
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
from pathlib import Path

from bench.bpmn_builder import Flow, Node, Procedure
from bench.org import small_organisation
from config.settings import Settings
from engine.bootstrap import build, seed

from .common import write_result

TARGET = 6 * 1024


def linear_procedure(steps: int) -> bytes:
    nodes = [Node("start", "start", "Bắt đầu", lane="one_stop_desk", col=0)]
    flows = []
    prev = "start"
    for i in range(steps):
        nid = f"s{i + 1}"
        nodes.append(Node(nid, "user", f"Bước {i + 1}", lane="one_stop_desk", col=i + 1,
                          props={"sla": "P1D", "result": "Kết quả", "legal_basis": "Nghị định 151/2025/NĐ-CP",
                                 "form": "ok:bool!; note:text"}))
        flows.append(Flow(f"f{i}", prev, nid))
        prev = nid
    nodes.append(Node("done", "end", "Xong", lane="one_stop_desk", col=steps + 1))
    flows.append(Flow("fend", prev, "done"))
    proc = Procedure(key=f"linear_{steps}", name=f"Thủ tục {steps} bước", nodes=nodes, flows=flows,
                     props={"sla": f"P{steps + 2}D", "legal_basis": "Nghị định 151/2025/NĐ-CP"})
    return proc.to_xml()


def bytes_per_dossier(steps: int, n: int, directory: Path) -> float:
    path = directory / f"storage_{steps}.db"
    settings = Settings.from_env({}, database_url=f"sqlite:///{path}", var_dir=directory)
    lf = build(settings)
    lf.db.create_all()
    seed(lf, small_organisation(), with_officers=True)
    o = lf.directory.get().officers
    lf.runtime.deploy(o["supervisor"], linear_procedure(steps))
    desk = o["desk.w1"]

    def measure() -> int:
        lf.db.engine.dispose()
        con = sqlite3.connect(path)
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.execute("VACUUM")
        con.close()
        return path.stat().st_size

    empty = measure()
    for i in range(n):
        st = lf.runtime.open(desk, f"linear_{steps}", "W1", {"name": f"Nguyễn Văn {i}", "id_number": f"{i:012d}"},
                             {"sheet": i % 50, "parcel": i})
        for _ in range(steps):
            (item,) = st.open_items()
            st = lf.runtime.complete(desk, item.id or 0, {"ok": True, "note": "đã kiểm tra"})
        assert st.status == "done"
    full = measure()
    lf.close()
    return (full - empty) / n


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dossiers", type=int, default=400)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        sizes = {k: bytes_per_dossier(k, args.dossiers, Path(tmp)) for k in (3, 6, 12)}
    per_step_3_6 = (sizes[6] - sizes[3]) / 3
    per_step_6_12 = (sizes[12] - sizes[6]) / 6
    figures = {"dossiers": args.dossiers, "bytes_per_dossier": {str(k): round(v) for k, v in sizes.items()},
               "bytes_per_step_3_to_6": round(per_step_3_6), "bytes_per_step_6_to_12": round(per_step_6_12),
               "growth_ratio": round(per_step_6_12 / per_step_3_6, 3)}
    ratio = sizes[6] / TARGET
    result = write_result("storage", ratio, 1.0, figures, higher_is_better=False)
    print(f"bytes per finished dossier: 3 steps {sizes[3]:,.0f}, 6 steps {sizes[6]:,.0f}, 12 steps {sizes[12]:,.0f}; "
          f"per step {per_step_3_6:,.0f} then {per_step_6_12:,.0f} (linear when equal); "
          f"6-step ratio to 6 KB: {ratio:.2f} (target <= 1)")
    return result


if __name__ == "__main__":
    main()
