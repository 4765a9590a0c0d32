"""`anfu scenarios --json` and `anfu simulate`: the JSON-lines contract, byte-identical for the
same seed and replies, bad lines as coded errors, and no LLM call unless one is configured."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from anfu.cli import _register_commands, app
from anfu.glossary import PERSONAS

_register_commands()
runner = CliRunner()

REPLIES = [
    "您好，非常抱歉让您等了这么久，换作是我也会着急，您慢慢说，我在听。",
    "请问家里有没有老人或者特殊情况？停电对您影响大吗？",
    "这是我们公司的规定。",
    "我马上为您派抢修人员，2小时内到达现场，工单号我短信发给您。",
]


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """The simulator is offline: any attempt to open a URL fails the test."""
    monkeypatch.delenv("ANFU_SIMULATOR_LLM_URL", raising=False)
    monkeypatch.delenv("ANFU_SCENARIOS_DIR", raising=False)

    def refuse(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("the simulator tried to reach the network")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


def _input(replies: list[str]) -> str:
    return "".join(json.dumps({"text": r}, ensure_ascii=False) + "\n" for r in replies)


def test_scenarios_json_lists_the_contract_fields() -> None:
    result = runner.invoke(app, ["scenarios", "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) >= 36
    assert all(set(r) == {"id", "industry", "cause", "persona", "title"} for r in rows)
    assert {r["persona"] for r in rows} == set(PERSONAS)
    table = runner.invoke(app, ["scenarios"])
    assert table.exit_code == 0 and "power_outage_elderly" in table.stdout


def test_simulate_writes_the_json_lines_contract() -> None:
    result = runner.invoke(app, ["simulate", "--scenario", "power_outage_elderly", "--seed", "7", "-"],
                           input=_input(REPLIES))
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 1 + 2 * len(REPLIES) + 1
    customers = lines[0:-1:2]
    agents = lines[1:-1:2]
    assert all(set(c) == {"speaker", "text", "emotion", "intensity"} and c["speaker"] == "customer" for c in customers)
    assert all(set(a) == {"speaker", "text", "violation", "findings"} and a["speaker"] == "agent" for a in agents)
    assert [a["text"] for a in agents] == REPLIES
    assert agents[2]["violation"] is True and agents[2]["findings"][0]["category"] == "policy_wall"
    summary = lines[-1]["summary"]
    assert set(summary) == {"score", "calmed", "outcome", "feedback"}
    assert 0 <= summary["score"] <= 100 and summary["outcome"] in ("resolved", "escalated", "ongoing")
    weak = [f for f in summary["feedback"] if f.get("scope") == "turn" and f["verdict"] != "good"]
    assert weak and all(f["better"] for f in weak)


def test_the_same_seed_and_replies_give_byte_identical_output(tmp_path: Path) -> None:
    src = tmp_path / "replies.jsonl"
    src.write_text(_input(REPLIES), encoding="utf-8")
    outputs = []
    for i in range(2):
        out = tmp_path / f"out{i}.jsonl"
        result = runner.invoke(app, ["simulate", "--scenario", "power_outage_elderly", "--seed", "3", str(src),
                                     "-o", str(out)])
        assert result.exit_code == 0, result.output
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    other = runner.invoke(app, ["simulate", "--scenario", "power_outage_elderly", "--seed", "4", str(src)])
    assert other.exit_code == 0


def test_bad_lines_become_coded_errors_and_the_session_goes_on() -> None:
    data = "not json\n" + json.dumps({"reply": "x"}) + "\n[1]\n" + json.dumps({"text": ""}) + "\n" + _input(REPLIES[:1])
    result = runner.invoke(app, ["simulate", "--scenario", "ecom_refund_stuck", "-"], input=data)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    codes = [line["error"]["code"] for line in lines if "error" in line]
    assert codes == ["AF001", "AF705", "AF009", "AF004"]
    assert [line["speaker"] for line in lines if "speaker" in line] == ["customer", "agent", "customer"]


def test_unknown_scenario_exits_2() -> None:
    result = runner.invoke(app, ["simulate", "--scenario", "nope", "-"], input="")
    assert result.exit_code == 2 and "AF702" in result.output


def test_a_centres_own_scenario_folder(tmp_path: Path) -> None:
    shipped = Path(__file__).resolve().parents[2] / "anfu" / "rules" / "zh_CN" / "scenarios" / "bank_atm_swallow.yaml"
    (tmp_path / "bank_atm_swallow.yaml").write_bytes(shipped.read_bytes())
    result = runner.invoke(app, ["scenarios", "--json", "--scenarios", str(tmp_path)])
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["bank_atm_swallow"]
    empty = runner.invoke(app, ["scenarios", "--scenarios", str(tmp_path / "none")])
    assert empty.exit_code == 2 and "AF701" in empty.output


def test_byte_identical_across_processes(tmp_path: Path) -> None:
    """Two separate runs (different hash seeds) of the installed command give the same bytes."""
    import os
    import subprocess
    import sys

    src = tmp_path / "replies.jsonl"
    src.write_text(_input(REPLIES), encoding="utf-8")
    outputs = []
    for hash_seed in ("1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        env.pop("ANFU_SIMULATOR_LLM_URL", None)
        done = subprocess.run([sys.executable, "-c", "from anfu.cli import main; main()", "simulate", "--scenario",
                               "telecom_roaming_bill", "--seed", "9", str(src)],
                              capture_output=True, env=env, timeout=600, check=True)
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1] and outputs[0].count(b"\n") == 2 + 2 * len(REPLIES)
