"""`anfu train`: retrain the emotion model from labelled JSONL/CSV (a centre adapts it to its own talk)."""

from __future__ import annotations

import json
from typing import List, Optional

import typer

from ..errors import AnfuError
from . import app
from .common import echo_weights_written, fail, training_examples


@app.command()
def train(
    data: Optional[List[str]] = typer.Option(None, "--data", help="Labelled JSONL or CSV file (columns text, emotion, "
                                             "optional intensity and id); repeat for several files."),
    out: str = typer.Option("emotion_ngram.npz", "--out", help="Where to write the weights (.npz); the metrics "
                            "JSON goes beside it."),
    public: bool = typer.Option(True, "--public/--no-public", help="Also train on the public sets in "
                                "../shared/data (STC-3 turns we labelled, SMP2020, a slice of reviews) when present."),
    corpus: bool = typer.Option(True, "--corpus/--no-corpus", help="Also train on the shipped service corpus "
                                "(corpus/service/*.jsonl)."),
) -> None:
    """Fit the char n-gram emotion model, report held-out scores, write weights + metrics.

    With no --data it rebuilds the shipped model (`make train`). To use new weights, set
    the key weights = "PATH" in the components."anfu.emotion.v1" table of a pipeline config.
    """
    from ..training.data import default_examples, load_labelled_file
    from ..training.train import train as fit_and_write

    try:
        shipped = default_examples(public=public) if corpus else []
        if not corpus and public:
            shipped = [e for e in default_examples(public=True) if e.source != "service"]
        examples = training_examples(shipped, data, load_labelled_file)
        metrics = fit_and_write(examples, out)
    except AnfuError as exc:
        raise fail(exc) from None
    ours = metrics["heldout"].get("ours", {})
    echo_weights_written(metrics, f"T={metrics['temperature']}")
    typer.echo("train rows: " + json.dumps(metrics["train_rows"], ensure_ascii=False))
    for name, scores in metrics["heldout"].items():
        if scores.get("n"):
            typer.echo(f"held-out {name}: n={scores['n']} accuracy={scores['accuracy']} macro_f1={scores['macro_f1']}")
    if not ours.get("n"):
        typer.echo("held-out ours: no held-out rows of your own data (ids hash into the split 1 in 5)")
