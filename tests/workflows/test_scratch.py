from tests.workflows.conftest import *  # noqa
from tests.conftest import local

def test_scratch(desk, deploy, danang):
    deploy("land_transfer", "district_handover")
    desk.at(2026, 2, 5, 9, 0).open("desk.haichau", "district_handover", None)
    print(desk.dossier.commune, desk.current.step, desk.current.unit)
    desk.step("desk.haichau", "intake", {"legacy_code": "HV-2025-0042", "former_body": "Chi nhánh VPĐKĐĐ huyện Hòa Vang",
        "received_date": "2025-06-20", "old_commune": "xã Hoà Phong", "old_district": "huyện Hòa Vang",
        "target_procedure": "land_transfer", "reached_step": "kiểm tra hồ sơ", "days_spent": 3,
        "documents": "hợp đồng chuyển nhượng; GCN", "former_competence": "province"})
    print(desk.dossier.commune, desk.current.step, desk.current.unit)
    print(event_payloads(danang, desk.id, "completed"))
