"""What every channel adapter shares: the result types, decoding bytes with a coded error for
wrong encodings, speaker labels, and the channels rule pack.

An adapter turns one payload into `Thread`s: the messages of one conversation plus the hints
(phone, e-mail, name, external id) the store uses to put them on the customer's one timeline.
`parse(payload)` is the flat view: every thread's utterances in order.
"""

from __future__ import annotations

import hashlib
import math
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from ..errors import InputError
from ..rules import validator
from ..rules.checked import load_checked, str_list
from ..types import Utterance

PACK = "channels"


HINT_MAX_CHARS = 200  # a customer hint's longest text (the REST schema's cap on name and reference)


EMAIL_MAX_CHARS = 254  # the longest e-mail address (RFC 5321; the customers column)
REF_MAX_CHARS = 200  # a conversation reference or message id (the store's columns)
# the times a message may carry: from 1970 to the last day that every time zone still reads as
# year 9999 (the store and datetime stop there)
MAX_EPOCH = datetime(9999, 12, 30, tzinfo=timezone.utc).timestamp()


def in_time_range(seconds: float) -> bool:
    return math.isfinite(seconds) and 0 <= seconds <= MAX_EPOCH


def fit_ref(value: str | None, limit: int = REF_MAX_CHARS) -> str | None:
    """A reference or message id that fits its column: kept when short enough, else its head
    and a digest of the whole (the same long key always gives the same reference, two different
    ones stay apart)."""
    if value is None or len(value) <= limit:
        return value
    return value[:limit - 17] + "~" + hashlib.sha1(value.encode("utf-8")).hexdigest()[:16]


def _hint(value: Any, limit: int = HINT_MAX_CHARS) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        return None
    return value.strip()[:limit] or None


