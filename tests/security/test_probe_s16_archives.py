"""Probe F (session 16): archive files from real centres through `anfu batch analyze/qa` and the
upload API (`/api/v1/intake/table`, `/api/v1/intake/transcript`). Each failing test pins one
defect; the last ones pin what held.

1. A damaged .xlsx whose zip opens but whose sheet XML is cut stops the whole batch run with a
   traceback (xml ParseError), and is a 500 on the upload API.
2. A CSV saved by Excel on a Chinese Windows writes times as `2024/5/1 9:30`: every such row is
   refused (AF032), so every conversation of the export is an error.
3. Excel exports with the conversation id merged over a conversation's rows: the conversation is
   written as a one-turn result (its other turns silently dropped) next to an AF032.
4. One GBK row late in a UTF-8 CSV: the AF031 names a row and byte 20 rows before the bad one
   (the decoder's chunk), and the good conversations between are lost without a word.
5. Transcript lines labelled with an agent's number or name (坐席1023：, 客服小王：) are glued
   onto the customer's turn: the agent's apology is analysed as customer text.
6. A sub-folder of the archive that is a symbolic link (a mounted NAS month) is skipped silently.
7. Excel's "Unicode text" (UTF-16 LE with a BOM) is AF031 "not valid utf-8 … declare
   --encoding gb18030": the BOM names the encoding; the advice is wrong.
SQLite only: nothing here depends on the database engine."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from anfu.batch.runner import side_paths
from anfu.batch.sources import iter_items
from anfu.errors import AnfuError
from tests.security.probe import code_of

ANGRY = "停电三天了，你们到底管不管？再不修我就打12345投诉！"
APOLOGY = "非常抱歉，您别着急，我马上帮您报修。"


def batch(*args: Any, mode: str = "analyze") -> Any:
    from anfu.cli import _register_commands, app

    _register_commands()
    return CliRunner().invoke(app, ["batch", mode, *[str(a) for a in args], "--workers", "1",
                                    "--no-progress", "--no-report"])


def results(out: Path) -> dict[str, dict[str, Any]]:
    if not out.is_file():
        return {}
    return {r["id"]: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}


def error_lines(out: Path) -> list[dict[str, Any]]:
    path = side_paths(out)["errors"]
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def items(path: Path, encoding: str = "utf-8") -> list[Any]:
    return list(iter_items(path, encoding=encoding))


def workbook(rows: list[list[Any]], merge: tuple[str, ...] = ()) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    for cells in merge:
        sheet.merge_cells(cells)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def damaged_workbook() -> bytes:
    """A real .xlsx whose sheet XML was cut in half (a copy interrupted, a disk error): the zip
    and workbook.xml open, the sheet does not parse."""
    good = zipfile.ZipFile(io.BytesIO(workbook([["会话ID", "角色", "内容"], ["C1", "客户", ANGRY],
                                                ["C1", "坐席", APOLOGY]])))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name in good.namelist():
            data = good.read(name)
            z.writestr(name, data[: len(data) // 2] if name.endswith("sheet1.xml") else data)
    return buf.getvalue()


# 1 -----------------------------------------------------------------------------------------------
def test_batch_damaged_xlsx_in_archive_is_an_error_line_not_a_crash(tmp_path: Path) -> None:
    """Expected: the damaged workbook is one AF030 line of the errors file and the rest of the
    archive is analysed (exit 0). Actual: xml.etree.ElementTree.ParseError escapes
    `_xlsx` (only load_workbook is guarded, not sheet.iter_rows): the run dies with a traceback
    and the transcript after it is never analysed."""
    archive = tmp_path / "archive"
    (archive / "2024-05").mkdir(parents=True)
    (archive / "2024-05" / "a.xlsx").write_bytes(damaged_workbook())
    (archive / "2024-05" / "b.txt").write_text(f"客户：{ANGRY}\n坐席：{APOLOGY}\n", encoding="utf-8")
    out = tmp_path / "out" / "r.jsonl"
    result = batch(archive, "-o", out)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 0, result.output[-500:]
    assert "2024-05/b" in results(out)
    assert [e["error"]["code"] for e in error_lines(out)] == ["AF030"]


def test_upload_damaged_xlsx_is_coded_not_500(sqlite_world: Any) -> None:
    """Expected: 422 AF030 (not a readable workbook). Actual: 500 — the ParseError is raised by
    `ExcelImport.read` while iterating the rows, outside its try."""
    reply = sqlite_world.client("agent_a1").post("/api/v1/intake/table", files={
        "file": ("通话记录.xlsx", damaged_workbook())})
    assert reply.status_code == 422 and code_of(reply) == "AF030", (reply.status_code, reply.text[:300])


# 2 -----------------------------------------------------------------------------------------------
def test_batch_reads_excel_chinese_windows_csv_times(tmp_path: Path) -> None:
    """Excel on a Chinese Windows saves a date-time cell to CSV as it displays it: `2024/5/1 9:30`
    (no zero padding). Expected: read as 2024-05-01 09:30. Actual: AF032 "'2024/5/1 9:30' is not
    a time" for every row, so no conversation of the export is analysed (`parse_time` only turns
    / into - and then needs ISO's two-digit month, day and hour)."""
    src = tmp_path / "calls.csv"
    src.write_bytes(("会话ID,角色,内容,时间\n"
                     f"C1,客户,{ANGRY},2024/5/1 9:30\n"
                     f"C1,坐席,{APOLOGY},2024/5/1 9:31\n").encode("gb18030"))
    out = tmp_path / "r.jsonl"
    assert batch(src, "-o", out, "--encoding", "gb18030").exit_code == 0
    assert error_lines(out) == [], error_lines(out)
    assert "C1" in results(out)


