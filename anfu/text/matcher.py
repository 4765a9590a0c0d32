"""Multi-pattern matching over normalised text: literal phrases (Aho-Corasick) and regexes.

Patterns are normalised with the same function as the text, so a rule written in
Traditional or full-width form still matches. Invisible characters (`normalize.INVISIBLE`: zero-width
spaces, soft hyphens…) inside a word do not hide it ("投\u200b诉"): a text holding any is matched
without them and the offsets are mapped back to the text given.

Speed: most texts match few of a matcher's regexes, so `find` runs only those whose
required literals (`anfu.text.prefilter`) occur in the text, found in the same Aho-Corasick
pass as the phrases; a text without them cannot match, so the results are the same as
running every regex.

A live conversation is analysed again at every turn over a window of its latest turns, so
the same turn text meets the same matcher many times: `find` remembers the matches of the
last `MEMO_SIZE` texts (per matcher; forgotten whenever a pattern is added).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from typing import Any, Iterable

import ahocorasick

from .normalize import INVISIBLE, normalize, t2s
from .prefilter import literal_index

MEMO_SIZE = 4096  # texts whose matches one matcher remembers


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
        self._always: list[int] = []  # regexes without known literals: run on every text
        self._ready = False  # automaton and `_always` built for the current phrases and regexes
        self._memo: dict[str, tuple[Match, ...]] = {}

    def add(self, phrase: str, payload: Any) -> None:
        phrase = normalize(phrase)
        if phrase:
            self._phrases.append((phrase, payload))
            self._ready = False

    def add_regex(self, pattern: str, payload: Any) -> None:
        # Regex syntax must survive, so only the script is converted (write punctuation in
        # its normalised full-width form: ！？，；：～（）).
        self._regexes.append((re.compile(t2s(pattern)), payload))
        self._ready = False

    def extend(self, phrases: Iterable[str], payload: Any) -> None:
        for phrase in phrases:
            self.add(phrase, payload)

    def __len__(self) -> int:
        return len(self._phrases) + len(self._regexes)

    def _build(self) -> ahocorasick.Automaton | None:
        """One automaton over the phrases and the regexes' literals: each word's value is
        (length, phrase payloads, indices of the regexes that require it)."""
        always, literals = literal_index([rx for rx, _ in self._regexes])
        self._always = always
        if not self._phrases and not literals:
            return None
        grouped: dict[str, list[Any]] = {}
        for phrase, payload in self._phrases:
            grouped.setdefault(phrase, []).append(payload)
        auto = ahocorasick.Automaton()
        for word in grouped.keys() | literals.keys():
            auto.add_word(word, (len(word), grouped.get(word, ()), literals.get(word, ())))
        auto.make_automaton()
        return auto

    def find(self, norm: str) -> list[Match]:
        """All matches in `norm` (already normalised), sorted by start then longest first."""
        if not self._ready:
            self._automaton = self._build()
            self._memo = {}
            self._ready = True
        known = self._memo.get(norm)
        if known is not None:
            return list(known)
        out = self._find(norm)
        if len(self._memo) >= MEMO_SIZE:
            self._memo = {}  # plain dict operations only: safe for the turn threads without a lock
        self._memo[norm] = tuple(out)
        return out

    def _find(self, norm: str) -> list[Match]:
        if INVISIBLE.search(norm) is None:
            return self._find_visible(norm)
        # match on the visible characters; a match's offsets index `norm`, its text is what was
        # matched (without the invisible characters)
        keep = [i for i, ch in enumerate(norm) if INVISIBLE.match(ch) is None]
        compact = "".join(norm[i] for i in keep)
        return [Match(keep[m.start], keep[m.end - 1] + 1, m.payload, m.text)
                for m in self._find_visible(compact)]

    def _find_visible(self, norm: str) -> list[Match]:
        out: list[Match] = []
        wanted: set[int] | None = None  # regexes whose literals occur
        if self._automaton is not None and norm:
            for end_idx, (length, payloads, regex_ids) in self._automaton.iter(norm):
                if payloads:
                    start = end_idx - length + 1
                    for payload in payloads:
                        out.append(Match(start, end_idx + 1, payload, norm[start:end_idx + 1]))
                if regex_ids:
                    if wanted is None:
                        wanted = set(self._always)
                    wanted.update(regex_ids)
        if self._regexes:
            regexes = self._regexes
            for i in (self._always if wanted is None else sorted(wanted)):
                rx, payload = regexes[i]
                for m in rx.finditer(norm):
                    if m.end() > m.start():
                        out.append(Match(m.start(), m.end(), payload, m.group(0)))
        if len(out) > 1:
            out.sort(key=_match_order)
        return out

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_automaton"] = None
        state["_ready"] = False
        state["_memo"] = {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state.setdefault("_always", [])  # pickled by an older version
        state["_memo"] = {}
        state["_ready"] = False
        self.__dict__.update(state)


def _match_order(m: Match) -> tuple[int, int]:
    return m.start, m.start - m.end


def longest_non_overlapping(matches: list[Match]) -> list[Match]:
    """Keep the longest match wherever matches overlap (left to right)."""
    if len(matches) < 2:
        return list(matches)
    # the chosen matches never overlap, so sorted by start their ends are sorted too: a candidate
    # only needs its two neighbours checked (a turn of one word repeated has thousands of matches)
    starts: list[int] = []
    chosen: list[Match] = []
    for m in sorted(matches, key=_longest_first):
        k = bisect_left(starts, m.start)
        if (k > 0 and chosen[k - 1].end > m.start) or (k < len(starts) and starts[k] < m.end):
            continue
        starts.insert(k, m.start)
        chosen.insert(k, m)
    return chosen


def _longest_first(m: Match) -> tuple[int, int]:
    return m.start - m.end, m.start


_CLAUSE_BREAK = re.compile(r"[。！？；，,.!?;\n…～]")
_BREAK_CHARS = frozenset("。！？；，,.!?;\n…～")  # the same marks, for a per-character test


def clause_bounds(norm: str, start: int, end: int) -> tuple[int, int]:
    """The clause (between punctuation marks) that contains norm[start:end]."""
    left = start
    while left > 0 and norm[left - 1] not in _BREAK_CHARS:
        left -= 1
    found = _CLAUSE_BREAK.search(norm, end)
    return left, (found.start() if found else max(end, len(norm)))
