"""`anfu train-persona` / `anfu train-sop`: retrain the learned persona and SOP stage models
from labelled conversations."""

from __future__ import annotations

from typing import List, Optional

import typer

from ..errors import AnfuError
from . import app
from .common import echo_weights_written, fail, training_examples


def _conversations(data: Optional[List[str]], corpus: bool) -> list:  # noqa: ANN401
    from ..training.conversations import default_conversations, load_conversation_file

    return training_examples(default_conversations() if corpus else [], data, load_conversation_file)


DATA_HELP = ("Labelled conversations (JSON Lines in the format of corpus/LABELS.md, \"Written "
             "conversations\"); repeat for several files.")
CORPUS_HELP = "Also train on the shipped written conversations (corpus/conversations/*.jsonl)."


@app.command("train-persona")
def train_persona_command(
    data: Optional[List[str]] = typer.Option(None, "--data", help=DATA_HELP),
    out: str = typer.Option("persona.npz", "--out", help="Where to write the weights (.npz); the metrics "
                            "JSON goes beside it."),
    corpus: bool = typer.Option(True, "--corpus/--no-corpus", help=CORPUS_HELP),
    real: bool = typer.Option(True, "--real/--no-real", help="Also learn from our persona labels of real "
                              "STC-3 dialogues (corpus/real/stc3_persona.jsonl, the texts in ../shared/data/stc3; "
                              "the development ones only) and fit the typedness gate (persona_gate.npz beside "
                              "the weights). Without them, or with --no-real, no gate is written."),
) -> None:
    """Fit the persona model of anfu.persona.v2, report held-out figures of v1 and v2, write weights + metrics.

    Conversations whose id hashes into the held-out split are never fit or tuned on. To use new
    weights, set model = "PATH" in the components."anfu.persona.v2" table of a pipeline config.
    """
    from ..training.persona import train_persona

    try:
        metrics = train_persona(_conversations(data, corpus), out, real=real)
    except AnfuError as exc:
        raise fail(exc) from None
    gate = metrics["gate"]
    echo_weights_written(metrics, f"T={metrics['temperature']}, " + (
        f"typedness gate at {gate['min_typed']}" if gate else f"abstain below {metrics['min_probability']}"))
    for name, s in metrics["heldout"].items():
        typer.echo(f"held-out {name}: n={s['n']} accuracy={s['accuracy']} abstention={s['abstention']} "
                   f"(accuracy counting abstentions as wrong {s['accuracy_all']})")


@app.command("train-sop")
def train_sop_command(
    data: Optional[List[str]] = typer.Option(None, "--data", help=DATA_HELP),
    out: str = typer.Option("sop.npz", "--out", help="Where to write the weights (.npz); the metrics JSON "
                            "goes beside it."),
    corpus: bool = typer.Option(True, "--corpus/--no-corpus", help=CORPUS_HELP),
) -> None:
    """Fit the per-turn SOP stage model of anfu.sop.v2, report held-out figures of v1 and v2, write weights + metrics.

    Conversations whose id hashes into the held-out split are never fit or tuned on. To use new
    weights, set model = "PATH" in the components."anfu.sop.v2" table of a pipeline config.
    """
    from ..training.sop import train_sop

    try:
        metrics = train_sop(_conversations(data, corpus), out)
    except AnfuError as exc:
        raise fail(exc) from None
    echo_weights_written(metrics, f"C={metrics['C']}")
    for name, s in metrics["heldout"].items():
        typer.echo(f"held-out {name}: n={s['n']} final stage accuracy={s['final_accuracy']} "
                   f"per-turn accuracy={s['turn_accuracy']}")