# 3 -----------------------------------------------------------------------------------------------
def test_batch_merged_conversation_id_cells_do_not_truncate_the_conversation(tmp_path: Path) -> None:
    """Exports merge the 会话ID cell over the rows of one conversation. openpyxl (read-only) gives
    None for the merged rows. Expected: the id filled down (three turns), or the conversation
    refused whole. Actual: C1 is written as a one-turn conversation (the agent's reply and the
    customer's threat dropped) plus an AF032 "conversation_id is empty" for row 3."""
    src = tmp_path / "calls.xlsx"
    src.write_bytes(workbook([["会话ID", "角色", "内容"], ["C1", "客户", "停电三天了，你们到底管不管？"],
                              [None, "坐席", APOLOGY], [None, "客户", "再不修我就打12345投诉！"]],
                             merge=("A2:A4",)))
    got = [i.payload for i in items(src) if isinstance(i.payload, dict) and i.payload["id"] == "C1"]
    assert all(len(conv["turns"]) == 3 for conv in got), got


def test_upload_merged_conversation_id_cells_fill_down(sqlite_world: Any) -> None:
    """The same workbook uploaded (`POST /api/v1/intake/table`) was refused whole (AF032 "row 3:
    conversation_id is empty"): one conversation of three turns now."""
    data = workbook([["会话ID", "角色", "内容"], ["C1-merged", "客户", "停电三天了，你们到底管不管？"],
                     [None, "坐席", APOLOGY], [None, "客户", "再不修我就打12345投诉！"]], merge=("A2:A4",))
    reply = sqlite_world.client("agent_a1").post("/api/v1/intake/table", files={"file": ("通话记录.xlsx", data)})
    assert reply.status_code == 201, reply.text[:300]
    body = reply.json()
    assert body["threads"] == 1 and body["messages"] == 3, body


# 4 -----------------------------------------------------------------------------------------------
def test_batch_one_gbk_row_in_utf8_csv_is_located(tmp_path: Path) -> None:
    """A UTF-8 export where one row (302) was pasted from a GBK system. Expected: the rows before
    it are read and the AF031 names row 302 (or that row alone is the error). Actual: the error
    says "after row 282, byte 1632" (the text decoder's 8 KB chunk, not the file's row or byte),
    and the 20 good conversations of rows 282–301 are neither analysed nor reported."""
    body = "".join(f"C{i},客户,第{i}通：电费怎么这么高我要投诉你们这个服务太差了真的\n" for i in range(300))
    src = tmp_path / "calls.csv"
    src.write_bytes(("会话ID,角色,内容\n" + body).encode() + "C999,客户,停电三天了\n".encode("gbk"))
    got = items(src)
    ids = {i.payload["id"] for i in got if isinstance(i.payload, dict)}
    bad = [i for i in got if isinstance(i.payload, AnfuError)]
    assert [b.payload.code for b in bad] == ["AF031"]
    assert {f"C{i}" for i in range(300)} <= ids, sorted(set(f"C{i}" for i in range(300)) - ids)[:5]
    assert bad[0].line == 302 or "302" in str(bad[0].payload), str(bad[0].payload)


# 5 -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("label", ["坐席1023", "客服小王"])
def test_transcript_agent_label_with_number_or_name_is_not_customer_text(tmp_path: Path, label: str) -> None:
    """Recording vendors label turns with the agent's number or name. Expected: the line is the
    agent's turn, or the file an AF007/AF030 naming the unknown label. Actual: `parse_txt` takes
    "坐席1023：…" as a continuation line, so the customer's turn holds the agent's apology (and the
    label) and the transcript has no agent turn at all."""
    src = tmp_path / "0501-0007.txt"
    src.write_text(f"客户：{ANGRY}\n{label}：{APOLOGY}\n客户：那要等多久？\n", encoding="utf-8")
    [item] = items(src)
    if isinstance(item.payload, AnfuError):
        return
    customer_text = " ".join(t["text"] for t in item.payload["turns"] if t["speaker"] == "customer")
    assert APOLOGY not in customer_text, item.payload["turns"]


