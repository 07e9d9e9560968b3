"""Receipts anyone can verify: a receipt issued through the app, its proof fetched from the public API, checked
offline by `landflow verify-slip` with only the published key; a changed byte and a chain edited in the
database after the checkpoint are refused, naming where; the public page answers in Vietnamese, with
nothing personal."""

from __future__ import annotations

import hashlib
import io
import json
import re
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from flask.testing import FlaskClient

from api.cli import main
from engine.bootstrap import Landflow
from engine.checkpoints import create_checkpoint, ensure_key, public_path
from engine.signatures import read_private_key
from tests.api.test_lookup import PERSONAL, received, visible
from tests.support.tamper import rewrite_chain


def issue_receipt(sign_in: Any, demo_lf: Landflow) -> tuple[dict[str, Any], bytes]:
    d = received(sign_in)
    resp = sign_in("desk.haichau").post(f"/api/v1/dossiers/{d['id']}/slips/receipt")
    assert resp.status_code == 200
    return d, resp.data


def checkpoint(lf: Landflow) -> Path:
    path = lf.settings.checkpoint_key
    ensure_key(path)
    create_checkpoint(lf.db, read_private_key(path), lf.clock.now())
    return public_path(path)


def verify_slip(tmp_path: Path, pdf: bytes, bundle: Any, key: Path) -> Any:
    (tmp_path / "slip.pdf").write_bytes(pdf)
    (tmp_path / "bundle.json").write_text(json.dumps(bundle), encoding="utf-8")
    return CliRunner().invoke(main, ["verify-slip", str(tmp_path / "slip.pdf"), "--proof",
                                     str(tmp_path / "bundle.json"), "--key", str(key)])


