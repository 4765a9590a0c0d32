"""The service's scheduler runs inside the app (issue 11): while the app runs, a customer left
without an answer is escalated on time ("customer waiting"), with no further message, and due
webhook deliveries go out."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any

from fastapi.testclient import TestClient


def test_waiting_alert_fires_while_the_app_runs(make_world: Any) -> None:
    world = make_world(scheduler_interval_s=0.1)
    sent = (datetime.now(timezone.utc) - timedelta(minutes=12)).isoformat()
    r = world.client("agent_a1").post("/api/v1/messages", json={
        "conversation_ref": "waiting-1", "text": "请问我的工单处理到哪一步了？", "sent_at": sent})
    assert r.status_code == 201, r.text
    conv = r.json()["conversation"]["id"]
    assert r.json()["conversation"]["escalation_level"] == 0
    with TestClient(world.app):  # runs the lifespan, hence the scheduler
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and world.store.get_conversation(conv).escalation_level == 0:
            time.sleep(0.1)
    assert world.store.get_conversation(conv).escalation_level == 1
    alerts = world.client("sup_a1").get("/api/v1/alerts", params={"conversation_id": conv}).json()["items"]
    assert len(alerts) == 1 and "等待" in alerts[0]["reasons"][0]


def test_scheduler_off(make_world: Any) -> None:
    world = make_world(scheduler_interval_s=0)
    sent = (datetime.now(timezone.utc) - timedelta(minutes=12)).isoformat()
    conv = world.client("agent_a1").post("/api/v1/messages", json={
        "conversation_ref": "waiting-2", "text": "请问我的工单处理到哪一步了？",
        "sent_at": sent}).json()["conversation"]["id"]
    with TestClient(world.app):
        time.sleep(0.5)
    assert world.store.get_conversation(conv).escalation_level == 0
    # one tick by hand does what the scheduler would
    assert world.ctx.services.run_scheduled() == {"raised": 1, "sla": 0, "deliveries": 0}
    assert world.store.get_conversation(conv).escalation_level == 1
