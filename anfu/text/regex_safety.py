"""Regexes that people type in (training scenarios, a centre's own lists) run on every reply an agent
sends. A pattern that nests a variable repetition inside an unbounded one — `(好+)+`, `(a*)*`,
`(\\w+\\s?)+` — can backtrack exponentially on a short input that almost matches, holding the
worker (and the interpreter lock) for seconds: a denial of service typed into a form.

`nested_repetition` finds that shape by walking the parsed pattern (star height above one). It is a
conservative lint, not a proof: it flags the classic exponential forms and leaves bounded or
fixed-width inner repeats (`(\\d{3}-)+`) alone.
"""

from __future__ import annotations

from typing import Any

try:  # Python 3.11+
    import re._parser as _parser  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - older Pythons
    import sre_parse as _parser  # type: ignore[no-redef]

_REPEATS = {_parser.MAX_REPEAT, _parser.MIN_REPEAT}
if hasattr(_parser, "POSSESSIVE_REPEAT"):
    _REPEATS.add(_parser.POSSESSIVE_REPEAT)


def _children(op: Any, av: Any) -> list[Any]:
    """The sub-patterns inside one parsed item."""
    if op in _REPEATS:
        return [av[2]]
    if op is _parser.SUBPATTERN:
        return [av[-1]]
    if op is _parser.BRANCH:
        return list(av[1])
    if op in (_parser.ASSERT, _parser.ASSERT_NOT):
        return [av[1]]
    if getattr(_parser, "ATOMIC_GROUP", None) is op:
        return [av]
    if op is _parser.GROUPREF_EXISTS:
        return [branch for branch in av[1:] if branch is not None]
    return []


def _has_variable_repeat(items: Any) -> bool:
    for op, av in items:
        if op in _REPEATS and av[0] != av[1] and av[1] > 1:  # `?` alone is not the exponential shape
            return True
        if any(_has_variable_repeat(child) for child in _children(op, av)):
            return True
    return False


def _nested(items: Any) -> bool:
    for op, av in items:
        if op in _REPEATS and av[1] == _parser.MAXREPEAT and _has_variable_repeat(av[2]):
            return True
        if any(_nested(child) for child in _children(op, av)):
            return True
    return False


def nested_repetition(pattern: str) -> bool:
    """Whether `pattern` repeats, without bound, something that itself repeats a variable number
    of times (`(好+)+`): the shape that backtracks exponentially. False for a pattern that does not
    parse (the caller reports that as a bad regex)."""
    try:
        return _nested(_parser.parse(pattern))
    except Exception:  # noqa: BLE001 - re.error and the parser's own errors: not this check's concern
        return False