def test_a_genuine_receipt_verifies_offline_and_a_changed_byte_does_not(
        client: FlaskClient, sign_in: Any, demo_lf: Landflow, tmp_path: Path) -> None:
    d, pdf = issue_receipt(sign_in, demo_lf)
    sha = hashlib.sha256(pdf).hexdigest()
    pending = client.get(f"/api/v1/public/proof/{sha}")
    assert pending.status_code == 200 and pending.json is not None and pending.json["checkpoint"] is None
    ensure_key(demo_lf.settings.checkpoint_key)
    early = verify_slip(tmp_path, pdf, pending.json, public_path(demo_lf.settings.checkpoint_key))
    assert early.exit_code != 0 and "NOT YET COVERED" in early.output
    key = checkpoint(demo_lf)
    demo_lf.clock.advance(minutes=10)  # type: ignore[attr-defined]
    bundle = client.get(f"/api/v1/public/proof/{sha}").json
    assert bundle is not None and bundle["checkpoint"]["id"] == 1 and bundle["code"] == d["code"]
    ok = verify_slip(tmp_path, pdf, bundle, key)
    assert ok.exit_code == 0, ok.output
    assert "GENUINE" in ok.output and "Merkle root" in ok.output and "Ed25519" in ok.output

    changed = bytearray(pdf)
    changed[len(changed) // 2] ^= 0x01
    bad = verify_slip(tmp_path, bytes(changed), bundle, key)
    assert bad.exit_code != 0 and "NOT GENUINE (file)" in bad.output
    assert client.get(f"/api/v1/public/proof/{hashlib.sha256(bytes(changed)).hexdigest()}").status_code == 404
    assert client.get("/api/v1/public/proof/nothex").status_code == 400


def test_a_chain_edited_in_the_database_after_the_checkpoint_is_refused_naming_where(
        client: FlaskClient, sign_in: Any, demo_lf: Landflow, tmp_path: Path) -> None:
    d, pdf = issue_receipt(sign_in, demo_lf)
    sha = hashlib.sha256(pdf).hexdigest()
    key = checkpoint(demo_lf)

    def rename(seq: int, etype: str, payload: dict[str, Any]) -> dict[str, Any]:
        if etype == "opened":  # the applicant's name, as the opening recorded it
            dossier = payload["fx"]["dossier"]
            return {**payload, "fx": {**payload["fx"], "dossier": {
                **dossier, "applicant": {**dossier["applicant"], "name": "Trần Văn Giả"}}}}
        return payload

    rewrite_chain(demo_lf.db, d["id"], rename)  # consistent again: every hash recomputed
    bundle = client.get(f"/api/v1/public/proof/{sha}").json
    out = verify_slip(tmp_path, pdf, bundle, key)
    assert out.exit_code != 0 and "NOT GENUINE (chain)" in out.output
    assert f"dossier {d['id']}" in out.output and "changed after checkpoint 1" in " ".join(out.output.split())
    page = client.get("/xac-thuc", query_string={"h": sha})
    assert page.status_code == 200 and 'data-verdict="changed"' in page.get_data(as_text=True)
    assert "đã bị thay đổi" in visible(page.get_data(as_text=True))


def test_the_public_page_says_genuine_or_not_found_in_vietnamese_and_nothing_personal(
        client: FlaskClient, sign_in: Any, demo_lf: Landflow) -> None:
    d, pdf = issue_receipt(sign_in, demo_lf)
    sha = hashlib.sha256(pdf).hexdigest()
    checkpoint(demo_lf)
    page = client.get("/xac-thuc", query_string={"h": sha})
    html = page.get_data(as_text=True)
    text = visible(html)
    assert page.status_code == 200 and 'data-verdict="genuine"' in html
    assert "Giấy tờ này là thật" in text and "Giấy tiếp nhận hồ sơ và hẹn trả kết quả" in text
    assert d["code"] in text
    for value in (*PERSONAL, "Nguyễn Văn An"):
        assert value not in text
    for o in demo_lf.directory.get().officers.values():
        assert o.name not in text
    missing = client.get("/xac-thuc", query_string={"h": "0" * 64})
    assert missing.status_code == 404 and "Không tìm thấy" in visible(missing.get_data(as_text=True))
    assert client.get("/xac-thuc", query_string={"h": "xyz"}).status_code == 400

    # the PDF itself, uploaded from a phone: hashed, the page of its SHA-256
    form = client.get("/xac-thuc").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert csrf is not None
    resp = client.post("/xac-thuc", data={"csrf_token": csrf.group(1), "file": (io.BytesIO(pdf), "slip.pdf")},
                       content_type="multipart/form-data")
    assert resp.status_code == 303 and sha in resp.headers["Location"]

    # the lookup page (the receipt's QR) links the receipt's proof
    lookup = client.get("/tra-cuu", query_string={"ma": d["code"], "so": "1234"}).get_data(as_text=True)
    assert f"/xac-thuc?h={sha}" in lookup


def test_after_the_cli_rotates_the_checkpoint_key_an_old_receipt_still_verifies_with_the_key_history(
        client: FlaskClient, sign_in: Any, demo_lf: Landflow, tmp_path: Path, monkeypatch: Any) -> None:
    from engine.checkpoints import verify_checkpoints, verifying_ring
    from engine.keyhistory import history_path

    _d, pdf = issue_receipt(sign_in, demo_lf)
    sha = hashlib.sha256(pdf).hexdigest()
    old_pub = checkpoint(demo_lf).read_text()
    bundle = client.get(f"/api/v1/public/proof/{sha}").json
    monkeypatch.setenv("LANDFLOW_VAR_DIR", str(demo_lf.settings.var_dir))
    monkeypatch.delenv("LANDFLOW_CHECKPOINT_KEY", raising=False)
    out = CliRunner().invoke(main, ["keys", "rotate-checkpoint"])
    assert out.exit_code == 0, out.output
    history = history_path(demo_lf.settings.checkpoint_key)
    assert history.exists() and public_path(demo_lf.settings.checkpoint_key).read_text() != old_pub
    from datetime import UTC, datetime, timedelta

    # the command rotates on the wall clock: the next checkpoint is signed after it, with the new key
    create_checkpoint(demo_lf.db, read_private_key(demo_lf.settings.checkpoint_key),
                      datetime.now(UTC) + timedelta(minutes=1))
    assert verify_slip(tmp_path, pdf, bundle, history).exit_code == 0  # signed by the old key, in its time
    located = verify_slip(tmp_path, pdf, bundle, public_path(demo_lf.settings.checkpoint_key))
    assert located.exit_code != 0 and "unknown key" in located.output  # only the new key: named, not lost
    with demo_lf.db.read() as s:
        assert verify_checkpoints(s, verifying_ring(demo_lf.settings.checkpoint_key)).ok
    page = client.get("/xac-thuc", query_string={"h": sha}).get_data(as_text=True)
    assert 'data-verdict="genuine"' in page  # the page reads the key history too


def test_the_kpi_page_shows_publicity_next_to_satisfaction(client: FlaskClient, sign_in: Any,
                                                          demo_lf: Landflow) -> None:
    from tests.web.conftest import sign_in_page

    issue_receipt(sign_in, demo_lf)
    received(sign_in)  # a second dossier, without its receipt
    checkpoint(demo_lf)
    sign_in_page(client, "auditor")
    page = client.get("/audit/kpi")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-table="kpi-publicity"' in html
    assert html.index("kpi-satisfaction") < html.index("kpi-publicity")
    assert "Công khai với người nộp hồ sơ" in visible(html)
    rows = client.get("/audit/kpi", query_string={"csv": "kpi-publicity"}).get_data(as_text=True).splitlines()
    haichau = next(r for r in rows if r.startswith("20242,"))
    assert haichau.split(",")[2:6] == ["2", "1", "0.5", "0"]  # received, receipts, share, delayed


def test_the_documented_recipe_with_standard_tools_checks_a_receipt(client: FlaskClient, sign_in: Any,
                                                                    demo_lf: Landflow, tmp_path: Path) -> None:
    """docs/citizen.md's block after `<!-- recipe -->`, run as written with bash, sha256sum, python3, openssl."""
    import subprocess

    from config.settings import ROOT

    doc = (ROOT / "docs" / "citizen.md").read_text(encoding="utf-8")
    recipe = doc.split("<!-- recipe -->", 1)[1].split("```sh\n", 1)[1].split("\n```", 1)[0]
    _d, pdf = issue_receipt(sign_in, demo_lf)
    key = checkpoint(demo_lf)
    bundle = client.get(f"/api/v1/public/proof/{hashlib.sha256(pdf).hexdigest()}").get_data()
    for name, data in (("slip.pdf", pdf), ("bundle.json", bundle), ("checkpoint.pem.pub", key.read_bytes())):
        (tmp_path / name).write_bytes(data)
    run = subprocess.run(["bash", "-e", "-c", recipe], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    for line in ("1 file ok", "2 chain ok", "3 root ok", "Signature Verified Successfully"):
        assert line in run.stdout
    changed = bytearray(pdf)
    changed[100] ^= 1
    (tmp_path / "slip.pdf").write_bytes(bytes(changed))
    bad = subprocess.run(["bash", "-e", "-c", recipe], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "1 file ok" not in bad.stdout


def test_the_proof_page_and_the_rating_form_share_the_lookup_limit(client: FlaskClient) -> None:
    """Per client address, one counter: proofs (page and JSON), look-ups and the rating form (whose endpoint
    the limit once named wrongly, so the form was not limited)."""
    form = client.get("/xac-thuc").get_data(as_text=True)  # 1
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert csrf is not None
    codes = [client.get("/xac-thuc", query_string={"h": f"{n:064x}"}).status_code for n in range(13)]
    codes += [client.get(f"/api/v1/public/proof/{n:064x}").status_code for n in range(15)]
    assert codes == [404] * 28
    rated = client.post("/tra-cuu/danh-gia", data={"csrf_token": csrf.group(1), "ma": "X", "so": "1234",
                                                   "rating": "satisfied"})
    assert rated.status_code == 422  # the 30th request: still allowed
    assert client.post("/tra-cuu/danh-gia", data={"csrf_token": csrf.group(1), "ma": "X", "so": "1234",
                                                  "rating": "satisfied"}).status_code == 429
    assert client.get(f"/api/v1/public/proof/{0:064x}").status_code == 429
