from __future__ import annotations

import copy

import pytest

from anfu.channels.base import check_channels_pack, decode_text, known_speaker, pack, parse_time, speaker_of
from anfu.errors import InputError


def test_shipped_pack_is_valid() -> None:
    assert check_channels_pack(copy.deepcopy(pack())) == []


def test_validator_finds_problems() -> None:
    data = copy.deepcopy(pack())
    data["speakers"]["agent"].append("客户")
    data["email"]["reply_markers"].append("([unclosed")
    del data["columns"]["text"]
    problems = " | ".join(check_channels_pack(data))
    assert "both speakers" in problems and "bad regex" in problems and "columns" in problems


@pytest.mark.parametrize("label, speaker", [("客户", "customer"), ("坐席", "agent"), ("Agent", "agent"),
                                            ("来 电 人", "customer"), ("客服", "agent")])
def test_speaker_labels(label, speaker) -> None:
    assert speaker_of(label) == speaker
    assert known_speaker(label) == speaker


def test_unknown_speaker_is_af007() -> None:
    assert known_speaker("问题") is None
    with pytest.raises(InputError) as info:
        speaker_of("问题", "row 3")
    assert info.value.code == "AF007" and "row 3" in info.value.message


def test_decode_text_names_gb18030() -> None:
    data = "客户：电费怎么这么高".encode("gb18030")
    with pytest.raises(InputError) as info:
        decode_text(data, source="x.srt")
    assert info.value.code == "AF031" and "GB18030" in info.value.message
    assert decode_text(data, "gb18030") == "客户：电费怎么这么高"
    assert decode_text("\ufeff你好".encode("utf-8")) == "你好"
    with pytest.raises(InputError) as info:
        decode_text(data, "klingon")
    assert info.value.code == "AF012"


def test_parse_time_forms() -> None:
    assert parse_time("2024-05-01 01:30:00") == parse_time("2024-05-01T09:30:00+08:00")
    assert parse_time("2024/05/01 01:30:00") == parse_time("2024-05-01 01:30:00")
    assert parse_time(12.5) == 12.5 and parse_time("") is None
