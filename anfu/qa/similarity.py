"""Character n-gram cosine similarity against exemplar sentences.

Catches rewordings of forbidden phrases that no keyword or pattern lists: a sentence is
compared with exemplar violations and with good-reply exemplars (counter-examples), and
only a sentence clearly nearer a violation is flagged. An inverted index keeps a query to
a few dozen dictionary look-ups, well under a millisecond per reply.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any, Sequence

# Punctuation and spaces carry no meaning for the comparison.
_NOISE = re.compile(r"[\s，。！？；：、,.!?;:～~…“”‘’\"'（）()\-—]+")


def grams(text: str, sizes: Sequence[int]) -> Counter[str]:
    """Counts of the character n-grams of `text` (punctuation removed)."""
    clean = _NOISE.sub("", text)
    out: Counter[str] = Counter()
    for n in sizes:
        out.update(clean[i:i + n] for i in range(len(clean) - n + 1))
    return out


class NgramIndex:
    """Cosine similarity of a query to every indexed text; payloads come back with scores."""

    def __init__(self, texts: Sequence[str], payloads: Sequence[Any], sizes: Sequence[int] = (2, 3)) -> None:
        self.sizes = tuple(sizes)
        self.payloads = list(payloads)
        self._postings: dict[str, list[tuple[int, float]]] = {}
        for row, text in enumerate(texts):
            counts = grams(text, self.sizes)
            norm = math.sqrt(sum(v * v for v in counts.values())) or 1.0
            for gram, count in counts.items():
                self._postings.setdefault(gram, []).append((row, count / norm))

    def __len__(self) -> int:
        return len(self.payloads)

    def best(self, text: str) -> tuple[float, Any]:
        """(highest cosine, its payload); (0.0, None) when nothing shares an n-gram."""
        counts = grams(text, self.sizes)
        norm = math.sqrt(sum(v * v for v in counts.values()))
        if not norm:
            return 0.0, None
        scores: dict[int, float] = {}
        for gram, count in counts.items():
            for row, weight in self._postings.get(gram, ()):
                scores[row] = scores.get(row, 0.0) + weight * count
        if not scores:
            return 0.0, None
        row = max(scores, key=lambda r: (scores[r], -r))
        return scores[row] / norm, self.payloads[row]
