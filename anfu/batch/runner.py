"""`run_batch`: stream an archive through a back-end into JSONL or Parquet, with an errors file,
a summary and a checkpoint so that `--resume` continues a killed run without losing or repeating
a record.

Files of a run writing OUT (all next to it):
- OUT                    results, one per good record, in input order (.jsonl, or .parquet);
- OUT.errors.jsonl       `{"source", "line", "id", "error": {"code", "message"}}` per bad record (the
                         source name and the message with personal data masked);
- OUT.summary.json       the figures of the report (see `summary.py`);
- OUT.progress.json      the checkpoint: input fingerprint, items done, bytes of OUT (or the
                         Parquet parts) and of the errors file that hold exactly those items,
                         and the summary state; written atomically (temp file + rename) after
                         the data it describes was flushed and fsynced.

Resuming truncates OUT and the errors file back to the checkpoint (dropping anything written
after it), restores the summary, skips the items done and goes on. A Parquet run writes
numbered part files under OUT.parts/ (each one committed whole) and joins them into OUT at the
end.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, Callable, Iterator

from ..errors import ExportError, InputError
from .sources import Item, encoding_name, fingerprint, input_files, iter_items
from .summary import Summary
from .work import MODES, ChunkResult

FORMATS = ("jsonl", "parquet")
SUFFIX_FORMATS = {"": "jsonl", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
CHECKPOINT_EVERY_S = 2.0
PARQUET_PART_ROWS = 50_000


@dataclass
class RunStats:
    items: int
    written: int
    errors: int
    seconds: float
    resumed_from: int
    summary: dict[str, Any]


def output_format(path: str | Path, fmt: str | None = None) -> str:
    """`fmt`, or the format the output's suffix names; AF012 for any other suffix (results.csv
    or results.xlsx would get JSON Lines under a misleading name)."""
    if fmt is None:
        suffix = Path(path).suffix.lower()
        if suffix not in SUFFIX_FORMATS:
            raise InputError("AF012", f"{suffix!r} (the suffix of the output {Path(path).name})",
                             allowed="jsonl, parquet: name the output .jsonl or .parquet, or pass --format")
        fmt = SUFFIX_FORMATS[suffix]
    if fmt not in FORMATS:
        raise InputError("AF012", repr(fmt), allowed=", ".join(FORMATS))
    return fmt


def side_paths(output: str | Path) -> dict[str, Path]:
    out = Path(output)
    return {"errors": Path(f"{out}.errors.jsonl"), "summary": Path(f"{out}.summary.json"),
            "progress": Path(f"{out}.progress.json"), "parts": Path(f"{out}.parts"),
            "report_xlsx": Path(f"{out}.report.xlsx"), "report_pdf": Path(f"{out}.report.pdf")}


def run_files(output: str | Path) -> list[Path]:
    """Every file a run writing `output` creates: never read as input (an output written inside
    the archive folder), never allowed to be an input file."""
    return [Path(output), *side_paths(output).values()]


def _refuse_overwrite(files: list[Path], output: Path) -> None:
    """AF038 when writing the run's files would destroy an input file."""
    inputs = {os.path.realpath(f): f for f in files}
    for own in run_files(output):
        hit = inputs.get(os.path.realpath(own))
        if hit is not None:
            raise InputError("AF038", str(own), input=str(hit))


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _settings(backend: Any) -> dict[str, Any]:
    """What besides the input decides the output, for `--resume` to compare: the Analyzer's
    configuration and the scorecard."""
    card = getattr(backend, "scorecard", None)
    return {"config": _digest(getattr(getattr(backend, "analyzer", None), "config", None)),
            "scorecard": None if card is None else [getattr(card, "name", None), _digest(getattr(card, "data", None))]}


def _read_checkpoint(path: Path) -> dict[str, Any]:
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        if not (isinstance(saved, dict) and isinstance(saved.get("identity"), dict)
                and isinstance(saved.get("state"), dict)
                and all(isinstance(saved["state"].get(k), int) for k in ("items", "written", "out_bytes",
                                                                       "err_bytes", "parts"))):
            raise ValueError("not a checkpoint")
    except (OSError, ValueError) as exc:
        raise InputError("AF037", f"the checkpoint {path} is damaged ({type(exc).__name__})") from None
    return saved


