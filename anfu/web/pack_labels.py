"""Labels that reach the pages from the rule packs, in the page's language.

The engine writes the packs' zh-CN text into what it stores (an escalation reason such as
"客户已2次表示要投诉或向外部反映", a ladder level's name). A pack gives the English of each
as data, next to the zh-CN text: `<key>_en` (`reason_en`, `levels_en`), the convention of the
wellbeing and scenario packs. The English page shows the English text; a stored reason is
matched back to the rule whose template wrote it, its numbers carried over. Text no rule of
the pack wrote (a pack edited since) stays as stored.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..rules import load_pack

LADDER_PACK = "escalation_ladder"


@dataclass(frozen=True)
class ReasonTemplate:
    """One rule's reason: the zh-CN template as a pattern, and its English template."""

    pattern: re.Pattern[str]
    english: str


@dataclass(frozen=True)
class LadderText:
    levels: dict[int, dict[str, str]]  # level -> {locale: name}
    reasons: tuple[ReasonTemplate, ...]


def template_pattern(template: str) -> re.Pattern[str]:
    """`客户已{risk_turns}次…` -> a pattern whose named groups take the placeholders' values."""
    out = []
    for literal, name, _spec, _conv in string.Formatter().parse(template):
        out.append(re.escape(literal))
        if name:
            out.append(f"(?P<{name}>.+?)" if f"(?P<{name}>" not in "".join(out) else f"(?P={name})")
    return re.compile("".join(out))


def pack_problems(data: dict[str, Any]) -> list[str]:
    """What an escalation ladder pack lacks for the English pages: `levels_en` for each level
    and a `reason_en` with the same placeholders as each rule's `reason`."""
    problems = []
    levels_en = data.get("levels_en")
    if not isinstance(levels_en, dict) or sorted(levels_en) != sorted(data.get("levels") or {}) or not all(
            isinstance(v, str) and v.strip() for v in levels_en.values()):
        problems.append("levels_en must name each level of levels in English")
    for i, rule in enumerate(data.get("rules") or []):
        english = rule.get("reason_en")
        if not isinstance(english, str) or not english.strip():
            problems.append(f"rules[{i}] ({rule.get('id')}): reason_en must be an English sentence")
            continue
        fields = {name for _, name, _, _ in string.Formatter().parse(str(rule.get("reason", ""))) if name}
        fields_en = {name for _, name, _, _ in string.Formatter().parse(english) if name}
        if fields != fields_en:
            problems.append(f"rules[{i}] ({rule.get('id')}): reason_en must use the placeholders of reason "
                            f"({', '.join(sorted(fields)) or 'none'})")
    return problems


@lru_cache(maxsize=8)
def ladder_text(rules_dir: str | None = None) -> LadderText:
    data = load_pack(LADDER_PACK, rules_dir=rules_dir)
    levels = {int(k): {"zh_CN": str(v)} for k, v in (data.get("levels") or {}).items()}
    for k, v in (data.get("levels_en") or {}).items():
        levels.setdefault(int(k), {})["en"] = str(v)
    reasons = tuple(ReasonTemplate(template_pattern(rule["reason"]), rule["reason_en"])
                    for rule in data.get("rules") or [] if rule.get("reason") and rule.get("reason_en"))
    return LadderText(levels, reasons)


def ladder_label(level: int | None, stored: str | None, locale: str, rules_dir: str | None = None) -> str:
    """The name of ladder level `level` in `locale` (the stored zh-CN name when the pack has none)."""
    if level is None:
        return stored or ""
    names = ladder_text(rules_dir).levels.get(int(level), {})
    return names.get(locale) or stored or names.get("zh_CN", "")


def reason_text(reason: str, locale: str, rules_dir: str | None = None) -> str:
    """A stored escalation reason in `locale`: the English template of the rule that wrote it,
    with the same numbers; the stored text when no rule matches or the page is zh-CN."""
    if locale == "zh_CN" or not isinstance(reason, str):
        return reason
    for template in ladder_text(rules_dir).reasons:
        match = template.pattern.fullmatch(reason)
        if match:
            return template.english.format(**match.groupdict())
    return reason
