"""Probe of `anfu batch analyze|qa` as a clumsy integrator and as an attacker with a hostile
archive: every bad input is a coded AF### error (never a traceback), a bad record goes to the
errors file with its line and never stops the run or loses the records after it, the input is
never destroyed, `--resume` loses and repeats nothing and refuses a changed run, and the output
is the same with one or two workers."""

from __future__ import annotations

import base64
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import anfu.batch.runner as runner
from anfu.batch.backends.local import LocalBackend
from anfu.batch.runner import run_batch, side_paths
from anfu.batch.sources import iter_items
from anfu.cli import _register_commands, app
from anfu.errors import InputError
from anfu.inspection.scorecard import Scorecard, load_scorecard

from .conftest import write_jsonl


def cli(*args: Any):  # noqa: ANN201
    _register_commands()
    result = CliRunner().invoke(app, [str(a) for a in args])
    # a traceback is never an answer: only a clean exit (0) or a coded error (2)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def batch(*args: Any, mode: str = "analyze", report: bool = False):  # noqa: ANN201
    return cli("batch", mode, *args, "--workers", "1", "--no-progress", *(() if report else ("--no-report",)))


def coded(result: Any, code: str) -> None:
    assert result.exit_code == 2, result.output
    assert f"error {code}:" in result.output and "Traceback" not in result.output


def strict_lines(path: Path) -> list[dict[str, Any]]:
    """Every line is strict JSON (no NaN/Infinity) and a JSON object."""
    def refuse(name: str) -> None:
        raise AssertionError(f"{path} holds {name}, which is not JSON")
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line, parse_constant=refuse)
        assert isinstance(rec, dict)
        out.append(rec)
    return out


def ids(out: Path) -> list[Any]:
    return [r["id"] for r in strict_lines(out)]


def errors(out: Path) -> list[tuple[str, int, str]]:
    recs = strict_lines(side_paths(out)["errors"])
    for e in recs:  # the message says how to fix it
        assert e["error"]["message"] and e["error"]["code"].startswith("AF")
    return [(e["source"], e["line"], e["error"]["code"]) for e in recs]


def messages(out: Path) -> list[str]:
    return [e["error"]["message"] for e in strict_lines(side_paths(out)["errors"])]


# -- inputs ----------------------------------------------------------------------------------
def test_jsonl_with_bom_and_crlf_is_read(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\xef\xbb\xbf" + '{"id": "u1", "text": "停电三天了还没人来修！"}\r\n\r\n'
                    '{"id": "u2", "text": "电费怎么这么高？"}\r\n'.encode("utf-8"))
    out = tmp_path / "out.jsonl"
    assert batch(src, "-o", out).exit_code == 0
    assert ids(out) == ["u1", "u2"] and errors(out) == []


def _gbk_archive(tmp_path: Path, complaint: str) -> Path:
    """A GBK table and a GB18030 transcript beside one UTF-8 file."""
    root = tmp_path / "archive"
    root.mkdir()
    (root / "a_gbk.csv").write_bytes(f"会话ID,角色,内容\nk1,客户,{complaint}\n".encode("gbk"))
    (root / "b_gb18030.txt").write_bytes("客户：宽带又断了，烦死了\n坐席：您好，抱歉\n".encode("gb18030"))
    return root


