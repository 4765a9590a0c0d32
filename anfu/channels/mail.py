"""E-mail (电子邮件): one `.eml` file (RFC 5322 bytes) → one customer message.

The body is the text/plain part, or the text/html part sanitised with nh3 down to plain
text (scripts, styles and quoted `<blockquote>`s removed). Quoted earlier messages
(「-----原始邮件-----」, 「在 … 写道：」, "On … wrote:", `>` lines, Outlook header blocks) and
signatures (「-- 」, 「发自我的iPhone」…) are cut; the markers are data in the `channels` pack.
Declared charsets (GB2312/GBK are common in Chinese mail) are honoured; GB2312 and GBK are read
as GB18030, their superset, because senders often mislabel GBK text as GB2312.

The thread key is the first Message-ID of `References` (the thread root), else `In-Reply-To`,
else the message's own Message-ID, so replies land in the same conversation.
"""

from __future__ import annotations

import html
import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any

import nh3

from .. import registry
from ..errors import InputError
from ..types import Utterance
from .base import ChannelAdapter, CustomerHints, Thread, clean_text, in_time_range, pack

_BLOCK_TAGS = re.compile(r"<\s*(br|/p|/div|/li|/tr|/h[1-6]|p|div|li|tr|h[1-6])\b[^>]*>", re.I)
_CHARSET_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030"}
_MSG_ID = re.compile(r"<[^<>\s]+>")


@lru_cache(maxsize=1)
def _markers() -> tuple[re.Pattern[str], list[re.Pattern[str]]]:
    mail = pack()["email"]
    reply = re.compile("|".join(f"(?:{p})" for p in mail["reply_markers"]), re.I | re.M)
    signature = [re.compile(p, re.I) for p in mail["signature_markers"]]
    return reply, signature


def html_to_text(markup: str) -> str:
    """Sanitise an HTML body with nh3 and keep only its text, one line per block."""
    marked = _BLOCK_TAGS.sub(lambda m: "\n" + m.group(0), markup)
    cleaned = nh3.clean(marked, tags=set(), clean_content_tags={"script", "style", "head", "title", "blockquote"},
                        attributes={}, strip_comments=True)
    lines = (line.strip() for line in html.unescape(cleaned).split("\n"))
    return "\n".join(line for line in lines if line)


def strip_quotes_and_signature(text: str) -> str:
    """Cut the quoted earlier messages and the signature off a plain-text reply."""
    reply, signature = _markers()
    found = reply.search(text)
    if found:
        text = text[: found.start()]
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if any(p.match(line) for p in signature):
            lines = lines[:i]
            break
    return clean_text("\n".join(lines))


def _decode_part(part: EmailMessage) -> str:
    payload = part.get_payload(decode=True)
    if payload is None:
        return ""
    if isinstance(payload, str):
        return payload
    charset = (part.get_content_charset() or "utf-8").lower()
    charset = _CHARSET_ALIASES.get(charset, charset)
    try:
        return payload.decode(charset)
    except LookupError:
        raise InputError("AF012", f"charset {charset!r}", allowed="utf-8, gb18030, gbk, gb2312, big5") from None
    except UnicodeDecodeError as exc:
        raise InputError("AF031", f"the e-mail body (byte {exc.start})", encoding=charset) from None


def _body(msg: EmailMessage) -> str:
    plain = msg.get_body(preferencelist=("plain",))
    if plain is not None:
        text = _decode_part(plain)  # type: ignore[arg-type]
        if text.strip():
            return text
    rich = msg.get_body(preferencelist=("html",))
    if rich is not None:
        return html_to_text(_decode_part(rich))  # type: ignore[arg-type]
    return ""


def repair(text: str) -> str:
    """Undo the surrogate escapes the parser leaves for raw 8-bit header bytes (many Chinese
    mail clients send UTF-8 or GBK headers without RFC 2047 encoding)."""
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", "replace")


def _header(msg: EmailMessage, name: str) -> str | None:
    try:
        value = msg.get(name)
    except (ValueError, IndexError, TypeError):  # undecodable headers
        return None
    return None if value is None else repair(str(value)).strip() or None


def thread_key(msg: EmailMessage) -> str | None:
    for name in ("References", "In-Reply-To", "Message-ID"):
        value = _header(msg, name)
        if value:
            ids = _MSG_ID.findall(value)
            if ids:
                return ids[0]
    return None


def _subject_text(subject: str | None) -> str | None:
    if not subject:
        return None
    return re.sub(r"^\s*((re|fw|fwd|回复|答复|转发)\s*[:：]\s*)+", "", subject, flags=re.I).strip() or None


@registry.channels.register("email.v1")
class Email(ChannelAdapter):
    """`read(eml_bytes)`; the customer is the sender (From), unless `agent_domains` lists the
    sender's domain, in which case the message is the agent's reply."""

    channel = "email"

    def __init__(self, agent_domains: tuple[str, ...] = ()) -> None:
        self.agent_domains = tuple(agent_domains)

    def read(self, payload: Any, source: str = "message") -> list[Thread]:
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        if not isinstance(payload, (bytes, bytearray)) or not payload.strip():
            raise InputError("AF035", f"e-mail {source}")
        try:
            msg = BytesParser(policy=policy.default).parsebytes(bytes(payload))
        except (ValueError, TypeError, IndexError) as exc:
            raise InputError("AF030", f"{source}: {exc}", channel="e-mail") from None
        if not isinstance(msg, EmailMessage) or (not _header(msg, "From") and not _header(msg, "Subject")):
            raise InputError("AF030", f"{source}: no From or Subject header, not an e-mail", channel="e-mail")
        try:
            sender = msg["From"].addresses[0] if msg["From"] is not None and msg["From"].addresses else None
        except (AttributeError, IndexError, ValueError):
            sender = None
        address = repair(sender.addr_spec).lower() if sender and sender.addr_spec and "@" in sender.addr_spec else None
        name = repair(sender.display_name).strip() if sender and sender.display_name else None
        text = strip_quotes_and_signature(_body(msg))
        subject = _subject_text(_header(msg, "Subject"))
        if not text:
            raise InputError("AF034", source)
        date = _header(msg, "Date")
        timestamp = None
        if date:
            try:
                timestamp = parsedate_to_datetime(date).timestamp()
            except (TypeError, ValueError, IndexError, OverflowError):
                timestamp = None
            if timestamp is not None and not in_time_range(timestamp):
                timestamp = None  # a broken client's date (year 9999): the time of arrival instead
        is_agent = bool(address) and address.rsplit("@", 1)[-1] in self.agent_domains  # type: ignore[union-attr]
        message_id = _header(msg, "Message-ID")
        utterance = Utterance(text=text, speaker="agent" if is_agent else "customer",
                              id=_MSG_ID.findall(message_id)[0] if message_id and _MSG_ID.findall(message_id) else None,
                              timestamp=timestamp, channel=self.channel)
        hints = CustomerHints() if is_agent else CustomerHints.of_payload(name=name, email=address)
        return [Thread(channel=self.channel, utterances=(utterance,), key=thread_key(msg),
                       customer=hints, subject=subject)]