@dataclass(frozen=True)
class CustomerHints:
    """What a channel tells us about who the customer is (for one-timeline matching)."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None
    external_id: str | None = None

    @classmethod
    def of_payload(cls, *, name: Any = None, phone: Any = None, email: Any = None,
                   external_id: Any = None) -> "CustomerHints":
        """Hints from an integration's untyped JSON (a helpdesk webhook): text stripped and cut to
        HINT_MAX_CHARS (the REST schema's cap), a number as its digits (a mobile sent as 13912345678),
        anything else (a list, an object, true) ignored rather than refused: the message still counts."""
        return cls(name=_hint(name), phone=_hint(phone), email=_hint(email, EMAIL_MAX_CHARS),
                   external_id=_hint(external_id))

    def fitted(self) -> "CustomerHints":
        """These hints cut to what the customers table holds (a name or reference of 200
        characters, an e-mail address of 254, a phone number of 32): a file's over-long header
        still puts the message on a timeline rather than failing the upload."""
        return CustomerHints(name=_hint(self.name), phone=_hint(self.phone, 32),
                             email=_hint(self.email, EMAIL_MAX_CHARS), external_id=_hint(self.external_id))

    def is_empty(self) -> bool:
        return not (self.name or self.phone or self.email or self.external_id)

    def to_dict(self) -> dict[str, str]:
        return {k: v for k, v in (("name", self.name), ("phone", self.phone), ("email", self.email),
                                  ("external_id", self.external_id)) if v}


@dataclass(frozen=True)
class Thread:
    """One conversation's messages from a payload, with the customer hints and a thread key
    (e-mail thread root, call id, import conversation id) when the channel has one."""

    channel: str
    utterances: tuple[Utterance, ...]
    key: str | None = None
    customer: CustomerHints = field(default_factory=CustomerHints)
    subject: str | None = None


class ChannelAdapter(ABC):
    """Base of the adapters registered in `registry.channels`."""

    #: the value put in `Utterance.channel`
    channel: str = ""

    @abstractmethod
    def read(self, payload: Any) -> list[Thread]:
        """The payload's threads (each a conversation key, its utterances and customer hints)."""

    def parse(self, payload: Any) -> list[Utterance]:
        """Every utterance of the payload, thread by thread, in order."""
        return [u for thread in self.read(payload) for u in thread.utterances]


def decode_text(data: bytes | str, encoding: str = "utf-8", source: str = "payload") -> str:
    """Bytes → text in the declared encoding (UTF-8 by default, a BOM is dropped).

    A file that is not in the declared encoding is refused with AF031; when it reads as
    GB18030 (the usual encoding of Chinese Windows exports) the message says so.
    """
    if isinstance(data, str):
        return data.lstrip("\ufeff")
    enc = encoding.lower().replace("_", "-")
    if enc in ("utf-8", "utf8"):
        enc = "utf-8-sig"
    try:
        return data.decode(enc)
    except LookupError:
        raise InputError("AF012", repr(encoding), allowed="utf-8, gb18030, gbk, big5") from None
    except UnicodeDecodeError as exc:
        guess = ""
        if enc.startswith("utf-8"):
            try:
                data.decode("gb18030")
                guess = "; it reads as GB18030"
            except UnicodeDecodeError:
                pass
        raise InputError("AF031", f"{source} (byte {exc.start}{guess})", encoding=encoding) from None


@lru_cache(maxsize=4)
def _pack(rules_dir: str | None = None) -> dict[str, Any]:
    return load_checked(PACK, rules_dir=rules_dir)


def pack(rules_dir: str | None = None) -> dict[str, Any]:
    return _pack(rules_dir)


def _key(label: str) -> str:
    return re.sub(r"\s+", "", label).lower()


@lru_cache(maxsize=4)
def _speaker_map(rules_dir: str | None = None) -> dict[str, str]:
    out: dict[str, str] = {}
    for speaker, labels in _pack(rules_dir)["speakers"].items():
        for label in labels:
            out[_key(label)] = speaker
    return out


# what a label may carry after a known one: a number for either side ("坐席1023", "客户2", "agent 7"),
# a short name for the agent side only ("客服小王", "坐席(王丽)"; "客户经理" is no customer)
_LABEL_SUFFIX = re.compile(r"[\-_#·.()（）\[\]【】]*(?:(\d{1,8})|([\u4e00-\u9fff]{1,3}|[a-z]{1,12}))[)）\]】]?")


def known_speaker(label: Any) -> str | None:
    """"customer" / "agent" for a known label, also with a number ("坐席1023") or, for agents, a
    short name after it ("客服小王"); else None."""
    if not isinstance(label, str):
        return None
    key = _key(label)
    labels = _speaker_map()
    found = labels.get(key)
    if found is not None:
        return found
    for known in sorted(labels, key=len, reverse=True):
        if len(key) > len(known) and key.startswith(known):
            rest = _LABEL_SUFFIX.fullmatch(key[len(known):])
            if rest is not None and (rest.group(1) or labels[known] == "agent"):
                return labels[known]
    return None


def speaker_of(label: Any, where: str = "") -> str:
    """Map a speaker label (客户, 坐席, customer, agent, …) to "customer" or "agent" (AF007)."""
    found = known_speaker(label)
    if found:
        return found
    known = sorted(_speaker_map())
    detail = repr(label) + (f" at {where}" if where else "")
    raise InputError("AF007", detail + f" (known labels: {', '.join(known[:12])}, …)")


def parse_time(value: Any, where: str = "") -> float | None:
    """ISO 8601 / "YYYY-MM-DD HH:MM[:SS]" / epoch seconds / datetime → epoch seconds (UTC when
    no zone is given); None for empty values; AF032 for anything else."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise InputError("AF032", f"{where}: {value!r} is not a time")
    if isinstance(value, (int, float)):
        return _in_range(float(value), value, where)
    if isinstance(value, datetime):
        dt = value
    else:
        text = _padded(str(value).strip().replace("/", "-"))
        if re.fullmatch(r"\d+(\.\d+)?", text):
            return _in_range(float(text), value, where)
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            raise InputError("AF032", f"{where}: {value!r} is not a time "
                                      "(use ISO 8601, e.g. 2024-05-01 09:30:00)") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    try:
        seconds = dt.timestamp()
    except (OverflowError, ValueError):
        seconds = math.inf
    return _in_range(seconds, value, where)


# a date and time as Excel on a Chinese Windows writes them to CSV: "2024/5/1 9:30" (no zero padding)
_UNPADDED = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:([ T])(\d{1,2}):(\d{2})(:\d{2}(?:\.\d+)?)?)?")


def _padded(text: str) -> str:
    """`text` with a date's month and day and the hour padded to two digits ("2024-5-1 9:30" →
    "2024-05-01 09:30"), for `datetime.fromisoformat`."""
    found = _UNPADDED.fullmatch(text)
    if found is None:
        return text
    year, month, day, sep, hour, minute, second = found.groups()
    out = f"{year}-{int(month):02d}-{int(day):02d}"
    if sep:
        out += f"{sep}{int(hour):02d}:{minute}{second or ''}"
    return out


def _in_range(seconds: float, value: Any, where: str) -> float:
    if not in_time_range(seconds):
        raise InputError("AF032", f"{where}: {value!r} is out of range (a time between 1970 and 9999, "
                                  "e.g. 2024-05-01 09:30:00 or epoch seconds)")
    return seconds


def check_times(threads: list[Thread]) -> None:
    """AF032 before anything is stored when a message's absolute time (a start plus an offset, a
    converted zone) fell outside 1970–9999: an upload is refused whole, never half written."""
    for thread in threads:
        for utterance in thread.utterances:
            ts = utterance.timestamp
            if ts is not None and ts > 10**8:
                _in_range(ts, ts, f"the time of message {utterance.id or thread.key!r}")


def clean_text(text: Any) -> str:
    """Trim and collapse runs of blank lines; non-strings become ''."""
    if not isinstance(text, str):
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


@validator(PACK)
def check_channels_pack(data: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    speakers = data.get("speakers")
    if not isinstance(speakers, dict) or set(speakers) != {"customer", "agent"}:
        problems.append("speakers must map exactly customer and agent to label lists")
    else:
        seen: dict[str, str] = {}
        for speaker, labels in speakers.items():
            for label in str_list(labels, f"speakers.{speaker}", problems):
                if _key(label) in seen and seen[_key(label)] != speaker:
                    problems.append(f"speaker label {label!r} is listed for both speakers")
                seen[_key(label)] = speaker
    columns = data.get("columns")
    required = {"conversation_id", "speaker", "text", "timestamp", "customer"}
    if not isinstance(columns, dict) or set(columns) != required:
        problems.append(f"columns must list aliases for exactly {sorted(required)}")
    else:
        for name, aliases in columns.items():
            str_list(aliases, f"columns.{name}", problems)
    mail = data.get("email")
    if not isinstance(mail, dict):
        problems.append("email must be a mapping with reply_markers and signature_markers")
    else:
        for key in ("reply_markers", "signature_markers"):
            for pattern in str_list(mail.get(key), f"email.{key}", problems):
                try:
                    re.compile(pattern)
                except re.error as exc:
                    problems.append(f"email.{key}: bad regex {pattern!r} ({exc})")
    return problems
