"""Load a rule pack and refuse it (AF301) when its kind's validator finds problems, so a
component never runs on a pack that `anfu check-rules` would reject."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, Iterator

from ..errors import RulePackError
from . import VALIDATORS, load_pack, pack_dir


def load_checked(name: str, rules_dir: str | Path | None = None, kind: str | None = None) -> dict[str, Any]:
    """`load_pack(name)` validated by the validator registered for `kind` (default: name)."""
    data = load_pack(name, rules_dir=rules_dir)
    check = VALIDATORS.get(kind or name)
    problems = check(data) if check else []
    if problems:
        path = pack_dir(rules_dir=rules_dir) / f"{name}.yaml"
        raise RulePackError("AF301", str(path), reason="; ".join(problems[:5]))
    return data


def str_list(value: Any, where: str, problems: list[str], allow_empty: bool = False) -> list[str]:
    """Check that `value` is a list of non-empty strings; record a problem otherwise."""
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append(f"{where} must be a list of non-empty strings")
        return []
    if not value and not allow_empty:
        problems.append(f"{where} must not be empty")
    return value


def regex(value: Any, where: str, problems: list[str]) -> "re.Pattern[str] | None":
    """A pack's regex, compiled as the loaders use it: inside `(?:…)`, joined with the others of its
    list. A global flag such as `(?i)` compiles alone and breaks the joined pattern (the component
    then failed to load after `check-rules` said OK): scope it, `(?i:thanks)`."""
    if not isinstance(value, str):
        problems.append(f"{where}: a regex must be a string")
        return None
    try:
        return re.compile(f"(?:{value})")
    except re.error as exc:
        problems.append(f"{where}: bad regex {value[:60]!r} ({exc}; a flag such as (?i) must be scoped, "
                        "e.g. (?i:thanks))")
        return None


def number(value: Any, where: str, problems: list[str], low: float | None = None, high: float | None = None) -> None:
    """Check that `value` is a number within [low, high]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        problems.append(f"{where} must be a number")
    elif isinstance(value, float) and not math.isfinite(value):  # YAML .nan / .inf compare false to any bound
        problems.append(f"{where} must be a finite number, not {value}")
    elif (low is not None and value < low) or (high is not None and value > high):
        problems.append(f"{where} must be between {low} and {high}")


def each_mapping(items: list[Any], name: str, problems: list[str],
                 complaint: str = " must be a mapping") -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, item) for each mapping in the list `items`, where = f"{name}[{i}]"; any other
    item is skipped with the problem f"{where}{complaint}"."""
    for i, item in enumerate(items):
        where = f"{name}[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{where}{complaint}")
            continue
        yield where, item


# Chinese characters and CJK punctuation: an English field holding them would show Chinese on
# the English pages (tests/web/test_accessibility.py checks the same range).
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01-\uff5e]")


def english(value: Any, where: str, problems: list[str]) -> None:
    """Check that `value` is the English of a zh-CN field (`<key>_en`): a non-empty string
    with no Chinese character, as the English pages show it."""
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where} must give the English (a non-empty string) for the English pages")
    elif _CJK.search(value):
        problems.append(f"{where} must be English: it contains Chinese ({_CJK.search(value).group(0)!r})")


def english_list(value: Any, zh: Any, where: str, problems: list[str]) -> None:
    """Check that `value` is the English of the list `zh`, item by item."""
    if not isinstance(value, list) or not isinstance(zh, list) or len(value) != len(zh):
        problems.append(f"{where} must give the English of each item, as many as the zh-CN list")
        return
    for i, item in enumerate(value):
        english(item, f"{where}[{i}]", problems)
