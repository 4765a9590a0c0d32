"""Character-bigram overlap between texts: how much of a message repeats an earlier one.

Chinese has no spaces, so character bigrams are a robust, segmentation-free unit for
telling "says the same thing again" apart from "adds new information".
"""

from __future__ import annotations

import re

# Punctuation, symbols and spaces carry no content for repetition; neither do @mentions
# of accounts (微博/微信 "@中国联通客服"), which customers repeat in every message.
_NON_CONTENT = re.compile(r"[\s\W_]+", re.UNICODE)
_MENTION = re.compile(r"@[^\s,，。!！?？:：;；@]+")


def content(text: str) -> str:
    """The text without @mentions, punctuation, symbols and spaces."""
    return _NON_CONTENT.sub("", _MENTION.sub("", text))


def bigrams(text: str) -> set[str]:
    """Set of character bigrams of the content (a single character counts as one unit)."""
    chars = content(text)
    if len(chars) == 1:
        return {chars}
    return {chars[i:i + 2] for i in range(len(chars) - 1)}


def containment(text: str, earlier: str) -> float:
    """Share of `text`'s bigrams already present in `earlier` (0..1)."""
    mine = bigrams(text)
    if not mine:
        return 0.0
    return len(mine & bigrams(earlier)) / len(mine)


def novelty(text: str, history: list[str]) -> float:
    """Share of `text`'s bigrams that appear in none of the `history` texts (1 = all new)."""
    mine = bigrams(text)
    if not mine:
        return 0.0
    seen: set[str] = set()
    for old in history:
        seen |= bigrams(old)
    return len(mine - seen) / len(mine)


def best_repeat(text: str, history: list[str]) -> tuple[int, float]:
    """(index into history, containment) of the earlier text that `text` repeats most;
    (-1, 0.0) when history is empty."""
    best, score = -1, 0.0
    for i, old in enumerate(history):
        value = containment(text, old)
        if value > score:
            best, score = i, value
    return best, score


class RepeatTracker:
    """Earlier texts of one speaker, kept as bigram sets so each new text is compared in
    one pass (a long conversation does not recompute the bigrams of every earlier turn)."""

    def __init__(self) -> None:
        self.sets: list[set[str]] = []
        self.seen: set[str] = set()

    def best(self, text: str) -> tuple[int, float, float]:
        """(index of the earlier text repeated most, its containment, novelty against all
        earlier texts); (-1, 0.0, 1.0) before any text was added or for an empty text."""
        mine = bigrams(text)
        if not mine or not self.sets:
            return -1, 0.0, 1.0
        best, score = -1, 0.0
        for i, old in enumerate(self.sets):
            value = len(mine & old) / len(mine)
            if value > score:
                best, score = i, value
        return best, score, len(mine - self.seen) / len(mine)

    def add(self, text: str) -> None:
        grams = bigrams(text)
        self.sets.append(grams)
        self.seen |= grams
