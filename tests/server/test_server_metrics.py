"""`GET /metrics` (Prometheus) counts requests by route template, turns and alerts, and reads
the live gauges; JSON logs are one object per line with personal data masked."""

from __future__ import annotations

import io
import json
import re
import logging
from typing import Any



def _value(text: str, line_start: str) -> float:
    for line in text.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{line_start} not in metrics:\n{text[:2000]}")


def test_metrics_count_requests_turns_and_alerts(make_world: Any) -> None:
    world = make_world()

    agent = world.client("agent_a1")
    r = agent.post("/api/v1/messages", json={"conversation_ref": "m-1", "text": "停电三天了还没人来修！！！再不来我就打12345投诉！"})
    assert r.status_code == 201
    cid = r.json()["conversation"]["id"]
    agent.post("/api/v1/messages", json={"conversation_id": cid, "text": "你们到底管不管？气死我了！"})
    assert agent.get(f"/api/v1/conversations/{cid}").status_code == 200
    assert agent.get("/api/v1/conversations/999999").status_code == 404
    body = world.client().get("/metrics")
    assert body.status_code == 200 and body.headers["content-type"].startswith("text/plain")
    text = body.text
    assert _value(text, 'anfu_http_requests_total{method="POST",route="/api/v1/messages",status="201"}') == 2
    assert _value(text, 'anfu_http_requests_total{method="GET",route="/api/v1/conversations/{conversation_id}",status="404"}') == 1
    assert _value(text, 'anfu_http_request_duration_seconds_count{method="POST",route="/api/v1/messages"}') == 2
    assert _value(text, "anfu_turns_analysed_total") == 2
    assert _value(text, "anfu_alerts_raised_total") >= 1  # level ≥ 1 raised by the first turn
    assert _value(text, "anfu_ws_subscribers") == 0
    routes = set(re.findall(r'route="([^"]*)"', text))
    assert "/api/v1/messages" in routes
    assert not [r for r in routes if re.search(r"/\d", r)], routes  # route templates, never ids


def test_json_logs_are_masked() -> None:
    from anfu.server.observability import JsonFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("anfu.test.jsonlog")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("客户 %s 来电，身份证 %s", "13812345678", "110101199003074514", extra={"phone": "13987654321"})
    finally:
        logger.removeHandler(handler)
    line = stream.getvalue().strip()
    record = json.loads(line)
    assert record["level"] == "warning" and record["logger"] == "anfu.test.jsonlog"
    for secret in ("13812345678", "110101199003074514", "13987654321"):
        assert secret not in line
    assert "phone" in record and record["ts"].endswith("+00:00")
