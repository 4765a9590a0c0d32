"""Masking personal information in logs: nothing a customer typed reaches a log file unmasked.

Three ways in, for the three ways logs are written:

- `install()` makes every logger of the process mask each record when it is made (message
  with its arguments, `extra=` fields, exception text and stack), before any handler sees
  it — the server calls it at start-up; `uninstall()` undoes it.
- `PiiFilter` masks records passing one handler (for a handler configured elsewhere).
- `mask_processor` is a structlog processor: add it last-but-one, before the renderer.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import MutableMapping
from typing import Any

from urllib.parse import unquote_plus

from .masking import mask, mask_data
from .recognizers import find_pii

_STANDARD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}
_lock = threading.Lock()
_previous_make_record: Any = None
_formatter = logging.Formatter()


def mask_log_text(text: str) -> str:
    """`mask(text)`, also seeing through percent-encoding: an access-log line with
    `?phone=138%201234%205678` is logged decoded and masked."""
    masked = mask(text)
    if "%" not in masked and "+" not in masked:
        return masked
    decoded = unquote_plus(masked)
    if decoded != masked and find_pii(decoded):
        return mask(decoded)
    return masked


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    """Mask a record in place: its rendered message, extra fields and exception text."""
    if getattr(record, "_anfu_pii_masked", False):
        return record
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: keep what logging would print, masked
        message = f"{record.msg!r} % {record.args!r}"
    record.msg = mask_log_text(message)
    record.args = None
    for key, value in list(record.__dict__.items()):
        if key not in _STANDARD_ATTRS and not key.startswith("_"):
            record.__dict__[key] = mask_data(value) if isinstance(value, (str, dict, list, tuple)) else value
    if record.exc_info and not record.exc_text:
        record.exc_text = _formatter.formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = mask(record.exc_text)
    if record.stack_info:
        record.stack_info = mask(record.stack_info)
    record._anfu_pii_masked = True  # type: ignore[attr-defined]
    return record


class PiiFilter(logging.Filter):
    """A logging filter that masks personal information in every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        return True


def install() -> None:
    """Mask every log record of the process when it is made (after `extra=` fields are set).

    Patches `logging.Logger.makeRecord`, which every logger (existing or future) uses.
    Idempotent; `uninstall()` undoes it.
    """
    global _previous_make_record
    with _lock:
        if _previous_make_record is not None:
            return
        previous = logging.Logger.makeRecord

        def make_record(self: logging.Logger, *args: Any, **kwargs: Any) -> logging.LogRecord:
            return mask_record(previous(self, *args, **kwargs))

        _previous_make_record = previous
        logging.Logger.makeRecord = make_record  # type: ignore[method-assign]


def uninstall() -> None:
    """Restore the `makeRecord` that `install()` replaced."""
    global _previous_make_record
    with _lock:
        if _previous_make_record is not None:
            logging.Logger.makeRecord = _previous_make_record  # type: ignore[method-assign]
            _previous_make_record = None


def installed() -> bool:
    return _previous_make_record is not None


def mask_processor(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: mask every string value of the event (incl. `exception`)."""
    for key, value in list(event_dict.items()):
        if isinstance(value, (str, dict, list, tuple)):
            event_dict[key] = mask_data(value)
        elif isinstance(value, BaseException):
            event_dict[key] = mask(f"{type(value).__name__}: {value}")
    return event_dict
