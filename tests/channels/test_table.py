from __future__ import annotations

import io
from datetime import datetime

import openpyxl
import pytest

from anfu import registry
from anfu.errors import InputError

CSV_ZH = """会话ID,角色,内容,时间,客户
T-1001,客户,"我的退款申请十天了还没到账，你们到底怎么回事？",2024-05-01 09:30:00,13800138000
T-1001,客服,非常抱歉让您久等了，我马上帮您催办。,2024-05-01 09:31:00,
T-1002,客户,话费多扣了58块，我从来没订过视频会员！,2024-05-02 10:00:00,wang@example.com
T-1001,客户,好吧，那我再等等。,2024-05-01 09:35:00,

"""


def test_csv_with_chinese_headers_groups_conversations() -> None:
    threads = registry.channels.get("csv.v1")().read(CSV_ZH.encode("utf-8-sig"))
    assert [t.key for t in threads] == ["T-1001", "T-1002"]
    first = threads[0]
    assert [u.speaker for u in first.utterances] == ["customer", "agent", "customer"]
    assert first.customer.phone == "13800138000"
    assert threads[1].customer.email == "wang@example.com"
    assert first.utterances[0].timestamp == datetime.fromisoformat("2024-05-01T09:30:00+00:00").timestamp()
    assert first.utterances[2].text == "好吧，那我再等等。" and first.utterances[0].channel == "import"


def test_csv_english_headers_tab_separated_and_external_customer_id() -> None:
    tsv = "conversation_id\tspeaker\ttext\tcustomer\nc1\tcustomer\t快递丢了谁负责？\tVIP-0093\n"
    [thread] = registry.channels.get("csv.v1")().read(tsv)
    assert thread.customer.external_id == "VIP-0093" and thread.utterances[0].timestamp is None


def test_gb18030_csv_is_af031_unless_declared() -> None:
    data = CSV_ZH.encode("gb18030")
    adapter = registry.channels.get("csv.v1")()
    with pytest.raises(InputError) as info:
        adapter.read(data)
    assert info.value.code == "AF031"
    assert len(adapter.read(data, encoding="gb18030")) == 2


@pytest.mark.parametrize("text, code", [
    ("会话ID,内容\nT-1,停电了\n", "AF033"),
    ("会话ID,角色,内容\nT-1,机器人,停电了\n", "AF007"),
    ("会话ID,角色,内容\n,客户,停电了\n", "AF032"),
    ("会话ID,角色,内容\nT-1,客户,\n", "AF032"),
    ("会话ID,角色,内容,时间\nT-1,客户,停电了,上周三\n", "AF032"),
    ("会话ID,角色,内容\n", "AF035"),
    ("", "AF035"),
])
def test_bad_csv_is_coded(text, code) -> None:
    with pytest.raises(InputError) as info:
        registry.channels.get("csv.v1")().read(text.encode("utf-8"))
    assert info.value.code == code


def _xlsx(rows) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def test_excel_import() -> None:
    data = _xlsx([["conversation_id", "speaker", "text", "timestamp", "customer"],
                  [5001, "客户", "燃气表走得特别快，是不是坏了？", datetime(2024, 5, 3, 8, 0), 13912345678],
                  [5001, "坐席", "我帮您预约上门检测。", datetime(2024, 5, 3, 8, 1), None],
                  [None, None, None, None, None]])
    [thread] = registry.channels.get("xlsx.v1")().read(data)
    assert thread.key == "5001" and thread.customer.phone == "13912345678"
    assert [u.speaker for u in thread.utterances] == ["customer", "agent"]
    assert thread.utterances[1].timestamp - thread.utterances[0].timestamp == 60


@pytest.mark.parametrize("data, code", [
    (b"PK\x03\x04 broken zip", "AF030"),
    (CSV_ZH.encode("utf-8"), "AF030"),
    (b"", "AF035"),
])
def test_bad_excel_is_coded(data, code) -> None:
    with pytest.raises(InputError) as info:
        registry.channels.get("xlsx.v1")().read(data)
    assert info.value.code == code


def test_excel_missing_columns() -> None:
    with pytest.raises(InputError) as info:
        registry.channels.get("xlsx.v1")().read(_xlsx([["编号", "内容"], [1, "你好"]]))
    assert info.value.code == "AF033" and "conversation_id" in info.value.message
