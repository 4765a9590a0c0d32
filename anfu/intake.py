"""Turning raw input records (JSON Lines, dicts) into `Utterance` / `Conversation`,
with a coded error for every way a record can be wrong."""

from __future__ import annotations

import json
from typing import Any, BinaryIO, Iterator

from .errors import AnfuError, InputError
from .types import SPEAKERS, Conversation, Utterance


def parse_record(obj: Any, max_chars: int = 20000) -> Utterance | Conversation:
    """A dict `{"id", "text"}` or `{"id", "turns": [{"speaker", "text"}]}` → document."""
    if not isinstance(obj, dict):
        raise InputError("AF009", type(obj).__name__)
    rid = obj.get("id")
    rid = None if rid is None else str(rid)
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
                                    id=None if turn.get("id") is None else str(turn.get("id")),
                                    timestamp=turn.get("timestamp") if isinstance(turn.get("timestamp"), (int, float)) else None))
        return Conversation(turns=tuple(parsed), id=rid,
                            channel=obj.get("channel") if isinstance(obj.get("channel"), str) else None,
                            industry=obj.get("industry") if isinstance(obj.get("industry"), str) else None)
    if "text" in obj:
        return Utterance(text=_text(obj["text"], max_chars), id=rid)
    raise InputError("AF002", sorted(obj)[:8])


def _text(value: Any, max_chars: int) -> str:
    if not isinstance(value, str):
        raise InputError("AF003", "null" if value is None else type(value).__name__)
    if not value.strip():
        raise InputError("AF004")
    if len(value) > max_chars:
        raise InputError("AF005", len(value), limit=max_chars)
    return value


def json_lines(stream: BinaryIO) -> Iterator[tuple[int, Any]]:
    """Yield (line number, decoded JSON value) for each non-blank line; a line that is not
    UTF-8 (AF006) or not JSON (AF001) yields its InputError instead of a value."""
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
        yield lineno, obj


def read_jsonl(stream: BinaryIO, max_chars: int = 20000) -> Iterator[tuple[int, str | None, Utterance | Conversation | AnfuError]]:
    """Yield (line number, id, document or error) for each non-blank line."""
    for lineno, obj in json_lines(stream):
        if isinstance(obj, InputError):
            yield lineno, None, obj
            continue
        rid = str(obj["id"]) if isinstance(obj, dict) and obj.get("id") is not None else None
        try:
            yield lineno, rid, parse_record(obj, max_chars=max_chars)
        except AnfuError as exc:
            yield lineno, rid, exc


def error_record(rid: str | None, error: AnfuError) -> dict[str, Any]:
    return {"id": rid, "error": error.to_dict()}
