"""A PII canary sent through the API never reaches the logs (access log, errors) unmasked."""

from __future__ import annotations

import logging
from typing import Any

PHONE = "13987654321"
ID_CARD = "11010519491231002X"


def test_canary_never_logged(world: Any, caplog: Any) -> None:
    client = world.client("agent_a1")
    with caplog.at_level(logging.DEBUG):
        r = client.post("/api/v1/messages", json={
            "conversation_ref": "pii-canary", "text": f"我的手机号是{PHONE}，身份证{ID_CARD}，快帮我查查！",
            "customer": {"phone": PHONE}})
        assert r.status_code == 201
        client.get("/api/v1/conversations", params={"channel": PHONE})
        client.get(f"/api/v1/customers/{PHONE}/timeline")  # a PII value in a bad path
        client.post("/api/v1/messages", json={"text": PHONE, "colour": ID_CARD})
    logged = "\n".join(r.getMessage() for r in caplog.records) + caplog.text
    assert "/api/v1/conversations?channel=" in logged  # the access log did record the request
    assert PHONE not in logged and ID_CARD not in logged
    # error bodies do not echo the offending values either
    bad = client.post("/api/v1/messages", json={"text": PHONE, "colour": ID_CARD})
    assert ID_CARD not in bad.text
