"""Multi-pattern matching over normalised text: literal phrases (Aho-Corasick) and regexes.

Patterns are normalised with the same function as the text, so a rule written in
Traditional or full-width form still matches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

import ahocorasick

from .normalize import normalize, t2s


@dataclass(frozen=True)
class Match:
    start: int
    end: int
    payload: Any
    text: str


class PhraseMatcher:
    """Find every occurrence of many phrases and regexes; payloads are returned with matches.

    Picklable: the automaton is rebuilt lazily after unpickling.
    """

    def __init__(self) -> None:
        self._phrases: list[tuple[str, Any]] = []
        self._regexes: list[tuple[re.Pattern[str], Any]] = []
        self._automaton: ahocorasick.Automaton | None = None

    def add(self, phrase: str, payload: Any) -> None:
        phrase = normalize(phrase)
        if phrase:
            self._phrases.append((phrase, payload))
            self._automaton = None

    def add_regex(self, pattern: str, payload: Any) -> None:
        # Regex syntax must survive, so only the script is converted (write punctuation in
        # its normalised full-width form: ！？，；：～（）).
        self._regexes.append((re.compile(t2s(pattern)), payload))

    def extend(self, phrases: Iterable[str], payload: Any) -> None:
        for phrase in phrases:
            self.add(phrase, payload)

    def __len__(self) -> int:
        return len(self._phrases) + len(self._regexes)

    def _build(self) -> ahocorasick.Automaton | None:
        if not self._phrases:
            return None
        auto = ahocorasick.Automaton()
        grouped: dict[str, list[Any]] = {}
        for phrase, payload in self._phrases:
            grouped.setdefault(phrase, []).append(payload)
        for phrase, payloads in grouped.items():
            auto.add_word(phrase, (len(phrase), payloads))
        auto.make_automaton()
        return auto

    def find(self, norm: str) -> list[Match]:
        """All matches in `norm` (already normalised), sorted by start then longest first."""
        out: list[Match] = []
        if self._automaton is None and self._phrases:
            self._automaton = self._build()
        if self._automaton is not None and norm:
            for end_idx, (length, payloads) in self._automaton.iter(norm):
                start = end_idx - length + 1
                for payload in payloads:
                    out.append(Match(start, end_idx + 1, payload, norm[start:end_idx + 1]))
        for rx, payload in self._regexes:
            for m in rx.finditer(norm):
                if m.end() > m.start():
                    out.append(Match(m.start(), m.end(), payload, m.group(0)))
        out.sort(key=lambda m: (m.start, -(m.end - m.start)))
        return out

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_automaton"] = None
        return state


def longest_non_overlapping(matches: list[Match]) -> list[Match]:
    """Keep the longest match wherever matches overlap (left to right)."""
    chosen: list[Match] = []
    for m in sorted(matches, key=lambda m: (-(m.end - m.start), m.start)):
        if all(m.end <= c.start or m.start >= c.end for c in chosen):
            chosen.append(m)
    return sorted(chosen, key=lambda m: m.start)


_CLAUSE_BREAK = re.compile(r"[。！？；，,.!?;\n…～]")


def clause_bounds(norm: str, start: int, end: int) -> tuple[int, int]:
    """The clause (between punctuation marks) that contains norm[start:end]."""
    left = start
    while left > 0 and not _CLAUSE_BREAK.match(norm[left - 1]):
        left -= 1
    right = end
    while right < len(norm) and not _CLAUSE_BREAK.match(norm[right]):
        right += 1
    return left, right
