"""Property-based fuzzing of every documented operation (schemathesis): no request the
schema allows, nor the negative ones it generates, gets a 5xx. Kept small to stay fast."""

from __future__ import annotations

from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402

MAX_EXAMPLES = 8


@pytest.fixture(scope="module")
def fuzz_world(sqlite_world: Any) -> Any:
    # the fuzzing is about HTTP handling, not the database: SQLite only, to stay fast
    world = sqlite_world
    client = world.client("agent_a1")
    client.post("/api/v1/messages", json={"conversation_ref": "fuzz", "text": "退款怎么还没到？",
                                          "customer": {"phone": "13800001234"}})
    return world


def test_no_server_errors(fuzz_world: Any) -> None:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", fuzz_world.app)
    token_client = fuzz_world.token_client("admin_a")
    headers = {"Authorization": token_client.headers["Authorization"]}
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:
        @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=st.one_of(operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
                              operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)))
        def run(case: Any) -> None:
            response = case.call(headers=headers)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: "
                                f"{response.text[:200]}")
            elif response.status_code >= 400:
                body = response.json()
                assert body["error"]["code"].startswith("AF"), (case.method, case.formatted_path, body)
        run()
    assert failures == []
