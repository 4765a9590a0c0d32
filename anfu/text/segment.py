"""Word segmentation for full-text search (jieba), the same on the way in and on the way out.

Chinese has no spaces, so neither SQLite FTS5 nor PostgreSQL full text can find 退款 in
"我要退款" by themselves. The search index therefore stores the text as space-joined jieba
tokens (`index_terms`) and a query is cut the same way (`query_terms`):

- the text is normalised first (`anfu.text.normalize`: full/half width, case, Traditional →
  Simplified), so 退款 finds 退款 and ＲＥＦＵＮＤ finds refund;
- the index uses jieba's search mode (every dictionary word and its shorter dictionary words:
  中华人民共和国 is also indexed as 中华, 人民, 共和国 …), the query the precise mode, so a query
  word is a word of the index whatever compound it stood in;
- HMM guessing of unknown words is off on both sides: an unknown name is cut into the same
  pieces wherever it appears, instead of being guessed differently in different sentences;
- tokens keep letters and digits only (punctuation splits them), so both databases see the same
  plain tokens and no query can carry FTS or tsquery syntax.

A query matches a document holding every one of its tokens (AND).
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

from .normalize import normalize

_NOT_WORD = re.compile(r"[^\w]|_", re.UNICODE)
_LOCK = threading.Lock()
_TOKENIZER: Any = None


def _tokenizer() -> Any:
    """One jieba tokenizer of our own (other code may add words to jieba's global one)."""
    global _TOKENIZER
    if _TOKENIZER is None:
        with _LOCK:
            if _TOKENIZER is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                _TOKENIZER = tokenizer
    return _TOKENIZER


def _plain(tokens: Any) -> list[str]:
    out = []
    for token in tokens:
        out.extend(part for part in _NOT_WORD.split(token) if part)
    return out


# the longest token indexed: a query is at most 100 characters, and PostgreSQL's tsvector wraps a
# lexeme past 2,047 bytes into garbage that hides the message's other words (a pasted log line)
MAX_TERM = 100


def index_terms(text: str) -> str:
    """The text as the index stores it: normalised jieba search-mode tokens joined by spaces
    (tokens longer than `MAX_TERM` left out: no query can name them)."""
    if not text:
        return ""
    return " ".join(t for t in _plain(_tokenizer().cut_for_search(normalize(text), HMM=False))
                    if len(t) <= MAX_TERM)


def query_terms(query: str) -> list[str]:
    """The distinct tokens of a query (precise mode), in order; empty when it has no word."""
    seen: dict[str, None] = {}
    for token in _plain(_tokenizer().cut(normalize(query), HMM=False)):
        seen.setdefault(token)
    return list(seen)


__all__ = ["index_terms", "query_terms"]
