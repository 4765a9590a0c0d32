"""Schemathesis over the whole OpenAPI document (issue 11): every operation, valid and invalid
requests, as a tenant admin; 0 server errors, and every response matches the schema the
document gives for its status (errors included: `{"error": {"code", "message"}}`). Bounded
for CI: a few examples per operation, derandomized, one SQLite world."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error, response_schema_conformance  # noqa: E402

EXAMPLES = 6


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, analyzer: Any) -> Any:
    here = Path(__file__).with_name("conftest.py").resolve()  # tests/server/conftest.py, loaded by pytest
    server = next(m for m in list(sys.modules.values())
                  if getattr(m, "__file__", None) and Path(m.__file__).resolve() == here)
    build_world, drop_world = server.build_world, server.drop_world
    # SQLite only and without rate limits: this is about HTTP handling and schemas
    world = build_world(tmp_path_factory.mktemp("anfu-conformance"), analyzer,
                        rate_limit_per_minute=0, rate_limit_ip_per_minute=0)
    agent = world.client("agent_a1")
    conv = agent.post("/api/v1/messages", json={"conversation_ref": "fuzz", "customer": {"phone": "13800001234"},
                                                "text": "停电三天了还没人来修！再不来我就打12345投诉！"}).json()
    agent.post("/api/v1/tickets", json={"conversation_id": conv["conversation"]["id"]})
    yield world
    drop_world(world)


def test_whole_document_no_server_errors_and_responses_match(seeded: Any) -> None:
    world = seeded
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", world.app)
    headers = {"Authorization": world.token_client("admin_a").headers["Authorization"]}
    operations = [result.ok() for result in schema.get_all_operations()]
    paths = {op.path for op in operations}
    assert len(operations) >= 60 and {"/tickets", "/alerts", "/webhooks", "/replies", "/users"} <= {
        p.removeprefix("/api/v1") for p in paths}
    failures: list[str] = []
    for operation in operations:
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=st.one_of(operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
                              operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)))
        def run(case: Any) -> None:
            response = case.call(headers=headers)
            try:
                case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
            except Exception as exc:  # schemathesis raises a group of check failures
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: "
                                f"{str(exc)[:300]}")
        run()
    assert failures == [], "\n".join(dict.fromkeys(failures))


def test_errors_are_documented_in_the_document(seeded: Any) -> None:
    document = seeded.app.openapi()
    ticket = document["paths"]["/api/v1/tickets/{ticket_id}"]["get"]["responses"]
    assert ticket["404"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorPublic")
    assert "HTTPValidationError" not in document["components"]["schemas"]
