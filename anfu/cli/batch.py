"""`anfu batch analyze|qa IN -o OUT`: archives (JSONL, CSV, Excel, folders of .txt/.srt/.eml
transcripts) analysed or inspected on every core or a Ray cluster, resumable, with a report."""

from __future__ import annotations

from typing import Any, Optional

import typer
from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)
from rich.text import Text

from ..errors import AnfuError
from . import app
from .common import fail

batch_app = typer.Typer(help="Analyse or inspect (质检) whole archives: every core, or a Ray cluster.",
                        no_args_is_help=True)
app.add_typer(batch_app, name="batch")


class RateColumn(ProgressColumn):
    """Records per second."""

    def render(self, task: Any) -> Text:
        speed = task.finished_speed or task.speed
        return Text("—/s" if speed is None else f"{speed:,.0f} 条/s")


def _run(mode: str, input: str, output: str, workers: Optional[int], backend: str, ray_address: Optional[str],
         resume: bool, chunk_size: int, fmt: Optional[str], config: Optional[str], scorecard: str,
         rules: Optional[str], report: bool, progress: bool, encoding: str = "utf-8") -> None:
    from .. import load, registry
    from ..batch.backends.local import default_workers
    from ..batch.report import write_pdf, write_xlsx
    from ..batch.runner import count_items, run_batch, side_paths

    err = Console(stderr=True)
    try:
        analyzer = load(config)
        card = None
        if mode == "qa":
            from ..inspection.scorecard import load_scorecard

            card = load_scorecard(scorecard, rules_dir=rules)
        kwargs: dict[str, Any] = {"workers": workers or default_workers()}
        if backend == "ray":
            kwargs["address"] = ray_address
        runner = registry.batch_backends.get(backend)(analyzer, mode=mode, scorecard=card, **kwargs)
        total = count_items(input, output)
        show = progress and err.is_terminal
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(),
                      TimeElapsedColumn(), TimeRemainingColumn(), console=err, disable=not show) as bar:
            task = bar.add_task("质检" if mode == "qa" else "分析", total=total)
            stats = run_batch(input, output, runner, mode=mode, resume=resume, chunk_size=chunk_size, fmt=fmt,
                              on_progress=lambda done, _w: bar.update(task, completed=done), encoding=encoding)
        figures = stats.summary
        if report:
            write_xlsx(figures, f"{output}.report.xlsx")
            write_pdf(figures, f"{output}.report.pdf")
    except AnfuError as exc:
        raise fail(exc) from None
    paths = side_paths(output)
    rate = (stats.items - stats.resumed_from) / stats.seconds if stats.seconds else 0.0
    typer.echo(f"{stats.items} records ({stats.written} written, {stats.errors} errors → {paths['errors']})"
               f"{f', resumed at {stats.resumed_from}' if stats.resumed_from else ''} in {stats.seconds:.1f} s "
               f"({rate:,.0f}/s, backend {backend}, {kwargs['workers']} workers)", err=True)
    typer.echo(f"summary: {paths['summary']}" + (f"; report: {output}.report.xlsx, {output}.report.pdf" if report else ""),
               err=True)


_OUT = typer.Option(..., "-o", "--output", help="Results file: .jsonl (default) or .parquet.")
_WORKERS = typer.Option(None, "--workers", min=1, help="Worker processes (local) or Ray actors (default: all cores).")
_BACKEND = typer.Option("local", "--backend", help="local (process pool) or ray (the anfu[scale] extra).")
_ADDRESS = typer.Option(None, "--ray-address", help="An existing Ray cluster, e.g. ray://head:10001 or auto "
                                                   "(default: start a local Ray).")
_RESUME = typer.Option(False, "--resume", help="Continue an interrupted run from its checkpoint (OUT.progress.json).")
_CHUNK = typer.Option(1000, "--chunk-size", min=1, help="Records per chunk sent to a worker.")
_FORMAT = typer.Option(None, "--format", help="jsonl or parquet (default: from the output suffix).")
_CONFIG = typer.Option(None, "--config", help="Pipeline config TOML (default: the shipped one).")
_REPORT = typer.Option(True, "--report/--no-report", help="Write OUT.report.xlsx and OUT.report.pdf.")
_ENCODING = typer.Option("utf-8", "--encoding", help="Encoding of the CSV and transcript files, e.g. gb18030 "
                                                     "(JSONL is UTF-8; Excel carries its own).")
_PROGRESS = typer.Option(True, "--progress/--no-progress", help="Progress bar with rate and ETA on a terminal.")


@batch_app.command("analyze")
def batch_analyze(
    input: str = typer.Argument(..., help="A .jsonl/.csv/.xlsx file or a folder of them and of .txt/.srt/.eml transcripts."),
    output: str = _OUT, workers: Optional[int] = _WORKERS, backend: str = _BACKEND,
    ray_address: Optional[str] = _ADDRESS, resume: bool = _RESUME, chunk_size: int = _CHUNK,
    format: Optional[str] = _FORMAT, config: Optional[str] = _CONFIG, report: bool = _REPORT,
    progress: bool = _PROGRESS, encoding: str = _ENCODING,
) -> None:
    """Analyse every record of an archive: one `anfu analyze` object per good record."""
    _run("analyze", input, output, workers, backend, ray_address, resume, chunk_size, format, config,
         "default", None, report, progress, encoding)


@batch_app.command("qa")
def batch_qa(
    input: str = typer.Argument(..., help="A .jsonl/.csv/.xlsx file or a folder of them and of .txt/.srt/.eml transcripts."),
    output: str = _OUT, workers: Optional[int] = _WORKERS, backend: str = _BACKEND,
    ray_address: Optional[str] = _ADDRESS, resume: bool = _RESUME, chunk_size: int = _CHUNK,
    format: Optional[str] = _FORMAT, config: Optional[str] = _CONFIG,
    scorecard: str = typer.Option("default", "--scorecard", help="Scorecard pack scorecards/<name>.yaml."),
    rules: Optional[str] = typer.Option(None, "--rules", help="Rule-pack folder holding scorecards/ (default: shipped)."),
    report: bool = _REPORT, progress: bool = _PROGRESS, encoding: str = _ENCODING,
) -> None:
    """Inspect (质检) every conversation of an archive with a scorecard, evidence spans included."""
    _run("qa", input, output, workers, backend, ray_address, resume, chunk_size, format, config,
         scorecard, rules, report, progress, encoding)
