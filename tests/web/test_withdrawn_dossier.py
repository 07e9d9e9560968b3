"""Issue 12, defect 4: a cancelled or stopped dossier's page said "hoàn thành đúng hạn"; it is neither on
time nor late (as the KPI counts it)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from engine.bootstrap import Landflow
from tests.web.conftest import sign_in_page


@pytest.mark.parametrize("end,phrase", [
    ("cancel", "đã hủy: không tính đúng hạn hay trễ hạn"),
    ("stop", "đã dừng theo đề nghị của người nộp: không tính đúng hạn hay trễ hạn"),
])
def test_a_withdrawn_dossier_is_not_shown_as_finished_on_time(client: FlaskClient, demo_lf: Landflow, end: str,
                                                              phrase: str) -> None:
    desk = demo_lf.directory.get().officers["desk.haichau"]
    st = demo_lf.runtime.open(desk, "land_transfer", "20242", {"name": "Trần Văn Bảy"}, {}, {})
    getattr(demo_lf.runtime, end)(desk, st.id, "Người nộp rút hồ sơ")
    sign_in_page(client, "desk.haichau")
    page = client.get(f"/dossiers/{st.id}").get_data(as_text=True)
    assert phrase in page
    assert "hoàn thành đúng hạn" not in page and "deadline-on_time" not in page
