"""Shared CLI plumbing: opening inputs and outputs, printing coded errors without tracebacks."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable, Iterator, Mapping, TextIO

import typer

from ..errors import AnfuError, InputError, ModelError


def dumps_line(record: Any) -> str:
    """One output line of JSON (UTF-8 safe: anything unencodable is replaced, never raised)."""
    line = json.dumps(record, ensure_ascii=False) + "\n"
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        line = line.encode("utf-8", "replace").decode("utf-8")
    return line


def fail(error: AnfuError) -> "typer.Exit":
    typer.echo(f"error {error.code}: {error.message}", err=True)
    return typer.Exit(code=2)


def coded(exc: BaseException) -> AnfuError | None:
    """The coded error for an exception that escaped a command: itself when coded, AF501 for a
    database that refused or did not answer the connection; None for anything else (a bug)."""
    if isinstance(exc, AnfuError):
        return exc
    from ..store.engine import connection_error

    return connection_error(exc)


def training_examples(shipped: list[Any], data: Iterable[str] | None, load: Callable[[str], list[Any]]) -> list[Any]:
    """The `train*` commands' rows: the shipped ones plus those loaded from each --data file;
    AF202 when there are none at all."""
    examples = shipped
    for path in data or []:
        examples.extend(load(path))
    if not examples:
        raise ModelError("AF202", "(no --data given and the shipped corpus was excluded)")
    return examples


def echo_weights_written(metrics: Mapping[str, Any], calibration: str) -> None:
    """The `train*` commands' first line: where the weights went, their size and vocabulary."""
    typer.echo(f"wrote {metrics['weights']} ({metrics['size_bytes'] // 1024} KiB, "
               f"{metrics['vocabulary']} terms, {calibration})")


@contextlib.contextmanager
def open_input(path: str) -> Iterator[tuple[BinaryIO, int | None]]:
    """Yield (binary stream, size in bytes or None for stdin); '-' is standard input."""
    if path == "-":
        yield sys.stdin.buffer, None
        return
    p = Path(path)
    try:
        fh = p.open("rb")
    except OSError as exc:
        raise fail(InputError("AF011", f"{path} ({exc.strerror})")) from None
    with fh:
        yield fh, p.stat().st_size


@contextlib.contextmanager
def open_output(path: str | None) -> Iterator[TextIO]:
    if path in (None, "-"):
        yield sys.stdout
        return
    try:
        fh = open(path, "w", encoding="utf-8")
    except OSError as exc:
        raise fail(InputError("AF011", f"{path} ({exc.strerror})")) from None
    with fh:
        yield fh
