"""Archive readers for `anfu batch`: JSON Lines, CSV, Excel and folders of transcripts, read
as a stream of `Item`s in a fixed order so a run can stop and resume at any item.

An item is one record to analyse: a raw JSON line (parsed in the worker, so the reading process
stays light), a conversation dict assembled from table rows or a transcript file, or the coded
error of a record that could not be read. `line` is the line (JSONL), first row (CSV/Excel) or
0 (a whole file) where the record starts, for the errors file.

Tables are read row by row: the rows of one conversation must be contiguous (the way every
export we met sorts them); a conversation id that comes back after another one is an AF036
error for those rows, never a silent merge that would need the whole file in memory.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import itertools
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Collection, Iterator

from ..errors import AnfuError, InputError

TRANSCRIPT_SUFFIXES = (".txt", ".srt", ".eml")
TABLE_SUFFIXES = (".jsonl", ".csv", ".xlsx")
SUFFIXES = TABLE_SUFFIXES + TRANSCRIPT_SUFFIXES
META_COLUMNS = {
    "agent": ("agent", "agent_id", "坐席", "坐席工号", "坐席姓名", "工号", "客服工号"),
    "team": ("team", "group", "班组", "组别", "团队", "班组名称"),
    "industry": ("industry", "行业"),
}
# A CSV field up to this many characters is read (and then refused as too long, AF005, as one
# bad record); the csv module's default of 131,072 would make the rest of the file unreadable.
CSV_FIELD_LIMIT = 16 * 1024 * 1024


@dataclass(frozen=True)
class Item:
    """One record of the archive: `payload` is raw JSON bytes, a record dict or an AnfuError."""

    source: str
    line: int
    payload: bytes | dict[str, Any] | AnfuError


def input_files(path: str | Path, exclude: Collection[str | Path] = ()) -> list[Path]:
    """The files a run reads, in a fixed order: the file itself, or every supported file under
    a folder (sorted by relative path, hidden files skipped). AF011 when there is nothing.

    In a folder, the files in `exclude` (a run's own output, errors file and report, when they
    are written inside the archive) and anything that is not a regular file or a link (pipes,
    sockets) are skipped; a link that leads nowhere (or to itself) is listed, so that it is an
    AF011 error of the run instead of a silent gap. A linked sub-folder (a month on another disk)
    is read like the others, once: a link back into a folder already read is not followed again."""
    p = Path(path)
    if p.is_file():
        if p.suffix.lower() not in SUFFIXES:
            raise InputError("AF012", repr(p.suffix or p.name), allowed=", ".join(SUFFIXES))
        return [p]
    if p.is_dir():
        skip = {os.path.realpath(e) for e in exclude}
        found = []
        walked: set[str] = set()
        for root, dirs, files in os.walk(p, followlinks=True):
            real = os.path.realpath(root)
            if real in walked:  # a link loop, or a second link to a folder already read
                dirs[:] = []
                continue
            walked.add(real)
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            found += [Path(root) / f for f in sorted(files)
                      if not f.startswith(".") and Path(f).suffix.lower() in SUFFIXES
                      and ((Path(root) / f).is_file() or (Path(root) / f).is_symlink())
                      and os.path.realpath(Path(root) / f) not in skip]
        found.sort(key=lambda f: f.relative_to(p).as_posix())
        if not found:
            raise InputError("AF011", f"{path} (no {', '.join(SUFFIXES)} files in the folder)")
        return found
    raise InputError("AF011", f"{path} (no such file or folder)")


def fingerprint(files: list[Path]) -> list[list[Any]]:
    """What `--resume` compares: each file's path, size and a digest of its bytes (None for a
    file that cannot be read, e.g. a broken link). The digest, not the modification time: an
    export written again with the same length keeps its time under `cp -p`, `rsync -t` or
    `tar x`, and resuming it would mix two inputs in one output (BLAKE2b reads about 1 GB/s)."""
    out: list[list[Any]] = []
    for f in files:
        try:
            digest = hashlib.blake2b(digest_size=16)
            with f.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
            out.append([f.as_posix(), f.stat().st_size, digest.hexdigest()])
        except OSError:
            out.append([f.as_posix(), None, None])
    return out


def unreadable(name: str, exc: OSError) -> InputError:
    """AF011 for a file of the archive that cannot be opened (no permission, broken link, loop)."""
    return InputError("AF011", f"{name} ({exc.strerror or type(exc).__name__})")


ENCODINGS_HINT = "utf-8, gb18030, gbk, big5"


def encoding_name(encoding: str) -> str:
    """Python's canonical name of `encoding` (utf8 → utf-8, GB18030 → gb18030); AF012 when no
    codec has that name, before any file is read."""
    try:
        return codecs.lookup(encoding).name
    except (LookupError, TypeError, ValueError):
        raise InputError("AF012", repr(encoding), allowed=ENCODINGS_HINT) from None


def iter_items(path: str | Path, encoding: str = "utf-8", exclude: Collection[str | Path] = ()) -> Iterator[Item]:
    """Every record of the archive at `path`, in order (see the module docstring)."""
    root = Path(path)
    for f in input_files(path, exclude):
        name = f.name if f == root else f.relative_to(root).as_posix()
        suffix = f.suffix.lower()
        if suffix == ".jsonl":
            yield from _jsonl(f, name)
        elif suffix == ".csv":
            yield from _csv(f, name, encoding)
        elif suffix == ".xlsx":
            yield from _xlsx(f, name)
        else:
            yield _transcript(f, name, suffix, encoding)


def _jsonl(f: Path, name: str) -> Iterator[Item]:
    try:
        fh = f.open("rb")
    except OSError as exc:
        yield Item(name, 0, unreadable(name, exc))
        return
    with fh:
        for lineno, raw in enumerate(fh, start=1):
            if raw.strip():
                yield Item(name, lineno, raw)


# tables ------------------------------------------------------------------------------------
def _norm(value: Any) -> str:
    return re.sub(r"[\s_\-]+", "", str(value or "")).lower()


def _blank(cells: list[Any]) -> bool:
    return not any(c is not None and str(c).strip() for c in cells)


def _table(rows: Iterator[tuple[int, Any]], name: str, empty_ok: bool = False,
           fill_down: bool = False) -> Iterator[Item]:
    """Group contiguous rows of one conversation id into a record dict. The header is the first
    row that is not blank; a table without one is AF035 (nothing at all when `empty_ok`).
    `fill_down` (Excel): an empty conversation id continues the conversation above it, as a
    会话ID cell merged over the conversation's rows reads (only its first row holds the value)."""
    from ..channels.base import clean_text, parse_time, speaker_of
    from ..channels.table import map_columns

    for first, header in rows:
        if isinstance(header, AnfuError):  # a broken line before the header: reported, skipped
            yield Item(name, first, header)
            continue
        if not _blank(header):
            break
    else:
        if not empty_ok:
            yield Item(name, 0, InputError("AF035", name))
        return
    try:
        cols = map_columns(header)
    except AnfuError as exc:
        yield Item(name, first, exc)
        return
    meta = {key: i for i, cell in enumerate(header) for key, names in META_COLUMNS.items()
            if _norm(cell) in {_norm(n) for n in names}}
    seen: set[str] = set()
    current: dict[str, Any] | None = None
    start = 0
    bad: AnfuError | None = None

    def done() -> Item:
        assert current is not None
        return Item(name, start, bad if bad is not None else current)

    for n, cells in rows:
        if isinstance(cells, AnfuError):  # a broken CSV line: its own error, the rows after it go on
            yield Item(name, n, cells)
            continue
        if _blank(cells):
            continue

        def cell(index: int | None) -> Any:
            return cells[index] if index is not None and index < len(cells) else None

        conv = cell(cols["conversation_id"])
        key = str(int(conv)) if isinstance(conv, float) and conv.is_integer() else str(conv or "").strip()
        if not key and fill_down and current is not None and current["id"]:
            key = current["id"]
        if current is None or key != current["id"]:
            if current is not None:
                yield done()
            current, start, bad = {"id": key, "turns": []}, n, None
            for field, index in meta.items():
                value = cell(index)
                if value is not None and str(value).strip():
                    current[field] = str(value).strip()
            if not key:
                bad = InputError("AF032", f"{name} row {n}: conversation_id is empty")
            elif key in seen:
                bad = InputError("AF036", f"{key!r} at {name} row {n}")
            seen.add(key)
        if bad is not None:
            continue
        try:
            text = cell(cols["text"])
            text = clean_text(text if isinstance(text, str) else (None if text is None else str(text)))
            turn: dict[str, Any] = {"speaker": speaker_of(cell(cols["speaker"]), f"{name} row {n}"), "text": text}
            ts = parse_time(cell(cols.get("timestamp")), f"{name} row {n} timestamp")
            if ts is not None:
                turn["timestamp"] = ts
            current["turns"].append(turn)
        except AnfuError as exc:
            bad = exc
    if current is not None:
        yield done()
    if len(seen) > 5_000_000:  # pragma: no cover - guard for absurd inputs
        raise InputError("AF032", f"{name}: more than 5,000,000 conversations in one table; split it")


