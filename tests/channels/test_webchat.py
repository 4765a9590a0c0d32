from __future__ import annotations

import json

import pytest

from anfu import registry
from anfu.errors import InputError


def adapter():
    return registry.channels.get("webchat.v1")()


def test_web_chat_message_with_customer_hints() -> None:
    payload = {"conversation_id": "chat-20240501-88", "speaker": "客户", "client_msg_id": "m-001",
               "text": "  在吗？我的快递三天了还没发货，到底什么时候能到？ ",
               "timestamp": "2024-05-01T09:30:00+08:00",
               "customer": {"name": "王女士", "phone": "13800138000"}}
    [thread] = adapter().read(payload)
    assert thread.key == "chat-20240501-88"
    assert thread.customer.phone == "13800138000" and thread.customer.name == "王女士"
    [u] = thread.utterances
    assert u.text == "在吗？我的快递三天了还没发货，到底什么时候能到？"
    assert u.speaker == "customer" and u.id == "m-001" and u.channel == "webchat"
    assert u.timestamp == 1714527000.0


def test_bytes_payload_and_agent_speaker() -> None:
    raw = json.dumps({"speaker": "坐席", "text": "您好，给您带来不便非常抱歉。"}, ensure_ascii=False).encode()
    [u] = adapter().parse(raw)
    assert u.speaker == "agent" and u.text.startswith("您好")


@pytest.mark.parametrize("payload, code", [
    (b"{\"text\": ", "AF001"),
    ({"text": "退款呢", "colour": "red"}, "AF030"),
    ({"text": "   "}, "AF004"),
    ({"text": 42}, "AF003"),
    ({"text": "退款呢", "speaker": "机器人"}, "AF007"),
    ({"text": "退款呢", "timestamp": "昨天下午"}, "AF032"),
    ({"text": "退款呢", "customer": "王女士"}, "AF030"),
    ("你好".encode("gb18030"), "AF031"),
    ([1, 2], "AF009"),
])
def test_bad_web_chat_payloads_are_coded(payload, code) -> None:
    with pytest.raises(InputError) as info:
        adapter().read(payload)
    assert info.value.code == code