def _check_written(state: dict[str, Any], out: Path, paths: dict[str, Path], fmt: str) -> None:
    """AF037 when the data the checkpoint describes is no longer there (deleted or cut files)."""
    need = [(paths["errors"], state["err_bytes"])] + ([(out, state["out_bytes"])] if fmt == "jsonl" else [])
    for path, size in need:
        have = path.stat().st_size if path.is_file() else None
        if size and (have is None or have < size):
            raise InputError("AF037", f"{path} holds {'no file' if have is None else f'{have} bytes'} where the "
                                      f"checkpoint recorded {size} bytes (it was deleted or cut)")
    missing = [i for i in range(state["parts"]) if not (paths["parts"] / f"part-{i:06d}.parquet").is_file()]
    if missing:
        raise InputError("AF037", f"{len(missing)} of the {state['parts']} Parquet parts under {paths['parts']} "
                                  "are missing")


def _chunks(items: Iterator[Item], size: int) -> Iterator[list[Item]]:
    while True:
        chunk = list(islice(items, size))
        if not chunk:
            return
        yield chunk


def count_items(path: str | Path, output: str | Path | None = None) -> int | None:
    """How many records the input holds, when that is cheap to know (JSONL lines, transcript
    files); None for tables (rows are not records). The files of a run writing `output` are
    not counted; an unreadable file is one (error) record."""
    total = 0
    for f in input_files(path, exclude=run_files(output) if output is not None else ()):
        suffix = f.suffix.lower()
        if suffix == ".jsonl":
            try:
                with f.open("rb") as fh:
                    total += sum(1 for line in fh if line.strip())
            except OSError:
                total += 1
        elif suffix in (".csv", ".xlsx"):
            return None
        else:
            total += 1
    return total


def _atomic_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class _ParquetParts:
    """Results buffered into Parquet part files under OUT.parts/, each written whole."""

    def __init__(self, folder: Path, parts: int) -> None:
        self.folder = folder
        self.parts = parts
        self.rows: list[str] = []
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("part-*.parquet"):  # parts written after the checkpoint
            if int(stale.stem.split("-")[1]) >= parts:
                stale.unlink()

    def add(self, lines: list[str]) -> None:
        self.rows += lines

    def flush(self) -> None:
        if not self.rows:
            return
        import pyarrow.parquet as pq

        table = parquet_table(self.rows)
        tmp = self.folder / f".part-{self.parts:06d}.tmp"
        pq.write_table(table, tmp)
        os.replace(tmp, self.folder / f"part-{self.parts:06d}.parquet")
        self.parts += 1
        self.rows = []

    def join(self, target: Path) -> None:
        import pyarrow.parquet as pq

        self.flush()
        files = sorted(self.folder.glob("part-*.parquet"))
        tmp = target.with_name(target.name + ".tmp")
        writer = None
        try:
            for f in files:
                table = pq.read_table(f)
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema)
                writer.write_table(table)
            if writer is None:
                writer = pq.ParquetWriter(tmp, parquet_table([]).schema)
        finally:
            if writer is not None:
                writer.close()
        os.replace(tmp, target)
        shutil.rmtree(self.folder)


PARQUET_COLUMNS = (("id", "string"), ("emotion", "string"), ("intensity", "int64"), ("cause", "string"),
                   ("escalation_level", "int64"), ("quality_score", "double"), ("calmed", "bool"),
                   ("score", "double"), ("agent", "string"), ("team", "string"), ("result", "string"))


def parquet_table(lines: list[str]) -> Any:
    """Result lines → an Arrow table: a few typed columns to filter on, and `result` holding the
    whole JSON object (the same text as the JSONL output)."""
    import pyarrow as pa

    cols: dict[str, list[Any]] = {name: [] for name, _ in PARQUET_COLUMNS}
    for line in lines:
        rec = json.loads(line)
        level = rec.get("escalation_level", (rec.get("escalation") or {}).get("level"))
        values = {"id": rec.get("id"), "emotion": rec.get("emotion"), "intensity": rec.get("intensity"),
                  "cause": rec.get("cause"), "escalation_level": level,
                  "quality_score": rec.get("quality_score"), "calmed": rec.get("calmed"),
                  "score": rec.get("score"), "agent": rec.get("agent"), "team": rec.get("team"),
                  "result": line}
        for name, _ in PARQUET_COLUMNS:
            cols[name].append(values[name])
    schema = pa.schema([(name, getattr(pa, {"string": "string", "int64": "int64", "double": "float64",
                                            "bool": "bool_"}[kind])()) for name, kind in PARQUET_COLUMNS])
    return pa.table(cols, schema=schema)


