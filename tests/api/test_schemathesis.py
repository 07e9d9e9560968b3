"""schemathesis over every operation of /api/v1/openapi.json, through the real WSGI app and database.

Each operation gets generated requests (valid and invalid) signed in as one of several demo officers,
rotated so that both the allowed and the refused paths run. Checks: no 5xx, status codes, content
types, headers and bodies all as documented, invalid input rejected, unauthenticated calls refused.
"""

from __future__ import annotations

from datetime import timedelta
from itertools import cycle
from typing import Any

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.auths import AuthStorage
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from engine import accounts
from engine.bootstrap import Landflow
from engine.checkpoints import ensure_key
from engine.scheduler import checkpoint_now
from engine.scheduler.heartbeat import Heartbeat
from tests.conftest import officer

ACCOUNTS = ("desk.haichau", "branch.haichau", "supervisor", "auditor", "admin")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, negative_data_rejection]
EXAMPLES = 40
MINIMUM = 1000


def seed_dossiers(lf: Landflow) -> None:
    """A few dossiers at different stages and a signed checkpoint, so that generated ids, filters and
    the audit operations find something."""
    desk, branch = officer(lf, "desk.haichau"), officer(lf, "branch.haichau")
    for n in range(3):
        st_ = lf.runtime.open(desk, "land_transfer", "20242", {"name": f"Người nộp {n}"}, {"number": str(n)})
        if n:
            item = st_.open_items()[0]
            st_ = lf.runtime.complete(desk, item.id or 0, {"decision": "accept", "kind": "transfer"})
        if n == 2:
            lf.runtime.transfer(branch, st_.open_items()[0].id or 0, "sai địa bàn", to_unit="CN-KV12")
    ensure_key(lf.settings.checkpoint_key)
    assert checkpoint_now(lf) == 1
    Heartbeat.of_this_process(lf.db).beat()  # a scheduler runs: /health/ready answers 200, not 503


def test_every_operation_conforms_to_the_schema(app: Flask, demo_lf: Landflow) -> None:
    seed_dossiers(demo_lf)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    # a schema-violating value can make the URL longer than the server takes: 414 rejects it too
    rejection = schema.config.checks.negative_data_rejection
    rejection.expected_statuses = [*rejection.expected_statuses, "414"]
    storage = AuthStorage()
    who = cycle(ACCOUNTS)

    @storage.auth(refresh_interval=None)
    class Tokens:
        """A fresh token per case (a case may revoke its own), for the next account in turn."""

        def get(self, case: Any, context: Any) -> str:
            token, _ = accounts.issue_token(demo_lf.db, next(who), demo_lf.clock.now(), timedelta(hours=1))
            return token

        def set(self, case: Any, data: str, context: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    sent: dict[str, int] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    for operation in operations:
        strategy = st.one_of(
            operation.as_strategy(schemathesis.GenerationMode.POSITIVE, auth_storage=storage),
            operation.as_strategy(schemathesis.GenerationMode.NEGATIVE, auth_storage=storage))

        @given(case=strategy)
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            sent[case.operation.label] = sent.get(case.operation.label, 0) + 1
            case.call_and_validate(checks=CHECKS)

        run()
    assert set(sent) == {op.label for op in operations}
    print(f"schemathesis: {sum(sent.values())} requests over {len(sent)} operations")
    assert sum(sent.values()) >= MINIMUM, sent
