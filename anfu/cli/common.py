"""Shared CLI plumbing: opening inputs and outputs, printing coded errors without tracebacks."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import BinaryIO, Iterator, TextIO

import typer

from ..errors import AnfuError, InputError


def fail(error: AnfuError) -> "typer.Exit":
    typer.echo(f"error {error.code}: {error.message}", err=True)
    return typer.Exit(code=2)


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
