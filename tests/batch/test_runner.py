"""The runner: every record is written once or lands in the errors file with its line; the
output is the `anfu analyze` contract; resuming a killed run loses and repeats nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from anfu.batch.backends.local import LocalBackend
from anfu.batch.runner import run_batch, side_paths
from anfu.inspection.scorecard import load_scorecard

from .conftest import write_jsonl


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_analyze_archive_matches_analyze_contract(archive: Path, tmp_path: Path, analyzer) -> None:  # noqa: ANN001
    out = tmp_path / "out.jsonl"
    stats = run_batch(archive, out, LocalBackend(analyzer, workers=1), chunk_size=2)
    results = _lines(out)
    errors = _lines(side_paths(out)["errors"])
    assert [r["id"] for r in results] == ["u1", "c1", "k1", "k2", "x1", "calls/d", "calls/e", "calls/f"]
    assert [(e["source"], e["line"], e["error"]["code"]) for e in errors] == [
        ("a.jsonl", 2, "AF001"), ("a.jsonl", 4, "AF004"), ("b.csv", 5, "AF036"), ("b.csv", 6, "AF007"),
        ("calls/g.txt", 0, "AF030")]
    assert stats.items == 13 and stats.written == 8 and stats.errors == 5
    # the same object `anfu analyze` writes for that record
    from anfu.intake import parse_record
    assert results[1] == analyzer(parse_record(json.loads((archive / "a.jsonl").read_text().splitlines()[4]))).to_dict()
    summary = json.loads(side_paths(out)["summary"].read_text(encoding="utf-8"))
    assert summary["records"] == 8 and summary["errors"] == 5 and summary["error_codes"]["AF036"] == 1
    assert summary["agent_phrases"][0][0] == "不归我们管"
    assert {a["name"] for a in summary["agents"]} >= {"A01", "A02"}
    assert not side_paths(out)["progress"].exists()


def test_workers_give_identical_output(tmp_path: Path, analyzer) -> None:  # noqa: ANN001
    src = write_jsonl(tmp_path / "in.jsonl", 300, bad_every=37)
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    run_batch(src, one, LocalBackend(analyzer, workers=1), chunk_size=25)
    run_batch(src, two, LocalBackend(analyzer, workers=2), chunk_size=25)
    assert one.read_bytes() == two.read_bytes()
    assert side_paths(one)["errors"].read_bytes() == side_paths(two)["errors"].read_bytes()
    assert len(_lines(one)) == 300 - 300 // 37


def test_qa_parquet(tmp_path: Path, analyzer) -> None:  # noqa: ANN001
    import pyarrow.parquet as pq

    src = write_jsonl(tmp_path / "in.jsonl", 60)
    out = tmp_path / "qa.parquet"
    run_batch(src, out, LocalBackend(analyzer, mode="qa", scorecard=load_scorecard()), mode="qa", chunk_size=7)
    table = pq.read_table(out)
    assert table.num_rows == 60 and not side_paths(out)["parts"].exists()
    rec = json.loads(table.column("result")[2].as_py())
    assert rec["id"] == "c2" and rec["agent"] == "A2" and rec["scorecard"] == "default"
    assert table.column("score")[2].as_py() == rec["score"]
    forbidden = next(i for i in rec["items"] if i["id"] == "no_forbidden")
    assert forbidden["passed"] is True
    rec5 = json.loads(table.column("result")[5].as_py())
    bad = next(i for i in rec5["items"] if i["id"] == "no_forbidden")
    assert bad["passed"] is False and bad["evidence"][0] == {"turn": 1, "start": 1, "end": 6, "text": "不归我们管",
                                                          "category": "buck_passing"}


def test_resume_after_stop_in_process(tmp_path: Path, analyzer) -> None:  # noqa: ANN001
    src = write_jsonl(tmp_path / "in.jsonl", 200, bad_every=23)
    full, part = tmp_path / "full.jsonl", tmp_path / "part.jsonl"
    run_batch(src, full, LocalBackend(analyzer, workers=1), chunk_size=10)
    import anfu.batch.runner as runner
    old = runner.CHECKPOINT_EVERY_S
    runner.CHECKPOINT_EVERY_S = 0.0
    try:
        first = run_batch(src, part, LocalBackend(analyzer, workers=1), chunk_size=10, stop_after=7)
    finally:
        runner.CHECKPOINT_EVERY_S = old
    assert first.items == 70 and side_paths(part)["progress"].exists()
    # garbage written after the checkpoint (a half-written chunk) is dropped on resume
    with part.open("ab") as fh:
        fh.write(b'{"id": "half')
    second = run_batch(src, part, LocalBackend(analyzer, workers=1), chunk_size=10, resume=True)
    assert second.resumed_from == 70
    assert part.read_bytes() == full.read_bytes()
    assert side_paths(part)["errors"].read_bytes() == side_paths(full)["errors"].read_bytes()
    assert json.loads(side_paths(part)["summary"].read_text())["records"] == \
        json.loads(side_paths(full)["summary"].read_text())["records"]


def test_resume_refuses_changed_input(tmp_path: Path, analyzer) -> None:  # noqa: ANN001
    from anfu.errors import InputError

    src = write_jsonl(tmp_path / "in.jsonl", 50)
    out = tmp_path / "o.jsonl"
    run_batch(src, out, LocalBackend(analyzer, workers=1), chunk_size=10, stop_after=2)
    write_jsonl(src, 51)
    with pytest.raises(InputError) as exc:
        run_batch(src, out, LocalBackend(analyzer, workers=1), chunk_size=10, resume=True)
    assert exc.value.code == "AF037"


def test_killed_subprocess_resumes_without_loss_or_duplicates(tmp_path: Path) -> None:
    """A real `anfu batch analyze` with 2 workers is killed (SIGKILL) mid-run; `--resume`
    finishes it and the output equals an uninterrupted run's, record for record."""
    # big enough that no machine finishes the records left after the first 1,000 before the kill
    # (6,000 was not: a quiet machine ran all of them in 2.7 s, between two looks at the progress
    # file); small enough that the two full runs below stay short (CI budget)
    total = 20000
    src = write_jsonl(tmp_path / "in.jsonl", total, bad_every=101)
    anfu = [str(Path(sys.executable).with_name("anfu"))]
    out = tmp_path / "killed.jsonl"
    cmd = [*anfu, "batch", "analyze", str(src), "-o", str(out), "--workers", "2", "--chunk-size", "100",
           "--no-report", "--no-progress"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    progress = side_paths(out)["progress"]
    deadline = time.time() + 240
    while time.time() < deadline:
        if progress.exists() and json.loads(progress.read_text())["state"]["items"] >= 1000:
            break
        assert proc.poll() is None, proc.stderr.read().decode()
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = json.loads(progress.read_text())["state"]["items"]
    assert 1000 <= done < total
    resumed = subprocess.run([*cmd, "--resume"], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resumed at {done}" in resumed.stderr
    reference = tmp_path / "ref.jsonl"
    subprocess.run([*anfu, "batch", "analyze", str(src), "-o", str(reference), "--workers", "1", "--no-report",
                    "--no-progress"], check=True, capture_output=True, timeout=300)
    got = out.read_text(encoding="utf-8").splitlines()
    want = reference.read_text(encoding="utf-8").splitlines()
    assert len(got) == len(want) == total - total // 101
    assert len({json.loads(x)["id"] for x in got}) == len(got)
    assert got == want
    assert side_paths(out)["errors"].read_text() == side_paths(reference)["errors"].read_text()


def test_parquet_resume_joins_parts_without_duplicates(tmp_path: Path, analyzer) -> None:  # noqa: ANN001
    import pyarrow.parquet as pq

    import anfu.batch.runner as runner

    src = write_jsonl(tmp_path / "in.jsonl", 120, bad_every=17)
    full, part = tmp_path / "full.parquet", tmp_path / "part.parquet"
    run_batch(src, full, LocalBackend(analyzer, workers=1), chunk_size=10)
    old = runner.PARQUET_PART_ROWS
    runner.PARQUET_PART_ROWS = 15  # a part file every other chunk
    try:
        first = run_batch(src, part, LocalBackend(analyzer, workers=1), chunk_size=10, stop_after=5)
        assert first.items == 50 and len(list(side_paths(part)["parts"].glob("part-*.parquet"))) >= 2
        assert not part.exists()
        second = run_batch(src, part, LocalBackend(analyzer, workers=1), chunk_size=10, resume=True)
    finally:
        runner.PARQUET_PART_ROWS = old
    assert second.resumed_from == 50
    assert pq.read_table(part).column("result").to_pylist() == pq.read_table(full).column("result").to_pylist()
    assert not side_paths(part)["parts"].exists()
