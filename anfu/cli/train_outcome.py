"""`anfu train-outcome`: relearn the quality score, 安抚成功 and outcome from rated dialogues."""

from __future__ import annotations

import json

import typer

from ..errors import AnfuError
from . import app
from .common import fail


@app.command("train-outcome")
def train_outcome_command(
    out: str = typer.Option("outcome.json", "--out", help="Where to write the weights (JSON)."),
) -> None:
    """Fit the outcome model on the STC-3 dialogues' satisfaction ratings (S/A/E, 19 annotators).

    Dialogues whose numeric id modulo 5 is 0 are held out; the held-out agreement is printed and
    stored in the weights file. To use new weights, set weights = "PATH" in the
    components."anfu.outcome.v1" table of a pipeline config.
    """
    from ..training.outcome import train_outcome

    try:
        metrics = train_outcome(out)
    except AnfuError as exc:
        raise fail(exc) from None
    typer.echo(f"wrote {out}")
    typer.echo(json.dumps(metrics, ensure_ascii=False))
