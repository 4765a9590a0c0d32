from __future__ import annotations

import json
from pathlib import Path

import pytest

from anfu.channels.dropfolder import poll_mailbox
from anfu.errors import InputError

GOOD = ("From: 赵女士 <zhao@example.com>\r\nSubject: 燃气费\r\nMessage-ID: <g1@example.com>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n燃气费一下子扣了三百多，麻烦查一下。\r\n").encode("utf-8")


def test_poll_moves_processed_and_failed(tmp_path: Path) -> None:
    (tmp_path / "a.eml").write_bytes(GOOD)
    (tmp_path / "b.eml").write_bytes(b"garbage without headers")
    (tmp_path / "notes.txt").write_text("not mail", encoding="utf-8")
    seen = []
    report = poll_mailbox(tmp_path, lambda threads, path: seen.append((path.name, threads)))
    assert report.processed == ["a.eml"] and report.failed == {"b.eml": "AF030"}
    assert seen[0][1][0].utterances[0].text == "燃气费一下子扣了三百多，麻烦查一下。"
    # the mail itself is gone (the store holds it, where erasure reaches it): a receipt is left
    assert not (tmp_path / "a.eml").exists() and not (tmp_path / "processed" / "a.eml").exists()
    receipt = json.loads((tmp_path / "processed" / "a.eml.json").read_text(encoding="utf-8"))
    assert receipt["file"] == "a.eml" and len(receipt["messages"]) == 1
    err = json.loads((tmp_path / "failed" / "b.eml.error.json").read_text(encoding="utf-8"))
    assert err["code"] == "AF030"
    assert (tmp_path / "notes.txt").exists()
    # a second poll finds nothing new
    again = poll_mailbox(tmp_path, lambda threads, path: seen.append(path))
    assert again.processed == [] and again.failed == {} and len(seen) == 1


def test_handler_failure_that_is_not_coded_keeps_the_file(tmp_path: Path) -> None:
    (tmp_path / "a.eml").write_bytes(GOOD)

    def broken(threads, path):
        raise RuntimeError("database down")

    with pytest.raises(RuntimeError):
        poll_mailbox(tmp_path, broken)
    assert (tmp_path / "a.eml").exists()


def test_settling_files_are_skipped_and_missing_folder_is_coded(tmp_path: Path) -> None:
    (tmp_path / "a.eml").write_bytes(GOOD)
    assert poll_mailbox(tmp_path, lambda t, p: None, settle_s=3600).processed == []
    with pytest.raises(InputError) as info:
        poll_mailbox(tmp_path / "nope", lambda t, p: None)
    assert info.value.code == "AF011"