@contextmanager
def _csv_field_limit(limit: int) -> Iterator[None]:
    old = csv.field_size_limit()
    csv.field_size_limit(max(old, limit))
    try:
        yield
    finally:
        csv.field_size_limit(old)


def _gb18030_hint(f: Path, encoding: str) -> str:
    """"; it reads as GB18030" when a file that is not UTF-8 starts as valid GB18030 text."""
    if not encoding.lower().replace("_", "-").startswith("utf"):
        return ""
    try:
        with f.open("rb") as fh:
            codecs.getincrementaldecoder("gb18030")().decode(fh.read(1 << 16), final=False)
    except (OSError, UnicodeDecodeError):
        return ""
    return "; it reads as GB18030"


def _csv(f: Path, name: str, encoding: str) -> Iterator[Item]:
    enc = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    try:
        codecs.lookup(enc)
        fb = f.open("rb")
    except LookupError:
        yield Item(name, 0, InputError("AF012", repr(encoding), allowed=ENCODINGS_HINT))
        return
    except OSError as exc:
        yield Item(name, 0, unreadable(name, exc))
        return
    with fb, _csv_field_limit(CSV_FIELD_LIMIT):
        head = fb.read(4)
        fb.seek(0)
        bad: dict[int, int] = {}  # physical line → byte offset of a line not in the encoding
        if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            # Excel's "Unicode text" (Unicode 文本): UTF-16 with a BOM, whatever was declared
            lines: Iterator[str] = io.TextIOWrapper(fb, encoding="utf-16", newline="")
            encoding = "utf-16"
        elif codecs.lookup(enc).name.startswith("utf-8"):
            # UTF-8 is strict and self-synchronising: a line that decodes is UTF-8, so one line
            # pasted from a GBK system costs that line only
            lines = _decoded_lines(fb, enc, bad)
        else:
            # other encodings decode almost any bytes into something: read whole and strict, so a
            # file in another encoding fails instead of turning into mojibake line by line
            lines = io.TextIOWrapper(fb, encoding=enc, newline="")
        try:
            first = list(itertools.islice(lines, 64))
        except UnicodeDecodeError as exc:
            yield Item(name, 0, InputError("AF031", f"{name} (byte {exc.start}{_gb18030_hint(f, encoding)})",
                                           encoding=encoding))
            return
        if bad and not any(line.strip() for line in first):  # nothing at the start reads: not this encoding
            hint = _gb18030_hint(f, encoding)
            yield Item(name, 0, InputError("AF031", f"{name} (byte {min(bad.values())}{hint})", encoding=encoding))
            return
        try:
            dialect: Any = csv.Sniffer().sniff("".join(first)[:4096], delimiters=",\t;")
        except csv.Error:
            dialect = csv.excel
        from ..channels.table import csv_records

        records = csv_records(itertools.chain(first, lines), dialect)

        def rows() -> Iterator[tuple[int, list[Any] | AnfuError]]:
            n = 0
            while True:
                try:
                    line, row = next(records)
                except StopIteration:
                    return
                except UnicodeDecodeError as exc:
                    raise InputError("AF031", f"{name} (after row {n}, byte {exc.start})", encoding=encoding) from None
                n += 1
                if line in bad:  # one line pasted from another system: that row alone is the error
                    yield n, InputError("AF031", f"{name} row {n} (line {line}, byte {bad.pop(line)}"
                                                 f"{_gb18030_hint(f, encoding)})", encoding=encoding)
                    continue
                yield n, (InputError("AF030", f"{name} row {n}: {row.detail}", channel="CSV")
                          if isinstance(row, InputError) else row)

        try:
            yield from _table(rows(), name)
        except AnfuError as exc:  # the rest of an unreadable file is one error
            yield Item(name, 0, exc)


