"""`anfu analyze`: JSON Lines in, one JSON object per line out (the contract in DESIGN.md)."""

from __future__ import annotations

import json
from typing import Iterator, Optional

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from ..errors import AnfuError
from ..intake import error_record, read_jsonl
from . import app
from .common import fail, open_input, open_output


class _Counting:
    """Wraps a binary stream to count bytes read, for the progress bar."""

    def __init__(self, stream) -> None:  # noqa: ANN001
        self.stream = stream
        self.read_bytes = 0

    def __iter__(self) -> Iterator[bytes]:
        for line in self.stream:
            self.read_bytes += len(line)
            yield line


@app.command()
def analyze(
    input: str = typer.Argument("-", help="JSON Lines file to analyse, or - for standard input."),
    output: Optional[str] = typer.Option(None, "-o", "--output", help="Write results here (default: standard output)."),
    config: Optional[str] = typer.Option(None, "--config", help="Pipeline config TOML (default: the shipped one)."),
    batch_size: int = typer.Option(64, "--batch-size", min=1, help="How many lines to analyse together."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar on stderr for files."),
) -> None:
    """Analyse utterances or conversations, one JSON object per line.

    Each line is {"id", "text"} (one customer message) or {"id", "turns": [{"speaker", "text"}]}
    (a conversation). Each output line has the same id; a bad line becomes {"id", "error"} and
    the run goes on.
    """
    from .. import load

    try:
        analyzer = load(config)
    except AnfuError as exc:
        raise fail(exc) from None
    with open_input(input) as (stream, size), open_output(output) as out:
        counting = _Counting(stream)
        show = progress and size is not None and output not in (None, "-")
        with Progress(TextColumn("{task.description}"), BarColumn(), TimeRemainingColumn(),
                      disable=not show, transient=True) as bar:
            task = bar.add_task("analysing", total=size or 1)
            pending: list[tuple[str | None, object]] = []

            def flush() -> None:
                docs = [d for _, d in pending if not isinstance(d, AnfuError)]
                results = iter(analyzer.pipe(docs, batch_size=batch_size)) if docs else iter(())
                for rid, doc in pending:
                    if isinstance(doc, AnfuError):
                        record = error_record(rid, doc)
                    else:
                        record = next(results).to_dict()
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
                out.flush()
                pending.clear()
                bar.update(task, completed=counting.read_bytes)

            for _, rid, doc in read_jsonl(counting, max_chars=analyzer.max_chars):
                pending.append((rid, doc))
                if len(pending) >= batch_size:
                    flush()
            flush()
