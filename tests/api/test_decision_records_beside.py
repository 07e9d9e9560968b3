"""A signed completion answers at once; its decision record is issued beside the request, once
(api/slips/issuer.py, docs/decisions/0172). A record whose turn was lost (a crash between the answer and
the issuing) is issued when someone asks for it: the record's address, or the dossier's page."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select

from api.slips import decision
from engine.bootstrap import Landflow
from engine.clock import FixedClock
from engine.signatures import officer_key, sign_decision
from engine.store import CaseEventRow
from tests.api.test_land_transfer_flow import item_at
from tests.api.test_signed_results import walk_to_update_register
from tests.conftest import officer
from tests.support.decisions import records_issued


def events(lf: Landflow, dossier_id: int) -> list[tuple[int, str, dict[str, Any]]]:
    with lf.db.read() as s:
        return [(q, t, json.loads(p)) for q, t, p in s.execute(
            select(CaseEventRow.seq, CaseEventRow.type, CaseEventRow.payload)
            .where(CaseEventRow.dossier_id == dossier_id).order_by(CaseEventRow.seq))]


def records(lf: Landflow, dossier_id: int) -> list[int]:
    """The completions each issued paper is of (decision records and the documents signed steps declare)."""
    return [p["as_of"] for _, t, p in events(lf, dossier_id) if t == "slip_issued"]


def signature(lf: Landflow, clock: FixedClock, tmp_path: Path, current: dict[str, Any],
              item: dict[str, Any]) -> dict[str, str]:
    key = officer_key(lf.db, tmp_path / "keys", "branch.haichau", clock.now())
    lf.directory.refresh()
    return sign_decision(key, current["code"], "update_register", item["ordinal"], {}, "branch.haichau",
                         clock.now()).as_dict()


def test_the_answer_does_not_wait_for_the_record(sign_in: Any, app: Flask, demo_lf: Landflow,
                                                 demo_clock: FixedClock, tmp_path: Path) -> None:
    branch, current, item = walk_to_update_register(sign_in, demo_clock)
    body = {"data": {}, "signature": signature(demo_lf, demo_clock, tmp_path, current, item)}
    answered: list[Any] = []
    with decision._issuing:  # the issuer cannot record anything while this is held
        request = threading.Thread(target=lambda: answered.append(
            branch.post(f"/api/v1/work-items/{item['id']}/complete", json=body)))
        request.start()
        request.join(timeout=30)
        assert not request.is_alive(), "the completion waited for its decision record"
        assert answered[0].status_code == 200, answered[0].json
        assert records(demo_lf, current["id"]) == []  # answered before the record exists
    records_issued(app)
    signed = [q for q, t, p in events(demo_lf, current["id"]) if t == "completed" and "signature" in p]
    assert records(demo_lf, current["id"]) == signed * 3 and len(signed) == 1  # then issued, once each


def test_a_record_whose_turn_was_lost_is_issued_when_asked(sign_in: Any, app: Flask, demo_lf: Landflow,
                                                           demo_clock: FixedClock, tmp_path: Path) -> None:
    """The signed completion is the acknowledged act; the record is derived from it and issued at any
    time after. The engine completing directly stands for a process killed before its issuer ran."""
    branch, current, item = walk_to_update_register(sign_in, demo_clock)
    sig = signature(demo_lf, demo_clock, tmp_path, current, item)
    demo_lf.runtime.complete(officer(demo_lf, "branch.haichau"), item["id"], {}, signature=sig)
    did = current["id"]
    (seq,) = [q for q, t, p in events(demo_lf, did) if t == "completed" and "signature" in p]
    assert records(demo_lf, did) == []
    opened = branch.get(f"/api/v1/dossiers/{did}/decisions/{seq}")
    assert opened.status_code == 200 and opened.data.startswith(b"%PDF"), opened.status_code
    again = branch.get(f"/api/v1/dossiers/{did}/decisions/{seq}")
    assert again.data == opened.data and records(demo_lf, did) == [seq] * 3  # issued once, the same bytes after
    before = len(events(demo_lf, did))
    other = branch.get(f"/api/v1/dossiers/{did}/decisions/{seq - 1}")  # an unsigned event has no record
    assert other.status_code == 404 and len(events(demo_lf, did)) == before
    records_issued(app)
    assert records(demo_lf, did) == [seq] * 3


def test_the_dossier_page_shows_a_record_being_issued_and_has_it_issued(client: Any, sign_in: Any, app: Flask,
                                                                        demo_lf: Landflow, demo_clock: FixedClock,
                                                                        tmp_path: Path) -> None:
    from tests.web.conftest import sign_in_page

    branch, current, item = walk_to_update_register(sign_in, demo_clock)
    sig = signature(demo_lf, demo_clock, tmp_path, current, item)
    demo_lf.runtime.complete(officer(demo_lf, "branch.haichau"), item["id"], {}, signature=sig)
    did = current["id"]
    (seq,) = [q for q, t, p in events(demo_lf, did) if t == "completed" and "signature" in p]
    sign_in_page(client, "desk.haichau")
    with decision._issuing:  # the page must not wait for the record either
        page = client.get(f"/dossiers/{did}").get_data(as_text=True)
    assert f'data-decision="{seq}" data-pending="1"' in page and "đang phát hành" in page
    records_issued(app)
    assert records(demo_lf, did) == [seq, seq, seq]  # the decision record, the register page, the issuance entry
    page = client.get(f"/dossiers/{did}").get_data(as_text=True)
    assert f'data-decision="{seq}"' in page and "data-pending" not in page
    for kind, title in (("register_page", "Trang Sổ địa chính đã chỉnh lý"),
                        ("issuance_record", "Trang Sổ cấp Giấy chứng nhận")):  # the step's documents, linked
        assert f'data-result="{kind}"' in page and title in page
        pdf = client.get(f"/dossiers/{did}/results/{kind}/{seq}.pdf")
        assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert client.get(f"/dossiers/{did}/results/deed/{seq}.pdf").status_code == 404
    assert item_at(current, "update_register")["id"] == item["id"]
