from __future__ import annotations

import json

import pytest

from anfu import registry
from anfu.channels.base import CustomerHints
from anfu.errors import InputError

CALL = {
    "call_id": "95598-20240501-0007",
    "started_at": "2024-05-01T09:30:00+08:00",
    "customer": {"name": "李先生", "phone": "13912345678"},
    "segments": [
        {"speaker": "坐席", "start": 0.0, "end": 3.1, "text": "您好，国网95598，请问有什么可以帮您？"},
        {"speaker": "客户", "start": 3.4, "end": 9.8, "text": "我家又停电了，这个月第三次了，冰箱里的东西全坏了！"},
        {"speaker": "客户", "start": 10.0, "end": 10.5, "text": "  "},
        {"speaker": "agent", "start": 10.2, "end": 15.0, "text": "非常抱歉给您添麻烦了，我马上帮您查询抢修进度。"},
    ],
}

SRT = """1
00:00:00,000 --> 00:00:03,100
坐席：您好，这里是电信客服，工号2231。

2
00:00:03,400 --> 00:00:08,900
客户：我的宽带又断了，
你们到底能不能修好？

3
00:00:09,000 --> 00:00:11,000
修了三次了都没用！

4
00:00:11,200 --> 00:00:15,000
【坐席】：非常理解您的心情，我马上为您加急派单。
"""


def test_json_transcript() -> None:
    [thread] = registry.channels.get("call_json.v1")().read(json.dumps(CALL, ensure_ascii=False).encode())
    assert thread.key == "95598-20240501-0007" and thread.customer.phone == "13912345678"
    speakers = [u.speaker for u in thread.utterances]
    assert speakers == ["agent", "customer", "agent"]  # the blank segment is dropped
    assert thread.utterances[1].timestamp == pytest.approx(1714527000.0 + 3.4)
    assert thread.utterances[1].id == "95598-20240501-0007#1"
    assert all(u.channel == "call" for u in thread.utterances)


def test_json_segment_list_with_relative_times() -> None:
    [u1, u2] = registry.channels.get("call_json.v1")().parse(
        [{"speaker": "customer", "start": 1.5, "text": "电费怎么这么高"},
         {"speaker": "客服", "start": 4, "text": "我帮您查一下"}])
    assert u1.timestamp == 1.5 and u2.speaker == "agent"


def test_srt_with_speaker_prefixes() -> None:
    srt = registry.channels.get("call_srt.v1")()
    [thread] = srt.read(SRT.encode("utf-8"), call_id="c-9", customer=CustomerHints(phone="13312345678"))
    texts = [(u.speaker, u.text) for u in thread.utterances]
    assert texts == [("agent", "您好，这里是电信客服，工号2231。"),
                     ("customer", "我的宽带又断了， 你们到底能不能修好？"),
                     ("customer", "修了三次了都没用！"),
                     ("agent", "非常理解您的心情，我马上为您加急派单。")]
    assert thread.utterances[2].timestamp == 9.0 and thread.key == "c-9"
    assert thread.customer.phone == "13312345678"


def test_srt_text_with_colon_but_no_speaker_keeps_previous_speaker() -> None:
    srt = "1\n00:00:01,000 --> 00:00:02,000\n客户：停电了\n\n2\n00:00:02,000 --> 00:00:04,000\n问题是：三天了\n"
    [a, b] = registry.channels.get("call_srt.v1")().parse(srt)
    assert b.speaker == "customer" and b.text == "问题是：三天了"


def test_gb18030_srt_is_refused_then_read_when_declared() -> None:
    data = SRT.encode("gb18030")
    srt = registry.channels.get("call_srt.v1")()
    with pytest.raises(InputError) as info:
        srt.read(data)
    assert info.value.code == "AF031" and "GB18030" in info.value.message
    assert len(srt.read(data, encoding="gb18030")[0].utterances) == 4


@pytest.mark.parametrize("name, payload, code", [
    ("call_json.v1", b"{\"segments\": [", "AF001"),
    ("call_json.v1", {"segments": "客户：你好"}, "AF030"),
    ("call_json.v1", {"segments": [{"speaker": "机器人", "start": 0, "text": "您好"}]}, "AF007"),
    ("call_json.v1", {"segments": [{"speaker": "客户", "start": -3, "text": "您好"}]}, "AF030"),
    ("call_json.v1", {"segments": []}, "AF035"),
    ("call_json.v1", "[1]", "AF030"),
    ("call_srt.v1", "1\n这不是时间轴\n客户：你好\n", "AF030"),
    ("call_srt.v1", "1\n00:00:01,000 --> 00:00:02,000\n没有说话人前缀\n", "AF030"),
    ("call_srt.v1", "", "AF035"),
])
def test_bad_transcripts_are_coded(name, payload, code) -> None:
    with pytest.raises(InputError) as info:
        registry.channels.get(name)().read(payload)
    assert info.value.code == code