def run_batch(input_path: str | Path, output: str | Path, backend: Any, mode: str = "analyze",
              resume: bool = False, chunk_size: int = 1000, fmt: str | None = None,
              on_progress: Callable[[int, int], None] | None = None,
              stop_after: int | None = None, encoding: str = "utf-8") -> RunStats:
    """Run `backend` over every record of `input_path` (see the module docstring).
    `encoding` is that of the archive's CSV and transcript files (JSONL is UTF-8, Excel carries
    its own). `on_progress(items_done, results_written)` is called after each chunk;
    `stop_after` stops after that many chunks (tests)."""
    if mode not in MODES:
        raise InputError("AF012", repr(mode), allowed=", ".join(MODES))
    encoding = encoding_name(encoding)
    out = Path(output)
    fmt = output_format(out, fmt)
    paths = side_paths(out)
    own = run_files(out)
    files = input_files(input_path, exclude=own)
    _refuse_overwrite(files, out)
    # the encoding is part of the run: resuming with another would mix two readings of one file
    # (UTF-8, the default, is left out so that checkpoints written before the option still match)
    identity = {"input": fingerprint(files), "mode": mode, "format": fmt, **_settings(backend)}
    if encoding != "utf-8":
        identity["encoding"] = encoding
    state: dict[str, Any] = {"items": 0, "written": 0, "out_bytes": 0, "err_bytes": 0, "parts": 0,
                             "summary": None}
    if out.is_dir():
        raise ExportError("AF661", str(out), reason="it is a folder; name a results file such as results.jsonl")
    if resume and paths["progress"].is_file():
        saved = _read_checkpoint(paths["progress"])
        if saved["identity"] != identity:
            changed = [k for k in dict.fromkeys([*identity, *saved["identity"]])
                       if saved["identity"].get(k) != identity.get(k)]
            raise InputError("AF037", f"the {', '.join(changed) or 'run'} differs from the interrupted run's")
        state.update(saved["state"])
        _check_written(state, out, paths, fmt)
    elif paths["parts"].exists():
        shutil.rmtree(paths["parts"])
    resumed_from = state["items"]
    summary = Summary(state["summary"])

    def open_append(path: Path, size: int) -> Any:
        fh = path.open("a+b" if resume and path.exists() else "w+b")
        fh.truncate(size)  # drop whatever was written after the checkpoint
        fh.seek(size)
        return fh

    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        err_fh = open_append(paths["errors"], state["err_bytes"])
        out_fh = open_append(out, state["out_bytes"]) if fmt == "jsonl" else None
        parts = _ParquetParts(paths["parts"], state["parts"]) if fmt == "parquet" else None
    except OSError as exc:
        raise ExportError("AF661", str(out), reason=exc.strerror or type(exc).__name__) from None
    started = time.perf_counter()
    last = 0.0

    def checkpoint(force: bool = False) -> None:
        nonlocal last
        now = time.perf_counter()
        if not force and now - last < CHECKPOINT_EVERY_S and fmt == "jsonl":
            return
        if parts is not None:
            if not force and len(parts.rows) < PARQUET_PART_ROWS:
                return
            parts.flush()
            state["parts"] = parts.parts
        for fh in (out_fh, err_fh):
            if fh is not None:
                fh.flush()
                os.fsync(fh.fileno())
        state["out_bytes"] = out_fh.tell() if out_fh is not None else 0
        state["err_bytes"] = err_fh.tell()
        state["summary"] = summary.to_state()
        _atomic_json(paths["progress"], {"identity": identity, "state": state})
        last = now

    finished = False
    pending_items = state["items"]  # items covered by data written but not yet checkpointed
    try:
        items = islice(iter_items(input_path, encoding=encoding, exclude=own), state["items"], None)
        for n, result in enumerate(backend.map(_chunks(items, chunk_size)), start=1):
            result: ChunkResult
            if result.lines:
                if out_fh is not None:
                    out_fh.write(("\n".join(result.lines) + "\n").encode("utf-8"))
                else:
                    parts.add(result.lines)  # type: ignore[union-attr]
            if result.errors:
                err_fh.write(("\n".join(result.errors) + "\n").encode("utf-8"))
            summary.merge(Summary(result.summary))
            pending_items += result.items
            state["items"] = pending_items
            state["written"] += len(result.lines)
            checkpoint()
            if on_progress is not None:
                on_progress(state["items"], state["written"])
            if stop_after is not None and n >= stop_after:
                finished = False
                break
        else:
            finished = True
        checkpoint(force=True)
    finally:
        for fh in (out_fh, err_fh):
            if fh is not None:
                fh.close()
        backend.close()
    figures = summary.to_dict()
    figures.update(input=str(input_path), mode=mode, output=str(out), format=fmt)
    if finished:
        if parts is not None:
            parts.join(out)
        _atomic_json(paths["summary"], figures)
        paths["progress"].unlink(missing_ok=True)
    return RunStats(items=state["items"], written=state["written"], errors=summary.errors,
                    seconds=time.perf_counter() - started, resumed_from=resumed_from, summary=figures)
