"""`anfu train-risk`: relearn the escalation-risk head of `anfu.risk.v1` from labelled customer turns."""

from __future__ import annotations

import json

import typer

from ..errors import AnfuError
from . import app
from .common import fail


@app.command("train-risk")
def train_risk_command(
    out: str = typer.Option("risk_ngram.npz", "--out", help="Where to write the weights (.npz); the "
                            "metrics JSON goes beside it."),
) -> None:
    """Fit the escalation-risk head (升级风险) of anfu.risk.v1 on every STC-3 customer turn we
    labelled (real text, split by dialogue) and our written utterances: char n-grams, the rules'
    verdicts and the emotion model's reading. The design (how the head and the rules combine)
    and its thresholds come from cross-validation on the training dialogues; held-out scores are
    printed. To use new weights, set model = "PATH" in the components."anfu.risk.v1" table of a
    pipeline config.
    """
    from ..training.risk import train_risk

    try:
        metrics = train_risk(out)
    except AnfuError as exc:
        raise fail(exc) from None
    typer.echo(f"wrote {out} (design {metrics['design']}, rule threats kept at >= {metrics['hit_threshold']}, "
               f"other turns flagged at >= {metrics['rest_threshold']})")
    typer.echo(json.dumps(metrics.get("heldout", {}), ensure_ascii=False))
