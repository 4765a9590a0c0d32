"""The work of one chunk, the same on every back-end (so local and Ray output are identical):
parse each item, analyse the good ones in one `analyzer.pipe` batch, serialise the result
lines, the error lines and the chunk's summary.

`mode` is "analyze" (the `anfu analyze` output object per record) or "qa" (the scorecard result
per record, with the analysis figures the reports need).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Sequence

from ..errors import AnfuError, InputError
from ..intake import MAX_DEPTH, _problem, line_id, parse_record
from ..pii import mask, mask_data
from .sources import Item
from .summary import Summary

MODES = ("analyze", "qa")


@dataclass
class ChunkResult:
    """What a worker sends back: result lines (JSON, in input order), error lines, the chunk's
    summary state and how many items it covered."""

    lines: list[str]
    errors: list[str]
    summary: dict[str, Any]
    items: int


def _dumps(record: Any) -> str:
    return json.dumps(record, ensure_ascii=False).encode("utf-8", "replace").decode("utf-8")


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: str(obj[k]) for k in ("agent", "team") if obj.get(k) is not None and not isinstance(obj[k], (dict, list))}


def _abuse_finder(analyzer: Any) -> Any:
    from ..text.normalize import normalize

    try:
        component = analyzer.get("anfu.abuse.v1")
    except AnfuError:
        return None

    def find(text: str) -> list[tuple[int, int]]:
        return [(t.start, t.end) for t in component.assess(normalize(text), text)[1]]
    return find


def process_chunk(analyzer: Any, items: Sequence[Item], mode: str = "analyze", scorecard: Any = None,
                  batch_size: int = 256) -> ChunkResult:
    summary = Summary()
    errors: list[str] = []
    parsed: list[tuple[Item, str | None, Any, dict[str, Any]] | None] = []
    max_chars = getattr(analyzer, "max_chars", 20000)
    for item in items:
        payload = item.payload
        rid: str | None = None
        try:
            if isinstance(payload, AnfuError):
                raise payload
            if isinstance(payload, bytes):
                obj = _decode(payload, item.line)
            else:
                obj = payload
            rid = line_id(obj)
            doc = parse_record(obj, max_chars=max_chars)
            parsed.append((item, rid, doc, _meta(obj)))
        except AnfuError as exc:
            errors.append(_error_line(item, rid, exc))
            summary.add_error(exc.code)
            parsed.append(None)
    good = [p for p in parsed if p is not None]
    try:
        assessed = list(analyzer.pipe([p[2] for p in good], batch_size=batch_size)) if good else []
    except Exception:  # one record the batch cannot take: analyse one by one
        assessed = []
        for p in good:
            try:
                assessed.append(analyzer(p[2]))
            except Exception as exc:  # noqa: BLE001 - a record that breaks analysis is an error line
                assessed.append(InputError("AF015", p[0].line, reason=type(exc).__name__))
    lines: list[str] = []
    abuse = _abuse_finder(analyzer) if mode == "qa" and scorecard is not None else None
    for (item, rid, doc, meta), assessment in zip(good, assessed):
        if isinstance(assessment, AnfuError):
            errors.append(_error_line(item, rid, assessment))
            summary.add_error(assessment.code)
            continue
        result = assessment.to_dict()
        texts = [t.text for t in assessment.conversation.turns]
        meta = dict(meta, texts=texts)
        if mode == "qa":
            card = scorecard.apply(result, texts, abuse=abuse)
            record = dict(card, **{k: v for k, v in meta.items() if k != "texts"},
                          quality_score=result.get("quality_score"), calmed=result.get("calmed"),
                          outcome=result.get("outcome"),
                          escalation_level=(result.get("escalation") or {}).get("level"))
            summary.add(result, meta, score=card["score"], zeroed=card["zeroed"])
            lines.append(_dumps(record))
        else:
            summary.add(result, meta)
            lines.append(_dumps(result))
    return ChunkResult(lines, errors, summary.to_state(), len(items))


def _decode(raw_bytes: bytes, lineno: int) -> Any:
    """One JSON line → value, with the coded errors of `anfu.intake.json_lines` (AF006, AF001)."""
    try:
        raw = raw_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError("AF006", f"line {lineno}, byte {exc.start}") from None
    try:
        obj = json.loads(raw.lstrip("\ufeff").strip())
    except ValueError as exc:
        raise InputError("AF001", f"line {lineno}: {getattr(exc, 'msg', exc)}") from None
    except RecursionError:
        raise InputError("AF001", f"line {lineno}: nested deeper than {MAX_DEPTH} levels") from None
    # `_problem` walks the whole value; most lines cannot have one: a lone surrogate needs a
    # `\\ud…` escape in the line (the bytes are valid UTF-8) and nesting deeper than MAX_DEPTH
    # needs more than MAX_DEPTH brackets. Two scans in C decide that for the common line.
    if _may_have_problem(raw):
        problem = _problem(obj)
    else:
        problem = None
    if problem is not None:
        raise InputError("AF001" if problem.startswith("nested") else "AF006", f"line {lineno}: {problem}")
    return obj


def _may_have_problem(raw: str) -> bool:
    """False when the JSON text `raw` can hold neither a lone surrogate nor nesting deeper than
    MAX_DEPTH (so `_problem` would find nothing)."""
    if "\\u" in raw and ("\\ud" in raw or "\\uD" in raw):
        return True
    return raw.count("[") + raw.count("{") >= MAX_DEPTH


def _error_line(item: Item, rid: str | None, exc: AnfuError) -> str:
    """One line of OUT.errors.jsonl: the file's name and the message with personal data masked
    (recordings and mail drops are named after the caller's number or the sender's address, and a
    message may echo the bad value); the record's id as the caller gave it, to find the record."""
    return _dumps({"source": mask(item.source), "line": item.line, "id": rid, "error": mask_data(exc.to_dict())})
