"""`anfu analyze`: JSON Lines in, one JSON object per line out (the contract in DESIGN.md)."""

from __future__ import annotations

from typing import Iterator, Optional

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from ..errors import AnfuError, InputError
from ..intake import error_record, read_jsonl
from . import app
from .common import dumps_line, fail, open_input, open_output


def _one(analyzer, lineno: int, rid: str | None, doc: object) -> dict:  # noqa: ANN001
    """One document's result, or its coded error line (AF015) when analysing it fails."""
    try:
        return analyzer(doc).to_dict()
    except AnfuError as exc:
        return error_record(rid, exc)
    except Exception as exc:
        return error_record(rid, InputError("AF015", lineno, reason=type(exc).__name__))


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
            pending: list[tuple[int, str | None, object]] = []

            def flush() -> None:
                docs = [d for _, _, d in pending if not isinstance(d, AnfuError)]
                try:
                    results = iter([r.to_dict() for r in analyzer.pipe(docs, batch_size=batch_size)]) \
                        if docs else iter(())
                except Exception:  # a line the batch cannot take: analyse one by one
                    results = iter([_one(analyzer, lineno, rid, d) for lineno, rid, d in pending
                                    if not isinstance(d, AnfuError)])
                for _, rid, doc in pending:
                    record = error_record(rid, doc) if isinstance(doc, AnfuError) else next(results)
                    out.write(dumps_line(record))
                out.flush()
                pending.clear()
                bar.update(task, completed=counting.read_bytes)

            for lineno, rid, doc in read_jsonl(counting, max_chars=analyzer.max_chars):
                pending.append((lineno, rid, doc))
                if len(pending) >= batch_size:
                    flush()
            flush()
