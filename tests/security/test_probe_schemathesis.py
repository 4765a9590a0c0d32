"""Probe: schemathesis over the whole API, on SQLite and (with ANFU_TEST_POSTGRES_URL) PostgreSQL,
as a tenant admin and as an agent — no request, valid or not, gets a 5xx (issue 12). Larger than
the smoke run in tests/server; ANFU_PROBE_EXAMPLES sets the examples per operation (8 in CI)."""

from __future__ import annotations

import os
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402

EXAMPLES = int(os.environ.get("ANFU_PROBE_EXAMPLES", "8"))  # CI time; 50+ for a deeper run


# Both roles on SQLite; on PostgreSQL the admin, who reaches most operations (the agent-only ones,
# such as wellbeing check-ins, are fuzzed on SQLite): CI time.
@pytest.mark.parametrize("probe_engine, who", [("sqlite", "admin_a"), ("sqlite", "agent_a1"), ("postgresql", "admin_a")],
                         indirect=["probe_engine"])
def test_no_server_errors_anywhere(make_world: Any, who: str) -> None:
    world = make_world(rate_limit_per_minute=0, rate_limit_ip_per_minute=0)
    seed = world.client("agent_a1").post("/api/v1/messages", json={
        "conversation_ref": "fuzz", "text": "退款怎么还没到？我要投诉！", "customer": {"phone": "13800001234"}})
    assert seed.status_code == 201
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", world.app)
    headers = {"Authorization": world.token_client(who).headers["Authorization"]}
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=st.one_of(operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
                              operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)))
        def run(case: Any) -> None:
            response = case.call(headers=headers)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: "
                                f"{response.text[:200]}")
            elif response.status_code >= 400:
                assert response.json()["error"]["code"].startswith("AF"), (case.method, case.formatted_path)
        run()
    assert failures == []
