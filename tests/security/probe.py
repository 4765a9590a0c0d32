"""What the adversarial probes (tests/security/test_probe_*.py) share: a realistic complaint, a
browser's Accept header, reading a refusal's AF code, counting rows, and making a conversation or
a ticket through the API. One copy, so that a probe written tomorrow reads refusals the same way."""

from __future__ import annotations

import itertools
import re
from typing import Any

from sqlalchemy import text

# A customer's first turn: a billing complaint with a phone number (PII) and a complaint threat.
COMPLAINT = "电费账单异常，要求核实！上个月莫名多扣了两百块，我的手机号13912345678，再不处理我就打12345投诉！"
# What a browser sends: the app answers pages, not JSON.
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
CODED = re.compile(r"AF\d{3}")
_REFS = itertools.count(1)


def code_of(reply: Any) -> str | None:
    """The AF code of a refusal: the JSON error's, or the first one an error page shows."""
    try:
        return str(reply.json()["error"]["code"])
    except Exception:  # noqa: BLE001 - an HTML page (or no body): the code is in its text
        found = CODED.search(reply.text)
        return found.group(0) if found else None


def coded(reply: Any, status: int, code: str) -> None:
    """Assert the refusal `status` with `code`, and no traceback."""
    assert reply.status_code == status, (reply.status_code, reply.text[:400])
    assert code_of(reply) == code, reply.text[:400]
    assert "Traceback" not in reply.text


def count(world: Any, sql: str, **params: Any) -> int:
    """One number from the world's database (rows written, rows left)."""
    with world.store.engine.connect() as conn:
        return int(conn.execute(text(sql), params).scalar() or 0)


def conversation(world: Any, agent: str = "agent_a1", prefix: str = "probe",
                 first: str = COMPLAINT) -> int:
    """A new conversation with one customer turn, posted as `agent`; its id."""
    return world.conversation(agent, f"{prefix}-{next(_REFS)}", [("customer", first)])


def ticket(world: Any, agent: str = "agent_a1", prefix: str = "probe", first: str = COMPLAINT) -> dict[str, Any]:
    """A ticket on a new conversation, made by `agent` through the API; its JSON."""
    made = world.client(agent).post("/api/v1/tickets",
                                    json={"conversation_id": conversation(world, agent, prefix, first)})
    assert made.status_code == 201, made.text
    return made.json()


def resolved_ticket(world: Any, ref: str, first: str, agent: str = "agent_a1") -> tuple[int, str]:
    """A ticket on a new conversation `ref` (one customer turn `first`), taken through the stages and
    resolved by `agent`; its id and its survey (回访) link's token."""
    client = world.client(agent)
    msg = client.post("/api/v1/messages", json={"conversation_ref": ref, "text": first})
    assert msg.status_code == 201, msg.text
    made = client.post("/api/v1/tickets", json={"conversation_id": msg.json()["conversation"]["id"]}).json()
    url = f"/api/v1/tickets/{made['id']}"
    for stage in ("确认问题", "提供方案", "执行方案"):
        assert client.post(f"{url}/stage", json={"to": stage}).status_code == 200
    assert client.post(f"{url}/resolve", json={"note": "已恢复供电"}).json()["status"] == "resolved"
    link = client.get(f"{url}/survey-link").json()["url"]
    return made["id"], link.rsplit("/", 1)[1]