def test_srt_upload_agent_label_with_number_is_not_customer_text(sqlite_world: Any) -> None:
    """The same on the upload API: an SRT cue "坐席1023：…" after a customer cue is stored as the
    customer's message. Expected: an agent message, or 422 naming the label. Actual: 201 and the
    conversation holds three customer messages."""
    srt = (f"1\n00:00:01,000 --> 00:00:04,000\n客户：{ANGRY}\n\n"
           f"2\n00:00:05,000 --> 00:00:08,000\n坐席1023：{APOLOGY}\n\n"
           "3\n00:00:09,000 --> 00:00:10,000\n客户：那要等多久？\n").encode()
    client = sqlite_world.client("agent_a1")
    reply = client.post("/api/v1/intake/transcript", files={"file": ("s16f-call.srt", srt)},
                        data={"call_id": "s16f-srt-agent-label"})
    if reply.status_code == 422:
        return
    assert reply.status_code == 201, reply.text[:300]
    conv = reply.json()["conversation_ids"][0]
    turns = client.get(f"/api/v1/conversations/{conv}").json()
    messages = turns.get("messages") or turns.get("turns") or []
    speakers = [m.get("speaker") for m in messages]
    assert "agent" in speakers, speakers


# 6 -----------------------------------------------------------------------------------------------
def test_batch_symlinked_month_folder_is_read_or_reported(tmp_path: Path) -> None:
    """/archive/2024-05 -> /mnt/nas/2024-05 (a month kept on the NAS). Expected: its transcripts
    read (or an AF011 error line, as for a broken file link). Actual: `os.walk` does not follow
    the link, the month is skipped: 1 record analysed, no error, exit 0."""
    nas = tmp_path / "nas" / "2024-05"
    nas.mkdir(parents=True)
    (nas / "0501-0007.txt").write_text(f"客户：{ANGRY}\n", encoding="utf-8")
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "0430-0001.txt").write_text("客户：电费怎么这么高？\n", encoding="utf-8")
    os.symlink(nas, archive / "2024-05")
    out = tmp_path / "r.jsonl"
    assert batch(archive, "-o", out).exit_code == 0
    assert "2024-05/0501-0007" in results(out) or error_lines(out), sorted(results(out))


# 7 -----------------------------------------------------------------------------------------------
def test_batch_utf16_unicode_text_export_is_read_or_named(tmp_path: Path) -> None:
    """Excel's 另存为 "Unicode 文本" writes UTF-16 LE with a BOM (FF FE), tab separated. Expected:
    read (the BOM names the encoding), or an AF031 that says UTF-16 / --encoding utf-16. Actual:
    "calls.csv (byte 0) is not valid utf-8 … declare its encoding (anfu batch --encoding gb18030 …)"
    — advice that cannot work."""
    src = tmp_path / "calls.csv"
    src.write_bytes(f"会话ID\t角色\t内容\nC1\t客户\t{ANGRY}\nC1\t坐席\t{APOLOGY}\n".encode("utf-16"))
    [item] = items(src)
    if isinstance(item.payload, AnfuError):
        message = str(item.payload).lower()
        assert "utf-16" in message or "utf16" in message, str(item.payload)
    else:
        assert [t["speaker"] for t in item.payload["turns"]] == ["customer", "agent"]


# what held ---------------------------------------------------------------------------------------
def test_held_qa_run_where_every_record_is_bad_still_writes_the_report(tmp_path: Path) -> None:
    """Every record bad (no text, empty text): exit 0, empty results, two error lines, and the
    zh-CN report files are still written."""
    from anfu.cli import _register_commands, app

    _register_commands()
    src = tmp_path / "bad.jsonl"
    src.write_text('{"id": "x1"}\n{"id": "x2", "text": ""}\n', encoding="utf-8")
    out = tmp_path / "out" / "r.jsonl"
    result = CliRunner().invoke(app, ["batch", "qa", str(src), "-o", str(out), "--workers", "1", "--no-progress"])
    assert result.exit_code == 0, result.output[-500:]
    assert [e["error"]["code"] for e in error_lines(out)] == ["AF002", "AF004"]
    assert side_paths(out)["report_xlsx"].stat().st_size > 0 and side_paths(out)["report_pdf"].stat().st_size > 0


def test_held_gbk_file_read_as_utf8_and_utf8_read_as_gbk_are_coded(tmp_path: Path) -> None:
    """No mojibake either way: a GBK transcript read as UTF-8 is AF031 with the GB18030 hint; a
    UTF-8 (BOM) CSV read with --encoding gb18030 is AF031 too, never stored as 锘縞… text."""
    gbk = tmp_path / "gbk.txt"
    gbk.write_bytes(f"客户：{ANGRY}\n".encode("gbk"))
    [item] = items(gbk)
    assert item.payload.code == "AF031" and "GB18030" in str(item.payload)
    bom = tmp_path / "bom.csv"
    bom.write_bytes(f"\ufeff会话ID,角色,内容\nC1,客户,{ANGRY}\n".encode())
    assert [i.payload.code for i in items(bom, "gb18030")] == ["AF031"]
