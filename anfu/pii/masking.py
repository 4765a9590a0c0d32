"""Masking (脱敏) of personal information: same length, one `*` per hidden character.

- phone: keep the first 3 and last 4 digits of the national number (138****5678), and
  any `+86` prefix;
- id_card: keep the first 6 and last 4 characters (110101********1234);
- bank_card: keep the last 4 digits;
- email: keep the first character of the name and the domain (z*******@example.com);
- address: keep the province and city, hide the rest (北京市*********).

Separators (spaces, hyphens) stay, so masked text keeps the original's offsets.
"""

from __future__ import annotations

from typing import Any

from .recognizers import Span, find_pii

MASK = "*"


def _hidden(span: Span) -> list[bool]:
    """Per character of the span: hide it?"""
    chars = span.text
    if span.kind == "address":
        return [i >= span.keep_prefix and not ch.isspace() for i, ch in enumerate(chars)]
    if span.kind == "email":
        # the recogniser reads full-width forms: a Chinese IME's ＠ (U+FF20) marks the domain too
        at = next((i for i, ch in enumerate(chars) if ch in "@\uff20"), len(chars))
        return [0 < i < at for i in range(len(chars))]
    positions = [i for i, ch in enumerate(chars) if ch.isalnum() and i >= span.keep_prefix]
    if span.kind == "phone":
        keep = set(positions[:3] + positions[-4:])
    elif span.kind == "id_card":
        keep = set(positions[:6] + positions[-4:])
    else:  # bank_card
        keep = set(positions[-4:])
    return [i in positions and i not in keep for i in range(len(chars))]


def mask_span(span: Span) -> str:
    return "".join(MASK if hide else ch for ch, hide in zip(span.text, _hidden(span)))


def mask(text: str, spans: list[Span] | None = None) -> str:
    """`text` with every piece of personal information masked (same length as `text`)."""
    if not text:
        return text
    spans = find_pii(text) if spans is None else spans
    if not spans:
        return text
    out: list[str] = []
    pos = 0
    for span in spans:
        out.append(text[pos:span.start])
        out.append(mask_span(span))
        pos = span.end
    out.append(text[pos:])
    return "".join(out)


def mask_data(value: Any) -> Any:
    """A copy of a JSON-like value (dicts, lists, strings…) with every string masked."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {key: mask_data(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_data(item) for item in value]
    return value


def mask_identity(kind: str, value: str) -> str:
    """Mask a customer identity field for a role that may not see it: a phone number or e-mail
    address as `mask` would (138****5678, z***@example.com), a name or reference down to its first
    character (王**)."""
    if kind in ("phone", "email"):
        masked = mask(value)
        if masked != value:
            return masked
    if not value:
        return value
    return value[0] + MASK * (len(value) - 1)
