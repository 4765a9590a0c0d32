"""`anfu train-replies`: retrain the sentence classifier of the pre-send check (服务忌语) on labelled replies."""

from __future__ import annotations

from typing import List, Optional

import typer

from ..errors import AnfuError
from . import app
from .common import echo_weights_written, fail, training_examples


@app.command("train-replies")
def train_replies_command(
    data: Optional[List[str]] = typer.Option(None, "--data", help="Labelled JSONL or CSV file with the columns text, "
                                             "violation (true/false) and category (optional id); repeat for several files."),
    out: str = typer.Option("reply_ngram.npz", "--out", help="Where to write the weights (.npz); the metrics JSON "
                            "goes beside it."),
    corpus: bool = typer.Option(True, "--corpus/--no-corpus", help="Also train on the shipped labelled replies "
                                "(corpus/replies/*.jsonl)."),
    rules_dir: Optional[str] = typer.Option(None, "--rules", help="Folder of rule packs whose forbidden-phrases "
                                            "categories and mitigations the model follows (default: the shipped zh_CN packs)."),
    precision: float = typer.Option(0.97, "--precision", min=0.5, max=0.999, help="Target precision of the model "
                                    "alone; the threshold is chosen by cross-validation on the training replies."),
    evaluate: bool = typer.Option(True, "--evaluate/--no-evaluate", help="Also score rules alone vs rules + model by "
                                  "5-fold cross-validation and on the held-out split (slower)."),
) -> None:
    """Fit the reply violation classifier on all labelled replies, write weights + metrics.

    With no --data it rebuilds the shipped model (`make train-replies`). To use new weights,
    set model = "PATH" in the components."anfu.presend.v1" table of a pipeline config.
    """
    from ..training.replies import default_reply_examples, load_reply_file, pack_categories, train_replies

    try:
        categories = pack_categories(rules_dir)
        examples = training_examples(default_reply_examples(categories) if corpus else [], data,
                                     lambda path: load_reply_file(path, categories))
        metrics = train_replies(examples, out, rules_dir=rules_dir, target=precision, evaluate=evaluate)
    except AnfuError as exc:
        raise fail(exc) from None
    echo_weights_written(metrics, f"threshold={metrics['threshold']}")
    evaluation = metrics.get("evaluation") or {}
    scores = (evaluation.get("cross_validation") or {}).get("scores", {}).get("all")
    if scores:
        for column in ("rules", "hybrid"):
            s = scores[column]
            typer.echo(f"cross-validation {column}: precision={s['precision']} recall={s['recall']} (n={s['n']})")