def test_gbk_csv_and_txt_are_coded_and_say_how_to_fix(tmp_path: Path) -> None:
    root = _gbk_archive(tmp_path, "电费怎么这么高")
    (root / "c.txt").write_text("客户：快递一周都没到\n坐席：您好，我马上为您查询\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert batch(root, "-o", out).exit_code == 0
    assert ids(out) == ["c"]
    assert errors(out) == [("a_gbk.csv", 0, "AF031"), ("b_gb18030.txt", 0, "AF031")]
    for message in messages(out):
        assert "UTF-8" in message and "GB18030" in message


def test_encoding_option_reads_a_gb18030_archive(tmp_path: Path) -> None:
    """AF031 says to declare the encoding: `--encoding gb18030` reads the GBK CSV and the GB18030
    transcript as text (their words reach the analysis), while JSONL stays UTF-8."""
    root = _gbk_archive(tmp_path, "电费怎么这么高，我要投诉！")
    (root / "c.jsonl").write_text('{"id": "u1", "text": "快递一周都没到"}\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert batch(root, "-o", out, "--encoding", "GB18030").exit_code == 0
    assert errors(out) == []
    recs = {r["id"]: r for r in strict_lines(out)}
    assert set(recs) == {"k1", "b_gb18030", "u1"}
    assert "投诉" in json.dumps(recs["k1"], ensure_ascii=False)
    assert "宽带" in json.dumps(recs["b_gb18030"], ensure_ascii=False)


def test_unknown_encoding_is_af012_before_anything_is_written(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", 3)
    out = tmp_path / "out.jsonl"
    result = batch(src, "-o", out, "--encoding", "gb-2312-x")
    coded(result, "AF012")
    assert "gb18030" in result.output and not out.exists()


def test_resume_with_another_encoding_is_af037(tmp_path: Path, analyzer) -> None:  # noqa: ANN001
    src = tmp_path / "in.csv"
    rows = "".join(f"k{i},客户,第{i}次停电了\n" for i in range(40))
    src.write_bytes(("会话ID,角色,内容\n" + rows).encode("gb18030"))
    out = tmp_path / "out.jsonl"
    backend = LocalBackend(analyzer, workers=1)
    run_batch(src, out, backend, chunk_size=5, stop_after=2, encoding="gb18030")
    with pytest.raises(InputError) as exc:
        run_batch(src, out, backend, chunk_size=5, resume=True)
    assert exc.value.code == "AF037" and "encoding" in str(exc.value)
    stats = run_batch(src, out, backend, chunk_size=5, resume=True, encoding="GB18030")
    assert stats.items == 40 and ids(out) == [f"k{i}" for i in range(40)]


def test_csv_text_column_renamed_or_missing(tmp_path: Path) -> None:
    (tmp_path / "alias.csv").write_text("conversation,role,message\nk1,customer,网又断了\n", encoding="utf-8")
    (tmp_path / "missing.csv").write_text("会话ID,角色,留言\nk2,客户,网又断了\n", encoding="utf-8")
    out = tmp_path / "o.jsonl"
    assert batch(tmp_path / "alias.csv", "-o", out).exit_code == 0 and ids(out) == ["k1"]
    assert batch(tmp_path / "missing.csv", "-o", out).exit_code == 0
    assert ids(out) == [] and errors(out) == [("missing.csv", 1, "AF033")]
    assert "text" in messages(out)[0] and "内容" in messages(out)[0]


def test_csv_quoted_multiline_fields_and_row_numbers(tmp_path: Path) -> None:
    src = tmp_path / "ml.csv"
    src.write_text('会话ID,角色,内容\r\nk1,客户,"第一行\r\n第二行，还是停电"\r\nk1,坐席,"您好，""抱歉""给您带来不便"\r\n'
                   "k2,路人,你好\r\nk3,客户,谢谢\r\n", encoding="utf-8")
    items = list(iter_items(src))
    assert items[0].payload["turns"][0]["text"] == "第一行\n第二行，还是停电"  # type: ignore[index]
    assert items[0].payload["turns"][1]["text"] == '您好，"抱歉"给您带来不便'  # type: ignore[index]
    out = tmp_path / "o.jsonl"
    assert batch(src, "-o", out).exit_code == 0
    assert ids(out) == ["k1", "k3"] and errors(out) == [("ml.csv", 4, "AF007")]  # 4th CSV row (its header is 1)


def test_csv_huge_field_is_one_bad_record_not_the_rest_of_the_file(tmp_path: Path) -> None:
    src = tmp_path / "long.csv"
    src.write_text("会话ID,角色,内容\nk1,客户," + "停电" * 150_000 + "\nk2,客户,电费怎么这么高\nk3,客户,网又断了\n",
                   encoding="utf-8")
    out = tmp_path / "o.jsonl"
    assert batch(src, "-o", out).exit_code == 0
    assert ids(out) == ["k2", "k3"]
    assert errors(out) == [("long.csv", 2, "AF005")]


def test_csv_with_nul_bytes_and_5mb_jsonl_record(tmp_path: Path) -> None:
    (tmp_path / "nul.csv").write_text("会话ID,角色,内容\nk1,客户,电费\x00怎么这么高\nk2,客户,网又断了\n", encoding="utf-8")
    out = tmp_path / "o.jsonl"
    assert batch(tmp_path / "nul.csv", "-o", out).exit_code == 0 and ids(out) == ["k1", "k2"]
    big = tmp_path / "big.jsonl"
    big.write_text(json.dumps({"id": "huge", "text": "停电" * 2_600_000}, ensure_ascii=False) + "\n"
                   '{"id": "u2", "text": "网又断了"}\n', encoding="utf-8")
    assert batch(big, "-o", out).exit_code == 0
    assert ids(out) == ["u2"] and errors(out) == [("big.jsonl", 1, "AF005")]


def test_hostile_jsonl_lines(tmp_path: Path) -> None:
    src = tmp_path / "evil.jsonl"
    src.write_bytes(b'{"id": "u1", "text": "a\\u0000b\xe5\x81\x9c\xe7\x94\xb5"}\n'   # 1 NUL escape: fine
                    b"\x00\x00\x00\n"                                              # 2 NUL bytes
                    b'{"id": "u\\ud800", "text": "x"}\n'                           # 3 lone surrogate
                    b'{"id": NaN, "text": "\xe5\x81\x9c\xe7\x94\xb5"}\n'          # 4 NaN id: AF016, not "nan"
                    b'{"id": {"a": 1}, "text": "\xe5\x81\x9c"}\n'                  # 5 object id: AF016
                    b'{"id": 7, "text": "\xe7\xbd\x91\xe6\x96\xad\xe4\xba\x86"}\n'  # 6 number id
                    b'{"id": "7", "text": "\xe7\xbd\x91\xe6\x96\xad\xe4\xba\x86"}\n'  # 7 same id as a string
                    + b"[" * 100 + b"]" * 100 + b"\n"                               # 8 deep nesting
                    + b'{"id": "u9", "text": 12345}\n'                               # 9 number text
                    + b'{"id": "u10", "turns": [{"speaker": "boss", "text": "hi"}]}\n'  # 10 unknown speaker
                    + b'"just a string"\n'                                           # 11 not an object
                    + b"\xff\xfe\xfa\n")                                             # 12 not UTF-8
    out = tmp_path / "o.jsonl"
    for mode in ("analyze", "qa"):
        assert batch(src, "-o", out, mode=mode).exit_code == 0
        assert ids(out) == ["u1", "7", "7"]  # duplicates are both kept
        assert errors(out) == [("evil.jsonl", 2, "AF001"), ("evil.jsonl", 3, "AF006"), ("evil.jsonl", 4, "AF016"),
                               ("evil.jsonl", 5, "AF016"), ("evil.jsonl", 8, "AF001"),
                               ("evil.jsonl", 9, "AF003"), ("evil.jsonl", 10, "AF007"), ("evil.jsonl", 11, "AF009"),
                               ("evil.jsonl", 12, "AF006")]


def _book(path: Path, sheets: dict[str, list[list[Any]]], merge: str | None = None) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
        if merge and title == next(iter(sheets)):
            sheet.merge_cells(merge)
    book.save(path)
    return path


def test_excel_every_sheet_is_read_and_empty_sheets_are_skipped(tmp_path: Path) -> None:
    src = _book(tmp_path / "export.xlsx", {
        "空白": [],
        "一月": [["会话ID", "角色", "内容", "坐席"], ["k1", "客户", "电费怎么这么高", "A01"], ["k1", "坐席", "您好，我帮您查一下", "A01"]],
        "二月": [["会话ID", "角色", "内容"], ["k2", "客户", "网又断了，烦死了"], ["k3", "路人", "你好"]]})
    out = tmp_path / "o.jsonl"
    assert batch(src, "-o", out).exit_code == 0
    assert ids(out) == ["k1", "k2"]  # no data sheet is silently ignored
    [(source, line, code)] = errors(out)
    assert "二月" in source and line == 3 and code == "AF007"


def test_excel_merged_title_row_and_numbers(tmp_path: Path) -> None:
    merged = _book(tmp_path / "merged.xlsx", {"Sheet": [["客服对话导出", None, None], ["会话ID", "角色", "内容"],
                                                         ["k1", "客户", "网又断了"]]}, merge="A1:C1")
    out = tmp_path / "o.jsonl"
    assert batch(merged, "-o", out).exit_code == 0
    assert errors(out) == [("merged.xlsx", 1, "AF033")]
    numbers = _book(tmp_path / "num.xlsx", {"Sheet": [["会话ID", "角色", "内容"], [1001, "客户", 12345],
                                                      [1001, "坐席", "您好，请问有什么可以帮您"], [1002.0, 1, 3.5]]})
    assert batch(numbers, "-o", out).exit_code == 0
    assert ids(out) == ["1001"] and errors(out) == [("num.xlsx", 4, "AF007")]


@pytest.mark.parametrize("suffix,code", [(".csv", "AF035"), (".xlsx", "AF030"), (".txt", "AF035"),
                                         (".srt", "AF035"), (".eml", "AF035"), (".jsonl", None)])
def test_empty_files(tmp_path: Path, suffix: str, code: str | None) -> None:
    src = tmp_path / f"empty{suffix}"
    src.write_bytes(b"")
    out = tmp_path / "o.jsonl"
    assert batch(src, "-o", out, report=True).exit_code == 0
    assert ids(out) == [] and [e[2] for e in errors(out)] == ([code] if code else [])
    assert Path(f"{out}.report.pdf").read_bytes()[:5] == b"%PDF-"


def _hostile_folder(root: Path) -> Path:
    (root / "sub").mkdir(parents=True)
    (root / "a.jsonl").write_text('{"id": "u1", "text": "停电三天了还没人来修！"}\n{"id": "u2", "text": "谢谢"}\n',
                                  encoding="utf-8")
    (root / "b.jsonl").write_bytes(os.urandom(2048).replace(b"\n", b"\x00") + b"\n" + os.urandom(64).replace(b"\n", b""))
    (root / "c.csv").write_text("会话ID,角色,内容,坐席\nk1,客户,我要投诉你们！,A02\nk1,坐席,这不归我们管。,A02\n", encoding="utf-8")
    (root / "sub" / "d.txt").write_text("[09:30] 客户：你们的网怎么又断了？\n坐席：您好，抱歉给您带来不便。\n", encoding="utf-8")
    (root / "sub" / "e.srt").write_text("1\n00:00:01 -> garbage\n客户：电费太贵了\n", encoding="utf-8")
    (root / "sub" / "f.eml").write_text(
        "From: 张三 <zs@example.com>\nSubject: 投诉\nMIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n"
        "<html><body><p>你们的快递一周都没到，<b>太气人了</b>！</p><script>alert(1)</script></body></html>\n",
        encoding="utf-8")
    body = base64.b64encode("宽带又断了，今天必须给我修好！".encode("gb18030")).decode()
    (root / "sub" / "g.eml").write_text("From: li@example.com\nSubject: =?utf-8?b?5oqV6K+J?=\nMIME-Version: 1.0\n"
                                        "Content-Type: text/plain; charset=gb18030\nContent-Transfer-Encoding: base64\n\n"
                                        f"{body}\n", encoding="ascii")
    (root / "sub" / "h.eml").write_bytes(os.urandom(1024))
    (root / "notes.md").write_text("not read", encoding="utf-8")
    os.symlink("loop2.jsonl", root / "loop1.jsonl")
    os.symlink("loop1.jsonl", root / "loop2.jsonl")
    os.symlink("nowhere.csv", root / "dangling.csv")
    os.symlink("..", root / "sub" / "up")  # a folder loop
    return root


def test_hostile_folder_never_stops_the_run(tmp_path: Path) -> None:
    root = _hostile_folder(tmp_path / "archive")
    out = tmp_path / "o.jsonl"
    result = batch(root, "-o", out, mode="qa", report=True)
    assert result.exit_code == 0, result.output
    assert ids(out) == ["u1", "u2", "k1", "sub/d", "sub/f", "sub/g"]
    codes = {(source, code) for source, _, code in errors(out)}
    assert {("dangling.csv", "AF011"), ("loop1.jsonl", "AF011"), ("loop2.jsonl", "AF011"),
            ("sub/e.srt", "AF030"), ("sub/h.eml", "AF030")} <= codes
    assert {source for source, _ in codes} - {"b.jsonl"} == {"dangling.csv", "loop1.jsonl", "loop2.jsonl",
                                                             "sub/e.srt", "sub/h.eml"}
    assert not any("up/" in s for s, _ in codes)


def test_workers_one_and_two_identical_on_hostile_folder(tmp_path: Path) -> None:
    root = _hostile_folder(tmp_path / "archive")
    write_jsonl(root / "many.jsonl", 80, bad_every=9)
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    assert cli("batch", "qa", root, "-o", one, "--workers", "1", "--chunk-size", "3", "--no-report").exit_code == 0
    assert cli("batch", "qa", root, "-o", two, "--workers", "2", "--chunk-size", "3", "--no-report").exit_code == 0
    assert one.read_bytes() == two.read_bytes()
    assert side_paths(one)["errors"].read_bytes() == side_paths(two)["errors"].read_bytes()
    s1, s2 = (json.loads(side_paths(p)["summary"].read_text(encoding="utf-8")) for p in (one, two))
    assert {k: v for k, v in s1.items() if k != "output"} == {k: v for k, v in s2.items() if k != "output"}


# -- output ----------------------------------------------------------------------------------
def test_existing_output_is_replaced_not_appended(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", 5)
    out = tmp_path / "o.jsonl"
    out.write_text('{"id": "stale"}\n' * 50, encoding="utf-8")
    side_paths(out)["errors"].write_text('{"id": "stale-error"}\n', encoding="utf-8")
    assert batch(src, "-o", out).exit_code == 0
    assert ids(out) == ["u0", "u1", "c2", "u3", "u4"] and errors(out) == []


def test_output_in_missing_folder_is_created(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", 3)
    out = tmp_path / "新建" / "结果" / "o.jsonl"
    assert batch(src, "-o", out, report=True).exit_code == 0
    assert len(ids(out)) == 3 and Path(f"{out}.report.xlsx").exists()


def test_output_same_as_input_is_refused_and_input_kept(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", 4)
    before = src.read_bytes()
    coded(batch(src, "-o", src), "AF038")
    assert src.read_bytes() == before
    os.symlink(src, tmp_path / "link.jsonl")  # the same file under another name
    coded(batch(src, "-o", tmp_path / "link.jsonl"), "AF038")
    assert src.read_bytes() == before
    # re-running a fixed errors file into the same results: its errors file is that input
    out = tmp_path / "o.jsonl"
    write_jsonl(side_paths(out)["errors"], 2)
    keep = side_paths(out)["errors"].read_bytes()
    coded(batch(side_paths(out)["errors"], "-o", out), "AF038")
    assert side_paths(out)["errors"].read_bytes() == keep


def test_unwritable_output_is_coded(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", 2)
    (tmp_path / "adir").mkdir()
    coded(batch(src, "-o", tmp_path / "adir"), "AF661")
    coded(batch(src, "-o", src / "o.jsonl"), "AF661")  # a file where a folder should be
    coded(batch(src, "-o", tmp_path / "o.parquet", "--format", "xlsx"), "AF012")


def test_format_from_extension(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", 3)
    for name in ("o.parquet", "O.PARQUET"):
        assert batch(src, "-o", tmp_path / name).exit_code == 0
        assert (tmp_path / name).read_bytes()[:4] == b"PAR1"
    assert batch(src, "-o", tmp_path / "o.jsonl").exit_code == 0 and len(ids(tmp_path / "o.jsonl")) == 3
    assert batch(src, "-o", tmp_path / "results").exit_code == 0 and len(ids(tmp_path / "results")) == 3
    # a table or workbook name would get JSON Lines under a misleading suffix: refused, says what to use
    for name in ("o.csv", "o.xlsx"):
        result = batch(src, "-o", tmp_path / name)
        coded(result, "AF012")
        assert "jsonl" in result.output and "parquet" in result.output and not (tmp_path / name).exists()
    assert batch(src, "-o", tmp_path / "o.csv", "--format", "jsonl").exit_code == 0


# -- resume ----------------------------------------------------------------------------------
class Crash(Exception):
    pass


class CrashingBackend(LocalBackend):
    """Dies (like a killed process) after `after` chunks, having written them."""

    def __init__(self, *args: Any, after: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.after = after

    def map(self, chunks):  # noqa: ANN001, ANN201
        for n, result in enumerate(super().map(chunks), start=1):
            yield result
            if n >= self.after:
                raise Crash("killed")


@pytest.fixture()
def often(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "CHECKPOINT_EVERY_S", 0.0)
    monkeypatch.setattr(runner, "PARQUET_PART_ROWS", 4)


def _mixed(root: Path) -> Path:
    root.mkdir()
    write_jsonl(root / "a.jsonl", 23, bad_every=7)
    (root / "b.csv").write_text("会话ID,角色,内容\n" + "".join(
        f"k{i},客户,宽带又断了，第{i}次了！\nk{i},坐席,您好，非常抱歉，我马上为您报修。\n" for i in range(9)) + "k2,客户,又是我\n",
        encoding="utf-8")
    _book(root / "c.xlsx", {"Sheet": [["会话ID", "角色", "内容"], *[[f"x{i}", "客户", "电费怎么这么高"] for i in range(5)]]})
    (root / "d.txt").write_text("客户：快递一周都没到\n坐席：您好，我马上为您查询\n", encoding="utf-8")
    return root


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_crash_and_resume_loses_and_repeats_nothing(tmp_path: Path, analyzer, often, suffix: str) -> None:  # noqa: ANN001
    src = _mixed(tmp_path / "archive")
    card = load_scorecard()
    ref, out = tmp_path / f"ref{suffix}", tmp_path / f"out{suffix}"
    run_batch(src, ref, LocalBackend(analyzer, mode="qa", scorecard=card, workers=1), mode="qa", chunk_size=3)
    for after in (2, 3):  # crash twice, the second time on the resumed run
        with pytest.raises(Crash):
            run_batch(src, out, CrashingBackend(analyzer, mode="qa", scorecard=card, workers=1, after=after),
                      mode="qa", chunk_size=3, resume=after > 2)
    with side_paths(out)["errors"].open("ab") as fh:  # half a line written after the checkpoint
        fh.write(b'{"source": "a.js')
    stats = run_batch(src, out, LocalBackend(analyzer, mode="qa", scorecard=card, workers=2), mode="qa",
                      chunk_size=5, resume=True)
    # JSONL checkpoints after every chunk here; Parquet when a part file (4 rows) is complete
    assert stats.resumed_from == 15 if suffix == ".jsonl" else 0 < stats.resumed_from <= 15
    if suffix == ".jsonl":
        assert out.read_bytes() == ref.read_bytes()
    else:
        import pyarrow.parquet as pq

        assert pq.read_table(out).to_pylist() == pq.read_table(ref).to_pylist()
    assert side_paths(out)["errors"].read_bytes() == side_paths(ref)["errors"].read_bytes()
    s_out, s_ref = (json.loads(side_paths(p)["summary"].read_text(encoding="utf-8")) for p in (out, ref))
    assert {k: v for k, v in s_out.items() if k != "output"} == {k: v for k, v in s_ref.items() if k != "output"}


def _interrupted(src: Path, out: Path, analyzer: Any, **kwargs: Any) -> None:
    with pytest.raises(Crash):
        run_batch(src, out, CrashingBackend(analyzer, workers=1, after=2, **{k: v for k, v in kwargs.items()
                                                                               if k in ("mode", "scorecard")}),
                  chunk_size=4, **{k: v for k, v in kwargs.items() if k not in ("scorecard",)})


def test_resume_refuses_other_input_mode_format_config_or_scorecard(tmp_path: Path, analyzer, often) -> None:  # noqa: ANN001
    import anfu

    src = write_jsonl(tmp_path / "in.jsonl", 30)
    other = write_jsonl(tmp_path / "other.jsonl", 30)
    card = load_scorecard()
    out = tmp_path / "qa.jsonl"
    _interrupted(src, out, analyzer, mode="qa", scorecard=card)
    before = out.read_bytes()
    strict = Scorecard("default", dict(card.data, pass_score=99))
    attempts = [(other, LocalBackend(analyzer, mode="qa", scorecard=card, workers=1), "qa", None),
                (src, LocalBackend(analyzer, workers=1), "analyze", None),
                (src, LocalBackend(analyzer, mode="qa", scorecard=card, workers=1), "qa", "parquet"),
                (src, LocalBackend(anfu.load({"limits": {"max_chars": 10}}), mode="qa", scorecard=card, workers=1),
                 "qa", None),
                (src, LocalBackend(analyzer, mode="qa", scorecard=strict, workers=1), "qa", None)]
    for path, backend, mode, fmt in attempts:
        with pytest.raises(InputError) as exc:
            run_batch(path, out, backend, mode=mode, fmt=fmt, chunk_size=4, resume=True)
        assert exc.value.code == "AF037", (mode, fmt)
        assert out.read_bytes() == before  # nothing mixed in
    stats = run_batch(src, out, LocalBackend(analyzer, mode="qa", scorecard=card, workers=1), mode="qa",
                      chunk_size=7, resume=True)  # another chunk size is fine
    assert stats.resumed_from == 8 and ids(out) == [json.loads(x)["id"] for x in src.read_text().splitlines()]


def test_resume_refuses_missing_or_damaged_output(tmp_path: Path, analyzer, often) -> None:  # noqa: ANN001
    src = write_jsonl(tmp_path / "in.jsonl", 30)
    for what in ("deleted", "truncated", "progress", "parts"):
        out = tmp_path / what / ("o.parquet" if what == "parts" else "o.jsonl")
        _interrupted(src, out, analyzer)
        if what == "deleted":
            out.unlink()
        elif what == "truncated":
            out.write_bytes(out.read_bytes()[:10])
        elif what == "progress":
            side_paths(out)["progress"].write_text('{"identity": ', encoding="utf-8")
        else:
            shutil.rmtree(side_paths(out)["parts"])
        with pytest.raises(InputError) as exc:
            run_batch(src, out, LocalBackend(analyzer, workers=1), chunk_size=4, resume=True)
        assert exc.value.code == "AF037", what
        assert "--resume" in exc.value.message


def test_resume_with_output_inside_the_input_folder(tmp_path: Path, analyzer, often) -> None:  # noqa: ANN001
    root = tmp_path / "archive"
    root.mkdir()
    write_jsonl(root / "x.jsonl", 30, bad_every=8)
    ref = tmp_path / "ref.jsonl"
    run_batch(root, ref, LocalBackend(analyzer, workers=1), chunk_size=4)
    out = root / "results.jsonl"
    _interrupted(root, out, analyzer)
    stats = run_batch(root, out, LocalBackend(analyzer, workers=1), chunk_size=4, resume=True)
    assert stats.resumed_from == 8 and out.read_bytes() == ref.read_bytes()
    # a second plain run does not read the first run's results, errors or summary as input
    stats = run_batch(root, out, LocalBackend(analyzer, workers=1), chunk_size=4)
    assert stats.items == 30 and out.read_bytes() == ref.read_bytes()
    assert side_paths(out)["errors"].read_bytes() == side_paths(ref)["errors"].read_bytes()
    # nor the CLI's reports (an .xlsx beside the input is a table to read)
    for _ in range(2):
        result = batch(root, "-o", out, report=True)
        assert result.exit_code == 0 and "30 records (27 written, 3 errors" in result.output


def test_cli_resume_after_completed_run_repeats_nothing(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", 12, bad_every=5)
    out = tmp_path / "o.jsonl"
    assert batch(src, "-o", out).exit_code == 0
    first = out.read_bytes()
    assert batch(src, "-o", out, "--resume").exit_code == 0
    assert out.read_bytes() == first and len(errors(out)) == 2


def test_cli_resume_with_damaged_checkpoint_is_coded(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", 3)
    out = tmp_path / "o.jsonl"
    side_paths(out)["progress"].write_bytes(b"\x00garbage")
    coded(batch(src, "-o", out, "--resume"), "AF037")


# -- report ----------------------------------------------------------------------------------
def _sheet(path: Path, title: str) -> list[tuple[Any, ...]]:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True)
    return list(book[title].iter_rows(values_only=True))


def test_report_when_every_record_failed(tmp_path: Path) -> None:
    src = tmp_path / "bad.jsonl"
    src.write_text('{broken\n{"id": "u2", "text": ""}\n{"id": "u3"}\n', encoding="utf-8")
    out = tmp_path / "qa.jsonl"
    result = batch(src, "-o", out, mode="qa", report=True)
    assert result.exit_code == 0 and "3 records (0 written, 3 errors" in result.output
    assert ids(out) == [] and [e[2] for e in errors(out)] == ["AF001", "AF004", "AF002"]
    rows = {r[0]: r[1] for r in _sheet(Path(f"{out}.report.xlsx"), "批量分析概览")[2:]}
    assert rows["记录数"] == 0 and rows["错误记录"] == 3
    assert Path(f"{out}.report.pdf").read_bytes()[:5] == b"%PDF-"


def test_report_on_one_record_parquet(tmp_path: Path) -> None:
    src = tmp_path / "one.jsonl"
    src.write_text('{"id": "c1", "agent": "A01", "team": "一班", "turns": [{"speaker": "customer", "text": '
                   '"停电三天了还没人来修！再不来我就打12345投诉！"}, {"speaker": "agent", "text": "这不归我们管。"}]}\n',
                   encoding="utf-8")
    out = tmp_path / "qa.parquet"
    assert batch(src, "-o", out, mode="qa", report=True).exit_code == 0
    agents = _sheet(Path(f"{out}.report.xlsx"), "坐席质量得分（由低到高）")
    assert agents[2][0] == "A01" and agents[2][2] == 1
    assert Path(f"{out}.report.pdf").read_bytes()[:5] == b"%PDF-"


def test_report_does_not_turn_archive_values_into_formulas(tmp_path: Path) -> None:
    """An attacker's agent or team name must reach the Excel report as text, not as a live formula."""
    import openpyxl

    src = tmp_path / "evil.jsonl"
    src.write_text(json.dumps({"id": "c1", "agent": '=HYPERLINK("http://evil.example/x","点此查看")',
                               "team": "@SUM(1+1)", "turns": [{"speaker": "customer", "text": "网又断了，烦死了！"},
                                                              {"speaker": "agent", "text": "您好，我马上报修"}]},
                              ensure_ascii=False) + "\n", encoding="utf-8")
    out = tmp_path / "o.jsonl"
    assert batch(src, "-o", out, report=True).exit_code == 0
    book = openpyxl.load_workbook(f"{out}.report.xlsx")
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert not [c.value for c in cells if c.data_type == "f" or c.value[:1] in "=+-@"]
    assert any("HYPERLINK" in c.value for c in cells)  # still there, readable
