"""The operator's mistakes (a probe of session 15): every one is `error AF###: …` and exit 2 (or a
listed problem and exit 1 for `check-rules`), never a traceback, never silently accepted. Each
runs the real `anfu` command in a fresh folder, with no ANFU_* variable of the caller.

Settings: an unreachable PostgreSQL, a database URL whose port is no number, `db current` on an
in-memory SQLite URL, a data folder that is a file or cannot be made, a `.env` that is not UTF-8,
an empty ANFU_HOST (it bound every interface), a port already held. Rule packs: `check-rules` on a
missing folder (it said OK), a pack or a scenario that is not UTF-8, a folder named like a pack, a
regex with a global flag (it passed the check and broke `analyze`), scorecard patterns written as a
string (they matched single characters). Config: a TOML file that is not UTF-8, a table for a
misspelt component, an unknown key of [limits] (both ignored)."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ANFU = str(Path(sys.executable).with_name("anfu"))
SHIPPED_RULES = Path(__file__).resolve().parents[2] / "anfu" / "rules" / "zh_CN"
CODE = re.compile(r"error AF\d{3}: ")
UTTERANCE = '{"id": "u1", "text": "电费怎么这么高"}\n'
UNREACHABLE_PG = "postgresql+psycopg://anfu:pw@127.0.0.1:1/anfu"  # nothing listens on port 1


def env(data_dir: Path | str, **extra: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.upper().startswith("ANFU_")}
    clean["ANFU_DATA_DIR"] = str(data_dir)
    clean.update(extra)
    return clean


def anfu(args: list[str], cwd: Path, timeout: int = 180, **extra: str) -> subprocess.CompletedProcess[str]:
    data_dir = extra.pop("ANFU_DATA_DIR", str(cwd / "data"))
    return subprocess.run([ANFU, *args], cwd=cwd, env=env(data_dir, **extra), capture_output=True, text=True,
                          timeout=timeout)


def assert_coded(proc: subprocess.CompletedProcess[str], code: str | None = None) -> None:
    tail = proc.stderr[-1500:]
    assert "Traceback" not in proc.stderr, f"traceback (rc={proc.returncode}):\n{tail}"
    assert CODE.search(proc.stderr), f"no coded error (rc={proc.returncode}):\n{tail}"
    if code is not None:
        assert f"error {code}:" in proc.stderr, f"expected {code} (rc={proc.returncode}):\n{tail}"
    assert proc.returncode == 2, f"exit status {proc.returncode}:\n{tail}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- settings ---------------------------------------------------------------------------------------
def test_an_unreachable_postgresql_is_af501(tmp_path: Path) -> None:
    proc = anfu(["db", "current"], tmp_path, ANFU_DATABASE_URL=UNREACHABLE_PG)
    assert_coded(proc, "AF501")
    assert "cannot connect" in proc.stderr and "pw" not in proc.stderr  # never the password


def test_a_database_port_that_is_no_number_is_af501(tmp_path: Path) -> None:
    assert_coded(anfu(["db", "upgrade"], tmp_path, ANFU_DATABASE_URL="postgresql+psycopg://anfu:pw@db:54x2/anfu"),
                 "AF501")


def test_db_current_on_in_memory_sqlite_is_af501(tmp_path: Path) -> None:
    assert_coded(anfu(["db", "current"], tmp_path, ANFU_DATABASE_URL="sqlite:///"), "AF501")


def test_a_data_folder_that_is_a_file_is_af402(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("not a folder\n")
    assert_coded(anfu(["db", "upgrade"], tmp_path, ANFU_DATA_DIR=str(tmp_path / "afile")), "AF402")
    assert_coded(anfu(["db", "upgrade"], tmp_path, ANFU_DATA_DIR="/proc/anfu-cannot-exist"), "AF402")


def test_a_dot_env_that_is_not_utf8_is_af402(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes("ANFU_PORT=8001\n# 你好\n".encode("gb18030"))
    proc = anfu(["db", "current"], tmp_path)
    assert_coded(proc, "AF402")
    assert ".env" in proc.stderr


def test_an_empty_anfu_host_is_refused_not_every_interface(tmp_path: Path) -> None:
    proc = anfu(["serve", "--port", str(free_port())], tmp_path, timeout=60, ANFU_HOST="")
    assert_coded(proc, "AF402")
    assert "ANFU_HOST" in proc.stderr


def test_serve_on_a_held_port_is_af402(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        proc = anfu(["serve", "--port", str(holder.getsockname()[1])], tmp_path, timeout=120)
    assert_coded(proc, "AF402")
    assert "another program may hold the port" in proc.stderr


# -- rule packs -------------------------------------------------------------------------------------
def copy_rules(dest: Path) -> Path:
    shutil.copytree(SHIPPED_RULES, dest)
    return dest


def test_check_rules_on_a_missing_folder_is_af302(tmp_path: Path) -> None:
    proc = anfu(["check-rules", "--rules", str(tmp_path / "no-such-folder")], tmp_path)
    assert_coded(proc, "AF302")
    assert "OK" not in proc.stdout


def test_check_rules_lists_a_pack_that_is_not_utf8_and_a_folder_named_like_a_pack(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path / "rules")
    (rules / "abuse.yaml").write_bytes((rules / "abuse.yaml").read_text(encoding="utf-8").encode("gb18030"))
    (rules / "extra.yaml").mkdir()
    proc = anfu(["check-rules", "--rules", str(rules)], tmp_path)
    assert "Traceback" not in proc.stderr and proc.returncode == 1, proc.stderr[-1500:]
    assert "abuse" in proc.stdout and "not UTF-8" in proc.stdout and "extra" in proc.stdout


def test_a_scenario_that_is_not_utf8_is_af301(tmp_path: Path) -> None:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    src = (SHIPPED_RULES / "scenarios" / "generic_billing_error.yaml").read_text(encoding="utf-8")
    (folder / "generic_billing_error.yaml").write_bytes(src.encode("gb18030"))
    assert_coded(anfu(["scenarios", "--scenarios", str(folder)], tmp_path), "AF301")


def test_check_rules_refuses_a_global_regex_flag_that_breaks_the_joined_cues(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path / "rules")
    ladder = rules / "escalation_ladder.yaml"
    text = ladder.read_text(encoding="utf-8")
    old = '  - "(谢谢|多谢|麻烦你了|辛苦了|有劳)"'
    assert old in text
    ladder.write_text(text.replace(old, '  - "(?i)(谢谢|多谢|麻烦你了|辛苦了|有劳|thanks)"', 1), encoding="utf-8")
    check = anfu(["check-rules", "--rules", str(rules)], tmp_path)
    assert check.returncode == 1 and "escalation_ladder" in check.stdout and "(?i:" in check.stdout, check.stdout[-800:]
    (tmp_path / "cfg.toml").write_text(f'[components."anfu.escalation.v1"]\nrules_dir = "{rules}"\n', encoding="utf-8")
    (tmp_path / "in.jsonl").write_text(UTTERANCE, encoding="utf-8")
    assert_coded(anfu(["analyze", "--config", "cfg.toml", "in.jsonl"], tmp_path), "AF301")


def test_scorecard_patterns_written_as_a_string_are_refused(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path / "rules")
    card = rules / "scorecards" / "default.yaml"
    text = card.read_text(encoding="utf-8")
    old = "patterns: ['您好', '你好', '很高兴为您服务', '请问(有什么|有啥)可以帮', '感谢(您的)?(来电|致电|耐心)']"
    assert old in text
    card.write_text(text.replace(old, "patterns: '您好'", 1), encoding="utf-8")
    check = anfu(["check-rules", "--rules", str(rules)], tmp_path)
    assert check.returncode == 1 and "must be a list" in check.stdout, check.stdout[-800:]
    conv = {"id": "c1", "turns": [{"speaker": "agent", "text": "好的，说吧。"}, {"speaker": "customer", "text": "我的快递丢了"}]}
    (tmp_path / "conv.jsonl").write_text(json.dumps(conv, ensure_ascii=False) + "\n", encoding="utf-8")
    assert_coded(anfu(["batch", "qa", "conv.jsonl", "-o", "q.jsonl", "--rules", str(rules), "--workers", "1",
                       "--no-report", "--no-progress"], tmp_path), "AF301")


# -- the pipeline config ------------------------------------------------------------------------------
@pytest.mark.parametrize("toml, code", [
    ("# 本中心配置\n[limits]\nmax_chars = 8000\n".encode("gb18030"), "AF103"),
    ('[components."anfu.emotoin.v1"]\nweights = "/srv/centre.npz"\n'.encode(), "AF101"),
    (b"[limits]\nmax_char = 5\n", "AF102"),
], ids=["not-utf8", "misspelt-component", "unknown-limit"])
def test_config_mistakes_are_coded(tmp_path: Path, toml: bytes, code: str) -> None:
    (tmp_path / "cfg.toml").write_bytes(toml)
    (tmp_path / "in.jsonl").write_text(UTTERANCE, encoding="utf-8")
    assert_coded(anfu(["analyze", "--config", "cfg.toml", "in.jsonl"], tmp_path), code)
