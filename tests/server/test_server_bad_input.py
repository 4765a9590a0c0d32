from __future__ import annotations

from typing import Any

import pytest

GOOD = {"text": "电费怎么这么高？", "conversation_ref": "bad-input"}


@pytest.mark.parametrize("method, path, kwargs, status, code", [
    ("post", "/api/v1/messages", {"content": b'{"text": "\xe7\x94"}', "headers": {"content-type": "application/json"}}, 400, "AF433"),
    ("post", "/api/v1/messages", {"content": b'{"text": "abc"', "headers": {"content-type": "application/json"}}, 400, "AF430"),
    ("post", "/api/v1/messages", {"json": {**GOOD, "colour": "red"}}, 422, "AF431"),
    ("post", "/api/v1/messages", {"json": {**GOOD, "speaker": "robot"}}, 422, "AF431"),
    ("post", "/api/v1/messages", {"json": {"conversation_ref": "x"}}, 422, "AF431"),
    ("post", "/api/v1/messages", {"json": {**GOOD, "text": "   "}}, 422, "AF004"),
    ("post", "/api/v1/messages", {"json": {"text": "x" * 2_000_000}}, 413, "AF432"),
    ("post", "/api/v1/messages", {"content": '{"text": "停电了"}'.encode("gb18030"),
                                  "headers": {"content-type": "application/json"}}, 400, "AF433"),
    ("post", "/api/v1/messages", {"content": '{"text": "停电了"}'.encode("gb18030"),
                                  "headers": {"content-type": "application/json; charset=gb18030"}}, 415, "AF433"),
    ("post", "/api/v1/messages", {"json": {"conversation_id": 987654, "text": "你好"}}, 404, "AF503"),
    ("post", "/api/v1/messages", {"json": [1, 2, 3]}, 422, "AF431"),
    ("get", "/api/v1/conversations/987654", {}, 404, "AF503"),
    ("get", "/api/v1/conversations/abc", {}, 422, "AF431"),
    ("get", "/api/v1/conversations?page=0", {}, 422, "AF431"),
    ("get", "/api/v1/customers/987654/timeline", {}, 404, "AF503"),
    ("get", "/api/v1/nothing-here", {}, 404, "AF434"),
    ("delete", "/api/v1/conversations/1", {}, 405, "AF435"),
    ("post", "/api/v1/analyze", {"json": {"turns": []}}, 422, "AF431"),
    ("post", "/api/v1/check-reply", {"json": {"text": "好的", "conversation_id": 987654}}, 404, "AF503"),
    ("post", "/api/v1/intake/email", {"files": {"file": ("a.eml", b"")}}, 422, "AF442"),
    ("post", "/api/v1/intake/email", {"files": {"file": ("a.eml", b"hello there")}}, 422, "AF030"),
    ("post", "/api/v1/intake/table", {"files": {"file": ("a.csv", "会话ID,内容\nT1,你好\n".encode())}}, 422, "AF033"),
    ("post", "/api/v1/intake/table", {"files": {"file": ("a.csv", "会话ID,角色,内容\nT1,客户,你好\n".encode("gb18030"))}},
     400, "AF031"),
    ("post", "/api/v1/intake/transcript", {"files": {"file": ("a.srt", b"1\nnot a time\n")}}, 422, "AF030"),
    ("post", "/api/v1/intake/table", {"files": {"file": ("a.pdf", b"%PDF-1.4")}}, 422, "AF012"),
])
def test_bad_input_is_4xx_with_a_code(world: Any, method: str, path: str, kwargs: dict, status: int, code: str) -> None:
    response = getattr(world.client("agent_a1"), method)(path, **kwargs)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert "Traceback" not in response.text


def test_upload_limit_is_separate_and_bounded(make_world: Any) -> None:
    small = make_world()
    small.app.state.ctx  # the default upload limit is 20 MB; a 21 MB upload is refused unread
    big = b"a" * 21_000_000
    r = small.client("agent_a1").post("/api/v1/intake/table", files={"file": ("big.csv", big)})
    assert r.status_code == 413 and r.json()["error"]["code"] == "AF432"
