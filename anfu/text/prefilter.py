"""Required literals of a regex: a cheap test that a text cannot match it.

`required_literals(pattern)` gives a set of strings such that every match of the pattern
contains at least one of them (or None when no such set is known, e.g. the pattern can
start with any character). `PhraseMatcher` looks for its regexes' literals in the same
Aho-Corasick pass as its phrases (`literal_index`) and runs only the regexes whose literals
occur: a text without any of a regex's literals cannot match it, so the results are the same
as running every regex.

The pattern is read with the standard library's regex parser (`re._parser`); anything it
does not recognise, and any case-insensitive part, makes the answer None (always run).
"""

from __future__ import annotations

import re
from typing import Any

try:
    from re import _constants as C  # type: ignore[attr-defined]
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python < 3.11 names
    import sre_constants as C  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

MAX_CLASS = 64  # a character class wider than this is no useful filter
# The most frequent Chinese characters: a requirement made only of them filters little, so a
# rarer one of the same length is preferred (speed only; any choice gives the same results).
COMMON = frozenset("的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会"
                   "自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开"
                   "手十用主行方又如前所本见经头面公同三已老从动两长吗吧呢啊")
_REPEATS = tuple(getattr(C, name) for name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") if hasattr(C, name))
_ATOMIC = getattr(C, "ATOMIC_GROUP", None)

Literals = frozenset[str]


def required_literals(pattern: re.Pattern[str]) -> Literals | None:
    """Strings one of which occurs in every match of `pattern`, or None when unknown."""
    if pattern.flags & (re.IGNORECASE | re.VERBOSE):
        return None
    try:
        parsed = sre_parse.parse(pattern.pattern, pattern.flags)
    except Exception:  # noqa: BLE001 - any parser surprise only switches the filter off
        return None
    return _sequence(list(parsed))


def _sequence(items: list[tuple[Any, Any]]) -> Literals | None:
    """The most selective requirement among the items of a sequence (all of them must match)."""
    candidates: list[Literals] = []
    run = ""
    for op, av in items:
        if op is C.LITERAL:
            run += chr(av)
            continue
        if run:
            candidates.append(frozenset((run,)))
            run = ""
        found = _item(op, av)
        if found:
            candidates.append(found)
    if run:
        candidates.append(frozenset((run,)))
    if not candidates:
        return None
    return max(candidates, key=_selectivity)


def _selectivity(literals: Literals) -> tuple[int, int, bool]:
    """Longer literals first, then fewer, then ones not made only of common characters."""
    shortest = min(len(s) for s in literals)
    return shortest, -len(literals), not all(ch in COMMON for s in literals for ch in s)


def _item(op: Any, av: Any) -> Literals | None:
    if op is C.IN:
        return _char_class(av)
    if op is C.SUBPATTERN:
        _, add_flags, del_flags, sub = av
        return None if add_flags or del_flags else _sequence(list(sub))
    if op is C.BRANCH:
        branches = [_sequence(list(b)) for b in av[1]]
        if any(b is None for b in branches):
            return None
        return frozenset().union(*branches)  # type: ignore[arg-type]
    if op in _REPEATS:
        low, _, sub = av
        return _sequence(list(sub)) if low >= 1 else None
    if _ATOMIC is not None and op is _ATOMIC:
        return _sequence(list(av))
    return None  # assertions, anchors, any character, categories, back-references…


def _char_class(items: list[tuple[Any, Any]]) -> Literals | None:
    chars: set[str] = set()
    for op, av in items:
        if op is C.LITERAL:
            chars.add(chr(av))
        elif op is C.RANGE and av[1] - av[0] < MAX_CLASS:
            chars.update(chr(c) for c in range(av[0], av[1] + 1))
        else:  # a negation, a category (\d, \s) or a wide range
            return None
    return frozenset(chars) if 0 < len(chars) <= MAX_CLASS else None


def literal_index(patterns: list[re.Pattern[str]]) -> tuple[list[int], dict[str, tuple[int, ...]]]:
    """The regexes (by position) that must always run, and {literal: regexes requiring it}."""
    always: list[int] = []
    by_literal: dict[str, list[int]] = {}
    for i, pattern in enumerate(patterns):
        literals = required_literals(pattern)
        if literals is None:
            always.append(i)
        else:
            for literal in sorted(literals):
                by_literal.setdefault(literal, []).append(i)
    return always, {literal: tuple(indices) for literal, indices in by_literal.items()}
