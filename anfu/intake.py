"""Turning raw input records (JSON Lines, dicts) into `Utterance` / `Conversation`,
with a coded error for every way a record can be wrong."""

from __future__ import annotations

import json
import math
from typing import Any, BinaryIO, Iterator

from .errors import AnfuError, InputError
from .text.normalize import is_blank
from .types import SPEAKERS, Conversation, Utterance


def parse_record(obj: Any, max_chars: int = 20000) -> Utterance | Conversation:
    """A dict `{"id", "text"}` or `{"id", "turns": [{"speaker", "text"}]}` → document."""
    if not isinstance(obj, dict):
        raise InputError("AF009", type(obj).__name__)
    rid = record_id(obj.get("id"))
    if "turns" in obj:
        turns = obj["turns"]
        if not isinstance(turns, list) or not turns:
            raise InputError("AF008", "got an empty list" if isinstance(turns, list) else type(turns).__name__)
        parsed = []
        for i, turn in enumerate(turns):
            if not isinstance(turn, dict):
                raise InputError("AF008", f"turn {i} is {type(turn).__name__}")
            speaker = turn.get("speaker", "customer")
            if speaker not in SPEAKERS:
                raise InputError("AF007", repr(speaker))
            parsed.append(Utterance(text=_text(turn.get("text"), max_chars), speaker=speaker,
                                    id=record_id(turn.get("id")),
                                    timestamp=turn.get("timestamp") if isinstance(turn.get("timestamp"), (int, float)) else None))
        return Conversation(turns=tuple(parsed), id=rid,
                            channel=obj.get("channel") if isinstance(obj.get("channel"), str) else None,
                            industry=obj.get("industry") if isinstance(obj.get("industry"), str) else None)
    if "text" in obj:
        return Utterance(text=_text(obj["text"], max_chars), id=rid)
    raise InputError("AF002", sorted(obj)[:8])


def record_id(value: Any) -> str | None:
    """A record's or turn's id as text: a string, an integer, or a number with an integral value
    (12.0 → "12", as spreadsheets write ids); AF016 for anything else (an object, a list, true,
    NaN), which would otherwise become an id such as "{'a': 1}" or "nan"."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        raise InputError("AF016", "true" if value else "false")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return str(int(value)) if value.is_integer() else repr(value)
    kind = {dict: "an object", list: "a list"}.get(type(value), repr(value) if isinstance(value, float)
                                                   else type(value).__name__)
    raise InputError("AF016", kind)


def _text(value: Any, max_chars: int) -> str:
    if not isinstance(value, str):
        raise InputError("AF003", "null" if value is None else type(value).__name__)
    if is_blank(value):
        raise InputError("AF004")
    if len(value) > max_chars:
        raise InputError("AF005", len(value), limit=max_chars)
    return value


MAX_DEPTH = 64  # JSON nesting deeper than this is refused (AF001): no input needs more


def _problem(value: Any) -> str | None:
    """Why a decoded JSON value cannot be analysed or written back, or None: nesting deeper
    than MAX_DEPTH, or a lone surrogate (`"\\udc00"`: no UTF-8 text can hold it). Iterative,
    so no input can exhaust the stack."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"nested deeper than {MAX_DEPTH} levels"
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                return f"a lone surrogate \\u{ord(item[exc.start]):04x}"
        elif isinstance(item, dict):
            stack.extend((k, depth + 1) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return None


def line_id(obj: Any) -> str | None:
    """The id an output or error line of `obj` carries: its valid id (see `record_id`), written
    back as UTF-8; None when it has none or a bad one (whose AF016 the line reports)."""
    if not isinstance(obj, dict):
        return None
    try:
        return safe_id(record_id(obj.get("id")))
    except InputError:
        return None


def safe_id(value: Any) -> str | None:
    """A record id that can always be written back as UTF-8 JSON."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text.encode("utf-8", "replace").decode("utf-8")


def json_lines(stream: BinaryIO) -> Iterator[tuple[int, Any]]:
    """Yield (line number, decoded JSON value) for each non-blank line; a line that is not
    UTF-8 (AF006: also a lone surrogate escape) or not JSON (AF001: also nesting deeper than
    MAX_DEPTH) yields its InputError instead of a value."""
    for lineno, raw_bytes in enumerate(stream, start=1):
        try:
            raw = raw_bytes.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield lineno, InputError("AF006", f"line {lineno}, byte {exc.start}")
            continue
        raw = raw.lstrip("\ufeff").strip()
        if not raw:
            continue
        try:
            obj = json.loads(raw)
        except ValueError as exc:
            yield lineno, InputError("AF001", f"line {lineno}: {getattr(exc, 'msg', exc)}")
            continue
        except RecursionError:
            yield lineno, InputError("AF001", f"line {lineno}: nested deeper than {MAX_DEPTH} levels")
            continue
        problem = _problem(obj)
        if problem is not None:
            code = "AF001" if problem.startswith("nested") else "AF006"
            yield lineno, _Bad(line_id(obj), InputError(code, f"line {lineno}: {problem}"))
            continue
        yield lineno, obj


class _Bad:
    """A decoded line that must not be analysed, with the id it had (when it can be written)."""

    def __init__(self, rid: str | None, error: InputError) -> None:
        self.rid = rid
        self.error = error


def line_error(obj: Any) -> tuple[str | None, InputError] | None:
    """(id, error) when `json_lines` yielded an error for the line, else None."""
    if isinstance(obj, InputError):
        return None, obj
    if isinstance(obj, _Bad):
        return obj.rid, obj.error
    return None


def read_jsonl(stream: BinaryIO, max_chars: int = 20000) -> Iterator[tuple[int, str | None, Utterance | Conversation | AnfuError]]:
    """Yield (line number, id, document or error) for each non-blank line."""
    for lineno, obj in json_lines(stream):
        bad = line_error(obj)
        if bad is not None:
            yield lineno, bad[0], bad[1]
            continue
        rid = line_id(obj)
        try:
            yield lineno, rid, parse_record(obj, max_chars=max_chars)
        except AnfuError as exc:
            yield lineno, rid, exc


def error_record(rid: str | None, error: AnfuError) -> dict[str, Any]:
    return {"id": rid, "error": error.to_dict()}
