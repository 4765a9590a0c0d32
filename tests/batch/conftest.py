"""Small archives in every supported shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

UTTERANCES = ["停电三天了还没人来修！！！再不来我就打12345投诉！", "你好，想问下电费怎么交", "快递一周都没到，太气人了",
              "谢谢你们，问题解决了", "宽带又断了，烦死了", "我要投诉你们的客服态度"]


def write_jsonl(path: Path, n: int, bad_every: int = 0) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            if bad_every and i % bad_every == bad_every - 1:
                fh.write("{not json\n")
                continue
            if i % 3 == 2:
                rec = {"id": f"c{i}", "agent": f"A{i % 4}", "team": "一班" if i % 2 else "二班",
                       "turns": [{"speaker": "customer", "text": UTTERANCES[i % len(UTTERANCES)]},
                                 {"speaker": "agent", "text": "这不归我们管，你自己去找供电所。" if i % 5 == 0
                                  else "您好，非常抱歉给您带来不便，我今天下午三点前给您回电。"},
                                 {"speaker": "customer", "text": "好的，谢谢"}]}
            else:
                rec = {"id": f"u{i}", "text": UTTERANCES[i % len(UTTERANCES)] + f"（{i}）"}
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return path


@pytest.fixture()
def archive(tmp_path: Path) -> Path:
    """A folder with JSONL, CSV, Excel, .txt, .srt and .eml, with one bad record of each table kind."""
    import openpyxl

    root = tmp_path / "archive"
    (root / "calls").mkdir(parents=True)
    (root / "a.jsonl").write_text(
        '{"id": "u1", "text": "停电三天了还没人来修！"}\n{broken\n\n{"id": "u2", "text": ""}\n'
        '{"id": "c1", "agent": "A01", "turns": [{"speaker": "customer", "text": "电费怎么这么高？"},'
        ' {"speaker": "agent", "text": "这不归我们管。"}]}\n', encoding="utf-8")
    (root / "b.csv").write_text(
        "会话ID,角色,内容,坐席,班组\nk1,客户,我要投诉你们！,A02,二班\nk1,坐席,您好，非常抱歉，我马上处理，今天下午回电。,A02,二班\n"
        "k2,客户,谢谢,A03,二班\nk1,客户,又是我,A02,二班\nk3,路人,你好,A03,二班\n", encoding="utf-8")
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (["conversation_id", "speaker", "text", "team"], ["x1", "customer", "网又断了！", "三班"],
                ["x1", "agent", "您好，抱歉，我马上为您报修", "三班"]):
        sheet.append(row)
    book.save(root / "c.xlsx")
    (root / "calls" / "d.txt").write_text("客户：你们的网怎么又断了？\n坐席：您好，抱歉给您带来不便。\n客户：好吧\n", encoding="utf-8")
    (root / "calls" / "e.srt").write_text("1\n00:00:01,000 --> 00:00:03,000\n客户：电费太贵了\n\n"
                                          "2\n00:00:04,000 --> 00:00:06,000\n坐席：您好，我帮您查一下\n", encoding="utf-8")
    (root / "calls" / "f.eml").write_text("From: 张三 <zs@example.com>\nSubject: 投诉\n\n你们的快递一周都没到，太气人了！\n",
                                          encoding="utf-8")
    (root / "calls" / "g.txt").write_text("没有标签的一行\n", encoding="utf-8")
    (root / "notes.md").write_text("ignored", encoding="utf-8")
    return root
