"""Length-preserving normalisation: full/half width, case, Traditional→Simplified.

Every component matches on the normalised text and reports offsets into the original, so
the normalised string must have exactly the original's length: a character whose NFKC form
is longer than one character is kept as it is.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

try:  # OpenCC is a required dependency; the guard keeps `import anfu` working while installing.
    import opencc

    _T2S = opencc.OpenCC("t2s")
except ImportError:  # pragma: no cover - exercised only on a broken install
    _T2S = None

# Characters that show nothing: zero-width spaces and joiners, the soft hyphen, word joiner, BOM,
# direction marks, variation selectors, invisible fillers. A text of only these (and whitespace) is
# blank (`is_blank`); one inside a word ("投\u200b诉") must not hide it from a rule
# (`anfu.text.matcher`).
INVISIBLE = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
                       "\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]")


def is_blank(text: str) -> bool:
    """Whether `text` shows nothing: only whitespace and invisible characters ("\u200b\u200b")."""
    return not text.strip() or not INVISIBLE.sub("", text).strip()


# Punctuation folded to one canonical form so rules need list only one.
_PUNCT = str.maketrans({"!": "！", "?": "？", ",": "，", ";": "；", ":": "：", "~": "～",
                        "(": "（", ")": "）"})


@lru_cache(maxsize=8192)
def _char(ch: str) -> str:
    folded = unicodedata.normalize("NFKC", ch)
    if len(folded) != 1:
        return ch
    lower = folded.lower()
    return lower if len(lower) == 1 else folded  # "İ".lower() is two characters


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