def _decoded_lines(fb: Any, enc: str, bad: dict[int, int]) -> Iterator[str]:
    """The text lines of a binary UTF-8 file (no multi-byte character holds a CR or LF byte), each
    decoded alone, so one line in another encoding costs that line only: it reads as an empty
    line, and `bad` gets its line number and byte offset. Lines end where universal newlines end
    them (\n, \r\n, \r), kept as read."""
    offset, n = 0, 0
    for chunk in fb:
        for raw in chunk.splitlines(keepends=True):
            n += 1
            try:
                yield raw.decode(enc if n == 1 else enc.replace("-sig", ""))
            except UnicodeDecodeError as exc:
                bad[n] = offset + exc.start
                yield raw[len(raw.rstrip(b"\r\n")):].decode("ascii")
            offset += len(raw)


def _xlsx(f: Path, name: str) -> Iterator[Item]:
    import zipfile

    import openpyxl

    from ..channels.table import DAMAGED_XLSX

    try:
        book = openpyxl.load_workbook(f, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
        if isinstance(exc, OSError) and not f.is_file():  # a broken link, not a damaged workbook
            yield Item(name, 0, unreadable(name, exc))
        else:
            yield Item(name, 0, InputError("AF030", f"{name}: not a readable .xlsx workbook "
                                                    f"({type(exc).__name__})", channel="Excel"))
        return
    try:  # every sheet, in workbook order; a blank sheet of several holds nothing to read
        sheets = book.worksheets
        found = False
        for sheet in sheets:
            source = name if len(sheets) == 1 else f"{name}[{sheet.title}]"
            read = [0]

            def rows(sheet: Any = sheet, read: list[int] = read) -> Iterator[tuple[int, list[Any]]]:
                for n, r in enumerate(sheet.iter_rows(values_only=True), start=1):
                    read[0] = n
                    yield n, list(r)
            try:
                for item in _table(rows(), source, empty_ok=len(sheets) > 1, fill_down=True):
                    found = True
                    yield item
            except AnfuError:
                raise  # (InputError is a ValueError too)
            except DAMAGED_XLSX as exc:
                # the sheet's XML is parsed as it is read: a workbook damaged past its first part
                # fails here; the rows before it stand, the rest of the archive goes on
                yield Item(source, read[0], InputError(
                    "AF030", f"{source}: the workbook is damaged after row {read[0]} ({type(exc).__name__}); "
                             "open it in Excel and save it again", channel="Excel"))
                return
        if not found and len(sheets) > 1:
            yield Item(name, 0, InputError("AF035", name))
    finally:
        book.close()


# transcripts ---------------------------------------------------------------------------------
_TXT_PREFIX = re.compile(r"^\s*(?:\[[^\]]*\]\s*)?[\[【(（]?\s*([^\s:：\]】)）]{1,8})\s*[\]】)）]?\s*[:：]\s*")


def parse_txt(text: str, source: str) -> list[dict[str, Any]]:
    """A plain-text transcript: one turn per line starting with a speaker label (客户：…,
    坐席：…, optionally after a [time] stamp); a line without a label continues the turn."""
    from ..channels.base import known_speaker

    turns: list[dict[str, Any]] = []
    for n, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1):
        if not line.strip():
            continue
        match = _TXT_PREFIX.match(line)
        speaker = known_speaker(match.group(1)) if match else None
        if speaker:
            body = line[match.end():].strip()  # type: ignore[union-attr]
            if body:
                turns.append({"speaker": speaker, "text": body})
        elif turns:
            turns[-1]["text"] += "\n" + line.strip()
        else:
            raise InputError("AF030", f"{source} line {n} has no speaker label such as 客户： or 坐席：",
                             channel="text transcript")
    if not turns:
        raise InputError("AF035", source)
    return turns


def _transcript(f: Path, name: str, suffix: str, encoding: str) -> Item:
    from ..channels.base import decode_text

    try:
        data = f.read_bytes()
        rid = name.rsplit(".", 1)[0]
        if suffix == ".txt":
            turns = parse_txt(decode_text(data, encoding, source=name), name)
        elif suffix == ".srt":
            from ..channels.transcript import CallTranscriptSRT

            threads = CallTranscriptSRT().read(data, call_id=rid, encoding=encoding)
            turns = [_turn(u) for t in threads for u in t.utterances]
        else:
            from ..channels.mail import Email

            threads = Email().read(data, source=name)
            turns = [_turn(u) for t in threads for u in t.utterances]
        return Item(name, 0, {"id": rid, "turns": turns, "channel": {".txt": "call", ".srt": "call"}.get(suffix, "email")})
    except AnfuError as exc:
        return Item(name, 0, exc)
    except OSError as exc:
        return Item(name, 0, InputError("AF011", f"{name} ({exc.strerror})"))


def _turn(u: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"speaker": u.speaker, "text": u.text}
    if u.timestamp is not None:
        out["timestamp"] = u.timestamp
    return out


