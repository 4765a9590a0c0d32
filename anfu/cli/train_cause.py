"""`anfu train-cause`: retrain the cause classifier that backs the cause rules."""

from __future__ import annotations

from typing import List, Optional

import typer

from ..errors import AnfuError
from . import app
from .common import echo_weights_written, fail, training_examples


@app.command("train-cause")
def train_cause_command(
    data: Optional[List[str]] = typer.Option(None, "--data", help="Labelled JSONL or CSV file with the columns "
                                             "text and cause (optional id, industry); repeat for several files."),
    out: str = typer.Option("cause_ngram.npz", "--out", help="Where to write the weights (.npz); the metrics "
                            "JSON goes beside it."),
    corpus: bool = typer.Option(True, "--corpus/--no-corpus", help="Also train on the shipped corpus "
                                "(corpus/service/*.jsonl and, when present, our STC-3 cause labels)."),
) -> None:
    """Fit the char n-gram cause classifier, report held-out accuracy, write weights + metrics.

    With no --data it rebuilds the shipped model. To use new weights, set model = "PATH" in
    the components."anfu.cause.v1" table of a pipeline config.
    """
    from ..training.cause import default_cause_examples, load_cause_file, train_cause

    try:
        examples = training_examples(default_cause_examples() if corpus else [], data, load_cause_file)
        metrics = train_cause(examples, out)
    except AnfuError as exc:
        raise fail(exc) from None
    echo_weights_written(metrics, f"T={metrics['temperature']}")
    for source, scores in metrics["heldout_model_only"].items():
        typer.echo(f"held-out {source}: n={scores['n']} accuracy={scores['accuracy']} (model alone)")
    if not metrics["heldout_model_only"]:
        typer.echo("held-out: no held-out rows (ids hash into the split 1 in 5)")
