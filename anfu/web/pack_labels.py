"""Labels that reach the pages from the rule packs, in the page's language.

The engine writes the packs' zh-CN text into what it stores (an escalation reason such as
"客户已2次表示要投诉或向外部反映", a ladder level's name). A pack gives the English of each
as data, next to the zh-CN text: `<key>_en` (`reason_en`, `levels_en` in the escalation ladder,
`actions_en` in the SOP pack, a playbook's `speak_en` and `avoid_en` in the personas pack, `message_en` in the quality rubric),
the
convention of the
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
SOP_PACK = "sop"
PERSONA_PACK = "personas"
RUBRIC_PACK = "quality_rubric"
# how anfu.qa.quality words a rubric finding (zh-CN) and the same in English
RUBRIC_FINDINGS = ((re.compile(r"整通对话（(?P<stage>[^（）]+)）：(?P<message>.+)", re.DOTALL), "Whole conversation ({stage}): {message}"),
                   (re.compile(r"第(?P<turn>\d+)轮坐席回复（(?P<stage>[^（）]+)）：(?P<message>.+)", re.DOTALL),
                    "Agent reply {turn} ({stage}): {message}"))


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


@lru_cache(maxsize=8)
def sop_actions(rules_dir: str | None = None) -> dict[str, str]:
    """SOP action name (zh-CN, as the engine reports it) -> its English name (`actions_en`)."""
    data = load_pack(SOP_PACK, rules_dir=rules_dir)
    return {str(k): str(v) for k, v in (data.get("actions_en") or {}).items()}


def sop_action(name: str, locale: str, rules_dir: str | None = None) -> str:
    """The name of an SOP next action in `locale` (as stored when the pack has no English)."""
    if locale == "zh_CN":
        return name
    return sop_actions(rules_dir).get(name, name)


@lru_cache(maxsize=8)
def playbook_items(rules_dir: str | None = None) -> dict[str, str]:
    """Each persona playbook item (zh-CN) -> its English, paired item by item (`speak_en`,
    `avoid_en` beside `speak`, `avoid`)."""
    data = load_pack(PERSONA_PACK, rules_dir=rules_dir)
    books = [data.get("default_playbook") or {}] + [(t or {}).get("playbook") or {}
                                                   for t in (data.get("types") or {}).values()]
    table: dict[str, str] = {}
    for book in books:
        for key in ("speak", "avoid"):
            zh, en = book.get(key) or [], book.get(f"{key}_en") or []
            if len(zh) == len(en):
                table.update({str(a): str(b) for a, b in zip(zh, en)})
    return table


def playbook_item(text: str, locale: str, rules_dir: str | None = None) -> str:
    """A playbook item ("这样说" / "避免") in `locale`, as stored when the pack has no English."""
    if locale == "zh_CN":
        return text
    return playbook_items(rules_dir).get(text, text)


@lru_cache(maxsize=8)
def rubric_messages(rules_dir: str | None = None) -> dict[str, str]:
    """Each quality rubric message (zh-CN) -> its English (`message_en`)."""
    data = load_pack(RUBRIC_PACK, rules_dir=rules_dir)
    entries = [*(data.get("items") or []), data.get("violations") or {}]
    return {str(e["message"]): str(e["message_en"]) for e in entries if e.get("message") and e.get("message_en")}


def rubric_finding(message: str, locale: str, rules_dir: str | None = None) -> str:
    """A stored rubric finding ("整通对话（提供方案）：坐席没有给出明确承诺…") in `locale`: the
    rubric message's English with the SOP stage's English name; as stored when the message is
    not one of the rubric's (a pre-send finding quoted on a turn)."""
    if locale == "zh_CN" or not isinstance(message, str):
        return message
    from .i18n import translations

    english = rubric_messages(rules_dir)
    for pattern, template in RUBRIC_FINDINGS:
        match = pattern.fullmatch(message)
        if match and match.group("message") in english:
            fields = match.groupdict()
            fields.update(stage=translations(locale).gettext(fields["stage"]), message=english[fields["message"]])
            return template.format(**fields)
    return message
