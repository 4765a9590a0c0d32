"""Conditional writes on the API (RFC 9110 §13): ETags and If-Match.

A ticket's ETag is its version (`"3"`), a 话术's the time of its last change in microseconds
since 1970 (`"1765098000123456"`). A write with If-Match applies only over the version it
names: one saved since is refused with 412 Precondition Failed (`PreconditionFailed`, the
record's own code: AF609 for tickets, AF673 for 话术) and nothing changes; `*` or no If-Match
applies it to the record as it is. If-Match compares strongly, so a weak ETag (`W/"3"`) names
no version and is refused (AF505), as is anything that is not one of our ETags. The page forms
keep their own version field and answer a stale one with 409 (`anfu.server.web.page_errors`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

from ..errors import ConflictError, InputError, PreconditionFailed

_STRONG = re.compile(r'"([0-9]{1,18})"|([0-9]{1,18})')
PRECONDITION_CODES = ("AF609", "AF673")
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_NEVER = datetime(1, 1, 1, tzinfo=timezone.utc)  # a version no record has


Versions = int | tuple[int, ...] | None  # what an If-Match names: one version, a list, any (None)


def parse_if_match(value: str | None, example: str) -> Versions:
    """The version (or, for a list `"2", "3"`, the versions: RFC 9110 §13.1.1) an If-Match header
    names (None: any version, `*` or no header). `example` says where the ETag comes from (e.g.
    `GET /api/v1/tickets/{id}`) in the AF505 message."""
    if value is None:
        return None
    if "," in value:
        versions = tuple(_one_tag(part, value, example) for part in value.split(","))
        return versions[0] if len(set(versions)) == 1 else versions
    return _one_tag(value, value, example)


def chosen(versions: Versions, current: Callable[[], int]) -> int | None:
    """The one version to write over: `versions` itself, or of a list the record's `current()`
    version when the list names it (else the first: the write then fails as stale, 412). The write
    still compares it under the record's lock, so a change in between is refused."""
    if versions is None or isinstance(versions, int):
        return versions
    now = current()
    return now if now in versions else versions[0]


def _one_tag(part: str, value: str, example: str) -> int | None:
    text = part.strip()
    if text == "*":
        return None
    if text[:2] in ("W/", "w/"):
        raise InputError("AF505", f"If-Match {value[:40]!r} is a weak ETag, and If-Match compares ETags strongly "
                         f"(RFC 9110): send the ETag exactly as {example} returns it, e.g. \"3\", or *",
                         kind="precondition")
    match = _STRONG.fullmatch(text)
    if match is None:
        raise InputError("AF505", f"If-Match {value[:40]!r}: send the ETag of {example}, e.g. \"3\", or *",
                         kind="precondition")
    return int(match.group(1) or match.group(2))


@contextmanager
def precondition(version: object | None) -> Iterator[None]:
    """Inside: a write made with an If-Match `version`; its stale-version conflict (AF609,
    AF673) leaves as `PreconditionFailed` (412). Without If-Match nothing changes."""
    try:
        yield
    except PreconditionFailed:
        raise
    except ConflictError as exc:
        if version is None or exc.code not in PRECONDITION_CODES:
            raise
        raise PreconditionFailed.of(exc) from None


def time_etag(at: datetime) -> str:
    """The strong ETag of a record versioned by the time of its last change."""
    if at.tzinfo is None:  # SQLite hands back naive UTC
        at = at.replace(tzinfo=timezone.utc)
    return f'"{(at - EPOCH) // timedelta(microseconds=1)}"'


def time_of(version: int | None) -> datetime | None:
    """The last-change time an If-Match of `time_etag` names (a far-off one names no version)."""
    if version is None:
        return None
    try:
        return EPOCH + timedelta(microseconds=version)
    except OverflowError:
        return _NEVER


__all__ = ["EPOCH", "PRECONDITION_CODES", "Versions", "chosen", "parse_if_match", "precondition", "time_etag",
           "time_of"]
