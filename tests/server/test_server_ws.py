from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import WebSocketDenialResponse

ORIGIN = {"origin": "http://testserver"}


def receive_until(ws: Any, kind: str, limit: int = 20) -> dict[str, Any]:
    for _ in range(limit):
        frame = ws.receive_json()
        if frame["type"] == kind:
            return frame
    raise AssertionError(f"no {kind} frame")


def test_agent_socket_live_assessment_and_draft(world: Any) -> None:
    client = world.client("agent_a1")
    with client.websocket_connect("/ws/agent", headers=ORIGIN) as ws:
        assert ws.receive_json()["type"] == "hello"
        ws.send_json({"type": "message", "conversation_ref": "ws-1", "client_msg_id": "ws-1-a",
                      "text": "我在你们店买的冰箱坏了三次了，再不给我换新的我就去12315投诉！"})
        reply = ws.receive_json()
        assert reply["type"] == "assessment" and reply["created"] is True and reply["seq"] == 1
        live = reply["assessment"]
        assert live["emotion"] in ("angry", "dissatisfied") and live["intensity"] >= 2
        assert live["escalation"]["level"] >= 1 and live["suggestions"]
        assert {"trajectory", "persona", "sop_stage"} <= set(live) and reply["server_ms"] > 0
        cid = reply["conversation_id"]
        ws.send_json({"type": "draft", "conversation_id": cid, "text": "你自己没看说明书吧，这不归我们管。"})
        presend = ws.receive_json()
        assert presend["type"] == "presend" and presend["result"]["violation"] is True
        assert presend["result"]["rewrite"] and presend["result"]["context"]["customer_text"].startswith("我在你们店")
        # a retry of the same message is answered from the store, not stored twice
        ws.send_json({"type": "message", "conversation_id": cid, "client_msg_id": "ws-1-a",
                      "text": "我在你们店买的冰箱坏了三次了，再不给我换新的我就去12315投诉！"})
        again = ws.receive_json()
        assert again["created"] is False and again["message_id"] == reply["message_id"]
        ws.send_json({"type": "ping"})
        assert ws.receive_json() == {"type": "pong"}


@pytest.mark.parametrize("frame, code", [
    ("not json", "AF430"), ("[1, 2]", "AF430"), ('{"type": "dance"}', "AF441"),
    ('{"type": "message", "text": "你好", "colour": "red"}', "AF431"),
    ('{"type": "message", "conversation_id": 999999, "text": "你好"}', "AF503"),
    ('{"type": "join", "conversation_id": 1}', "AF441"),
])
def test_bad_frames_get_coded_errors_and_socket_stays_open(world: Any, frame: str, code: str) -> None:
    with world.client("agent_a2").websocket_connect("/ws/agent", headers=ORIGIN) as ws:
        ws.receive_json()
        ws.send_text(frame)
        error = ws.receive_json()
        assert error["type"] == "error" and error["error"]["code"] == code
        ws.send_json({"type": "ping"})
        assert ws.receive_json()["type"] == "pong"


def test_origin_and_authentication_are_checked(world: Any) -> None:
    with pytest.raises(WebSocketDenialResponse) as denied:
        with world.client("agent_a1").websocket_connect("/ws/agent", headers={"origin": "https://evil.example"}):
            pass
    assert denied.value.status_code == 403 and denied.value.json()["error"]["code"] == "AF438"
    with pytest.raises(WebSocketDenialResponse) as missing:
        with world.client("agent_a1").websocket_connect("/ws/agent"):
            pass
    assert missing.value.json()["error"]["code"] == "AF438"
    with pytest.raises(WebSocketDenialResponse) as anonymous:
        with world.client().websocket_connect("/ws/agent", headers=ORIGIN):
            pass
    assert anonymous.value.status_code == 401 and anonymous.value.json()["error"]["code"] == "AF437"
    with pytest.raises(WebSocketDenialResponse) as agent_as_supervisor:
        with world.client("agent_a1").websocket_connect("/ws/supervisor", headers=ORIGIN):
            pass
    assert agent_as_supervisor.value.json()["error"]["code"] == "AF417"
    # an integration with an API token needs no Origin
    with world.token_client("sup_a1").websocket_connect("/ws/agent") as ws:
        assert ws.receive_json()["type"] == "hello"


def test_supervisor_alerts_join_and_take_over(world: Any) -> None:
    agent = world.client("agent_a1b")
    with world.client("sup_a1").websocket_connect("/ws/supervisor", headers=ORIGIN) as sup, \
            world.client("sup_a2").websocket_connect("/ws/supervisor", headers=ORIGIN) as other_team, \
            agent.websocket_connect("/ws/agent", headers=ORIGIN) as ws:
        assert sup.receive_json()["type"] == "hello"
        assert other_team.receive_json()["type"] == "hello"
        ws.receive_json()
        ws.send_json({"type": "message", "conversation_ref": "ws-alert", "client_msg_id": "alert-1",
                      "text": "你们这是欺诈！我已经联系了记者，明天就曝光你们，还要去法院起诉！"})
        cid = receive_until(ws, "assessment")["conversation_id"]
        alert = receive_until(sup, "alert")
        assert alert["conversation"]["id"] == cid and alert["level"] >= 1 and alert["name"] == "escalation.raised"
        sup.send_json({"type": "join", "conversation_id": cid})
        joined = receive_until(sup, "joined")
        assert [m["client_msg_id"] for m in joined["messages"]] == ["alert-1"]
        assert receive_until(ws, "supervisor_joined")["conversation_id"] == cid  # the agent is told
        ws.send_json({"type": "message", "conversation_id": cid, "speaker": "agent", "client_msg_id": "alert-2",
                      "text": "非常抱歉给您带来这么大的困扰，我马上为您升级处理。"})
        receive_until(ws, "assessment")
        turn = receive_until(sup, "turn")
        assert turn["message"]["client_msg_id"] == "alert-2" and "assessment" in turn
        sup.send_json({"type": "take_over", "conversation_id": cid})
        assert receive_until(sup, "taken_over")["conversation"]["taken_over_by"] == world.users["sup_a1"].id
        assert receive_until(ws, "taken_over")["conversation_id"] == cid
        ws.send_json({"type": "message", "conversation_id": cid, "speaker": "agent", "client_msg_id": "alert-3",
                      "text": "我再帮您看看。"})
        refused = receive_until(ws, "error")
        assert refused["error"]["code"] == "AF417" and refused["ref"] == "alert-3"
        sup.send_json({"type": "message", "conversation_id": cid, "speaker": "agent", "client_msg_id": "alert-4",
                       "text": "您好，我是值班长，这件事由我亲自为您处理，今天下午五点前给您答复。"})
        assert receive_until(sup, "assessment")["created"] is True
        other_team.send_json({"type": "ping"})
        # the other team's supervisor heard nothing about this conversation
        assert other_team.receive_json() == {"type": "pong"}
    actions = [e.action for e in world.store.list_audit(_admin(world), page_size=200).items]
    assert "conversation.joined" in actions and "conversation.taken_over" in actions


def _admin(world: Any) -> Any:
    from anfu.store import Principal

    return Principal.of_user(world.users["admin_a"])


def test_closed_sockets_leave_the_hub(world: Any) -> None:
    with world.client("sup_a1").websocket_connect("/ws/supervisor", headers=ORIGIN) as sup, \
            world.client("agent_a1").websocket_connect("/ws/agent", headers=ORIGIN) as ws:
        sup.receive_json()
        ws.receive_json()
        assert world.ctx.hub.subscribers == 2
    assert world.ctx.hub.subscribers == 0
