"""Length-preserving normalisation: full/half width, case, Traditional→Simplified.

Every component matches on the normalised text and reports offsets into the original, so
the normalised string must have exactly the original's length: a character whose NFKC form
is longer than one character is kept as it is.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

try:  # OpenCC is a required dependency; the guard keeps `import anfu` working while installing.
    import opencc

    _T2S = opencc.OpenCC("t2s")
except ImportError:  # pragma: no cover - exercised only on a broken install
    _T2S = None

# Punctuation folded to one canonical form so rules need list only one.
_PUNCT = str.maketrans({"!": "！", "?": "？", ",": "，", ";": "；", ":": "：", "~": "～",
                        "(": "（", ")": "）"})


@lru_cache(maxsize=8192)
def _char(ch: str) -> str:
    folded = unicodedata.normalize("NFKC", ch)
    if len(folded) != 1:
        return ch
    return folded.lower()


class _FoldTable(dict):
    """`str.translate` table computing `_char` once per character and remembering it
    (bounded: past `limit` entries the table stops growing and `_char` answers alone)."""

    limit = 65536

    def __missing__(self, code: int) -> str:
        folded = _char(chr(code))
        if len(self) < self.limit:
            self[code] = folded
        return folded


_FOLD = _FoldTable()


def t2s(text: str) -> str:
    """Traditional→Simplified, keeping the length (falls back char by char)."""
    if _T2S is None or text.isascii():
        return text
    converted = _T2S.convert(text)
    if len(converted) == len(text):
        return converted
    return "".join(c if len(c := _T2S.convert(ch)) == 1 else ch for ch in text)


def normalize(text: str) -> str:
    """Normalise for matching; `len(normalize(t)) == len(t)` always holds."""
    return t2s(text.translate(_FOLD)).translate(_PUNCT)
