"""`anfu scenarios` and `anfu simulate`: the training simulator on the command line, for scripted
practice and tests.

`anfu simulate --scenario ID --seed N -` reads the trainee's replies, one JSON line
`{"text": ...}` each, and writes JSON lines: the customer `{"speaker": "customer", "text",
"emotion", "intensity"}` before each reply and after the last, the reply as read
`{"speaker": "agent", "text", "violation", "findings"}`, and a final `{"summary": {"score",
"calmed", "outcome", "feedback"}}`. The same scenario, seed and replies give byte-identical output.
"""

from __future__ import annotations

import json
from typing import Any, Optional

import typer

from ..errors import AnfuError, InputError, TrainingError
from . import app
from .common import dumps_line, fail, open_input, open_output

SCENARIOS_HELP = "Folder of scenario files (default: the shipped anfu/rules/zh_CN/scenarios/)."


@app.command()
def scenarios(
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line: id, industry, cause, persona, title."),
    scenarios_dir: Optional[str] = typer.Option(None, "--scenarios", envvar="ANFU_SCENARIOS_DIR", help=SCENARIOS_HELP),
) -> None:
    """List the training scenarios."""
    from ..simulator import load_scenarios

    try:
        found = load_scenarios(scenarios_dir)
    except AnfuError as exc:
        raise fail(exc) from None
    if as_json:
        for scenario in found:
            typer.echo(dumps_line(scenario.listing()), nl=False)
        return
    width = max(len(s.id) for s in found)
    for scenario in found:
        typer.echo(f"{scenario.id:<{width}}  {scenario.industry:<11}  {scenario.cause:<14}  {scenario.persona}  "
                   f"{scenario.title}")


def parse_reply(raw: bytes) -> str:
    """The text of one input line; a coded InputError/TrainingError otherwise."""
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError("AF006", f"byte {exc.start}") from None
    try:
        value: Any = json.loads(line)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise InputError("AF001", str(exc)[:120]) from None
    if not isinstance(value, dict):
        raise InputError("AF009", type(value).__name__)
    if "text" not in value:
        raise TrainingError("AF705", f"keys {sorted(map(str, value))[:8]}")
    if not isinstance(value["text"], str):
        raise InputError("AF003", type(value["text"]).__name__)
    return value["text"]


@app.command()
def simulate(
    input: str = typer.Argument("-", help="Trainee replies, one JSON line {\"text\": ...} each, or - for standard input."),
    scenario_id: str = typer.Option(..., "--scenario", help="Scenario id (see `anfu scenarios`)."),
    seed: int = typer.Option(0, "--seed", help="Random seed: the same seed and replies give the same session."),
    output: Optional[str] = typer.Option(None, "-o", "--output", help="Write the session here (default: standard output)."),
    scenarios_dir: Optional[str] = typer.Option(None, "--scenarios", envvar="ANFU_SCENARIOS_DIR", help=SCENARIOS_HELP),
    llm_url: Optional[str] = typer.Option(None, "--llm-url", envvar="ANFU_SIMULATOR_LLM_URL",
                                          help="Optional OpenAI-compatible chat completions URL that rephrases the "
                                               "customer's lines (default: the phrase bank only)."),
    llm_model: Optional[str] = typer.Option(None, "--llm-model", envvar="ANFU_SIMULATOR_LLM_MODEL",
                                            help="Model name for --llm-url."),
) -> None:
    """Practise a scenario against the simulated customer, one reply per input line."""
    from ..simulator import Simulator, get_scenario
    from ..simulator.voice import voice_from_config

    try:
        scenario = get_scenario(scenario_id, scenarios_dir)
        voice = voice_from_config(llm_url, llm_model)
        sim = Simulator(scenario, seed, voice=voice)
    except AnfuError as exc:
        raise fail(exc) from None
    with open_input(input) as (stream, _), open_output(output) as out:
        out.write(dumps_line(sim.start().to_dict()))
        for raw in stream:
            if not raw.strip():
                continue
            try:
                turn, line = sim.reply(parse_reply(raw.rstrip(b"\r\n")))
            except AnfuError as exc:
                out.write(dumps_line({"error": exc.to_dict()}))
                continue
            out.write(dumps_line(turn.to_dict()))
            out.write(dumps_line(line.to_dict()))
            out.flush()
        out.write(dumps_line({"summary": sim.summary()}))
