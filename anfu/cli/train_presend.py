"""`anfu train-presend`: relearn the in-context pre-send check from labelled agent turns."""

from __future__ import annotations

import json

import typer

from ..errors import AnfuError
from . import app
from .common import fail


@app.command("train-presend")
def train_presend_command(
    out: str = typer.Option("reply_context.npz", "--out", help="Where to write the weights (.npz); the "
                            "metrics JSON goes beside it."),
) -> None:
    """Fit the in-context pre-send model on labelled agent turns: every STC-3 helpdesk turn we
    labelled (real replies, split by dialogue), the agent turns of our written conversations
    and our standalone replies. The threshold comes from cross-validation on the training rows;
    held-out scores are printed. To use new weights, set context = "PATH" in the
    components."anfu.presend.v1" table of a pipeline config.
    """
    from ..training.presend import train_presend

    try:
        metrics = train_presend(out)
    except AnfuError as exc:
        raise fail(exc) from None
    typer.echo(f"wrote {out} (threshold {metrics['threshold']}, consider {metrics['consider']})")
    typer.echo(json.dumps(metrics["heldout_model"], ensure_ascii=False))
