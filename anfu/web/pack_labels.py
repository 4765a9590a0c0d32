"""Labels that reach the pages from the rule packs, in the page's language.

The engine writes the packs' zh-CN text into what it stores (an escalation reason such as
"客户已2次表示要投诉或向外部反映", a ladder level's name). A pack gives the English of each
as data, next to the zh-CN text: `<key>_en` (`reason_en`, `levels_en` in the escalation ladder,
`actions_en` in the SOP pack, a playbook's `speak_en` and `avoid_en` and each cue's `label_en` in the
personas pack, `message_en` in the quality rubric and in the forbidden-phrases pack (with its
`categories_en`), `why_en` in the strategies pack),
the
convention of the
wellbeing and scenario packs. The English page shows the English text; a stored reason is
matched back to the rule whose template wrote it, its numbers carried over. Text no rule of
the pack wrote (a pack edited since) stays as stored.

Lines the engine composes itself (persona evidence, a suggestion's why) are stored with their
parts as well (`anfu.types.Evidence`: a code and its values): the English page words each part.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from markupsafe import Markup

from ..rules import load_pack
from .labels import cause_name, emotion_name

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


def rubric_finding(message: str, locale: str, rules_dir: str | None = None) -> Markup | str:
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
    match = _RUBRIC_VIOLATION.fullmatch(message)  # a pre-send finding on an agent turn, quoted
    if match:
        stored = match.group("finding")
        finding = finding_text(stored, locale, rules_dir)
        if finding is not stored:
            return Markup("Agent reply {}: ").format(match.group("turn")) + finding
    return message


# --- persona evidence, suggestion reasons and pre-send findings (issue 13, "English complete") ---
STRATEGY_PACK = "strategies"
FORBIDDEN_PACK = "forbidden_phrases"


def _get(item: Any, key: str, default: Any = None) -> Any:
    """`item[key]` of a stored dict or `item.key` of a typed record."""
    if isinstance(item, dict):
        return item.get(key, default)
    return getattr(item, key, default)


def _params(item: Any) -> dict[str, Any]:
    params = _get(item, "params") or {}
    return dict(params) if not isinstance(params, dict) else params


def _user(text: Any) -> Markup:
    """The customer's or agent's own words inside an English line: user content, not chrome."""
    return Markup('<span data-user-content lang="zh-CN">{}</span>').format(str(text))


def _gettext(text: str | None, locale: str) -> str:
    from .i18n import translations

    return translations(locale).gettext(text) if text else ""


@lru_cache(maxsize=8)
def persona_labels(rules_dir: str | None = None) -> dict[str, str]:
    """Each personas-pack cue and feature label (zh-CN) -> its English (`label_en`)."""
    data = load_pack(PERSONA_PACK, rules_dir=rules_dir)
    table: dict[str, str] = {}
    for spec in (data.get("types") or {}).values():
        for entry in [*((spec or {}).get("cues") or []), *((spec or {}).get("features") or [])]:
            if isinstance(entry, dict) and entry.get("label") and entry.get("label_en"):
                table[str(entry["label"])] = str(entry["label_en"])
    return table


def _persona_line(item: Any, locale: str, rules_dir: str | None) -> Markup:
    """One persona evidence item (`anfu.types.Evidence`, stored as a dict) in English; an item
    whose code this module does not know shows its zh-CN text."""
    code, p = _get(item, "code"), _params(item)
    persona = _gettext(p.get("persona"), locale)
    if code == "persona.clue":
        label = persona_labels(rules_dir).get(str(p.get("label")), str(p.get("label")))
        if "repeats" in p:
            where = Markup(" (repeats turn {})").format(p["repeats"])
        elif "since" in p:
            where = Markup(" (compared with turn {})").format(p["since"])
        elif p.get("quote"):
            where = Markup(" “") + _user(p["quote"]) + Markup("”")
        else:
            where = Markup("")
        return Markup("Turn {}").format(p.get("turn")) + where + Markup(": {} ({})").format(label, persona)
    if code == "persona.thin_text":
        return Markup("Not enough evidence: the customer wrote only {} characters and gave no clue to "
                      "their personality").format(p.get("chars"))
    if code == "persona.rules":
        return Markup("Rules: {} (model probability {:.2f})").format(persona, float(p.get("probability") or 0))
    if code == "persona.unsure":
        return Markup("Not enough evidence: the most likely type, {}, has a probability of only {:.2f} "
                      "(below {:.2f}) and is hard to tell from {}").format(
            persona, float(p.get("probability") or 0), float(p.get("threshold") or 0),
            _gettext(p.get("runner_up"), locale))
    if code == "persona.uncorroborated":
        return Markup("Not enough evidence: the model leans to {} (probability {:.2f}), but the customer's "
                      "words show too few clear cues of that type (cue weight {:.1f}, {:.1f} needed)").format(
            persona, float(p.get("probability") or 0), float(p.get("support") or 0), float(p.get("needed") or 0))
    if code == "persona.untyped":
        return Markup("Not enough evidence: the customer's words show no clear personality type "
                      "(probability {:.2f} that they do, {:.2f} needed)").format(
            float(p.get("probability") or 0), float(p.get("needed") or 0))
    if code == "persona.strong_cues":
        return Markup("Rules: {} (cue weight {:.1f})").format(persona, float(p.get("support") or 0))
    if code == "persona.model":
        line = Markup("Model: {}, probability {:.2f}").format(persona, float(p.get("probability") or 0))
        words = list(p.get("words") or [])
        if words:
            line += Markup("; the customer's words ") + Markup(", ").join(
                Markup("“") + _user(w) + Markup("”") for w in words)
        return line
    return Markup("{}").format(_get(item, "text", ""))


def persona_evidence(persona: Any, locale: str, rules_dir: str | None = None) -> Markup:
    """The persona's evidence lines in `locale`, joined: the stored zh-CN lines on zh-CN pages,
    the evidence items worded in English on English pages (a result stored before the items
    existed shows its zh-CN lines)."""
    if not persona:
        return Markup("")
    items = _get(persona, "evidence_items") or []
    if locale == "zh_CN" or not items:
        return Markup("；" if locale == "zh_CN" else "; ").join(str(e) for e in _get(persona, "evidence") or [])
    return Markup("; ").join(_persona_line(item, locale, rules_dir) for item in items)


@lru_cache(maxsize=8)
def strategy_reasons(rules_dir: str | None = None) -> dict[str, str]:
    """Each strategies-pack `why` (zh-CN, of a script or a method rule) -> its `why_en`."""
    data = load_pack(STRATEGY_PACK, rules_dir=rules_dir)
    entries = [*(data.get("scripts") or []), *((data.get("settings") or {}).get("method_rules") or [])]
    return {str(e["why"]): str(e["why_en"]) for e in entries
            if isinstance(e, dict) and e.get("why") and e.get("why_en")}


def _fit_text(item: Any, locale: str, rules_dir: str | None) -> str:
    code, p = _get(item, "code"), _params(item)
    if code == "fit.stage":
        return f"the {_gettext(p.get('stage'), locale)} stage"
    if code == "fit.emotion":
        return f"{emotion_name(p.get('emotion'), locale).lower()} customer"
    if code == "fit.intensity":
        return f"intensity {p.get('intensity')}"
    if code == "fit.cause":
        return f"{cause_name(p.get('cause'), locale).lower()} issue"
    if code == "fit.abusive":
        return "abuse from the customer"
    if code == "fit.unreasonable_demand":
        return "a demand beyond policy"
    if code == "fit.persona":
        return f"{_gettext(p.get('persona'), locale).lower()} customer"
    if code == "fit.persona_method":
        return (f"{_gettext(p.get('method'), locale).lower()} suits a "
                f"{_gettext(p.get('persona'), locale).lower()} customer")
    if code == "fit.actions":
        actions = [sop_action(a, locale, rules_dir) for a in p.get("actions") or []]
        return ("the next steps (" if len(actions) > 1 else "the next step (") + ", ".join(actions) + ")"
    if code == "fit.method_rule":
        why = str(p.get("why") or _get(item, "text", ""))
        return strategy_reasons(rules_dir).get(why, why)
    return str(_get(item, "text", ""))


def _now_text(item: Any, locale: str) -> str:
    p = _params(item)
    emotion = emotion_name(p["emotion"], locale) if p.get("emotion") else "emotion unclear"
    if p.get("intensity") is not None:
        emotion += f", intensity {p['intensity']}"
    persona = _gettext(p["persona"], locale) if p.get("persona") else "customer type unclear"
    cause = f"; issue: {cause_name(p['cause'], locale)}" if p.get("cause") else ""
    return f"{_gettext(p.get('stage'), locale)} stage; {emotion}; {persona}{cause}"


def suggestion_why(suggestion: Any, locale: str, rules_dir: str | None = None) -> str:
    """Why a suggested reply fits, in `locale`: the stored zh-CN why on zh-CN pages; in English
    the script's `why_en`, its guidance method, what it fits and the situation, from the
    suggestion's `why_items`. A suggestion stored before the items existed shows its script's
    `why_en` alone (the rest of its why was zh-CN prose), or as stored when no script matches."""
    why = str(_get(suggestion, "why") or "")
    if locale == "zh_CN":
        return why
    reasons = strategy_reasons(rules_dir)
    items = list(_get(suggestion, "why_items") or [])
    if len(items) < 2 or _get(items[0], "code") != "strategy.why" or _get(items[-1], "code") != "strategy.now":
        head = why.split("（", 1)[0]
        return reasons.get(head, why)
    reason, *fits, now = items
    text = str(_get(reason, "text", ""))
    method = _params(reason).get("method") or _get(suggestion, "method")
    fitted = "; ".join(_fit_text(f, locale, rules_dir) for f in fits)
    return (f"{reasons.get(text, text)}. Method: {_gettext(method, locale)}. Fits: {fitted}. "
            f"Now: {_now_text(now, locale)}.")


# How anfu.qa.checker and anfu.components.presend word a pre-send finding (zh-CN), and the
# English of each; the quoted reply is the agent's own words.
_FINDING_QUOTED = re.compile(r"“(?P<quote>.*)”(?P<how>属于服务忌语|与常见忌语说法相近|疑似服务忌语)"
                             r"（(?P<name>[^（），]+)(?P<model>，模型判断)?）：(?P<message>.+)", re.DOTALL)
_FINDING_CONTEXT = re.compile(r"结合客户上一句来看，(?P<consider>建议斟酌，)?这条回复疑似(?P<name>[^（]+)"
                              r"（把握 (?P<p>\d+%)）：(?P<message>.+)", re.DOTALL)
_FINDING_ASKED = re.compile(r"结合客户上一句来看，客户刚刚已经提供了(?P<detail>[^，]+)，不要再次索要："
                            r"请直接据此查询并告诉客户结果（把握 (?P<p>\d+%)）。")
_FINDING_HAZARD = re.compile(r"结合前文来看，客户报告了安全隐患（(?P<hazard>[^）]+)），这条回复只有含糊的承诺：请给出明确的到场时间"
                             r"或处理人，并先告诉客户现在该怎么保证安全（把握 (?P<p>\d+%)）。")
_FINDING_HOW = {"属于服务忌语": "is a forbidden phrase", "与常见忌语说法相近": "is close to a common forbidden phrase",
                "疑似服务忌语": "looks like a forbidden phrase"}
# advice the code gives when the pack has no rule of a category (anfu.qa.checker, anfu.components.presend)
_CODE_ADVICE = {"请先致歉、共情，再给出具体的处理动作和时间。":
                "Apologise and show empathy first, then give a concrete action and a time.",
                "请先回应客户刚才说的话，再给出具体的处理动作和时间。":
                "First respond to what the customer has just said, then give a concrete action and a time."}
# the details anfu.qa.context.asked_again_for names
_DETAILS_EN = {"订单号": "the order number", "户号": "the customer account number", "地址": "the address",
               "型号": "the model", "手机号": "the phone number", "账号": "the account or card number",
               "购买时间": "the purchase date", "这些信息": "this information", "诉求": "what they need"}
_RUBRIC_VIOLATION = re.compile(r"第(?P<turn>\d+)轮坐席回复：(?P<finding>.+)", re.DOTALL)


@lru_cache(maxsize=8)
def forbidden_text(rules_dir: str | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """(category name zh-CN -> English from `categories_en`, rule message zh-CN -> `message_en`)
    of the forbidden-phrases pack."""
    data = load_pack(FORBIDDEN_PACK, rules_dir=rules_dir)
    names_en = data.get("categories_en") or {}
    names = {str(zh): str(names_en[key]) for key, zh in (data.get("categories") or {}).items() if key in names_en}
    messages = {str(r["message"]): str(r["message_en"]) for r in data.get("rules") or []
                if isinstance(r, dict) and r.get("message") and r.get("message_en")}
    messages.update(_CODE_ADVICE)
    return names, messages


def finding_text(message: Any, locale: str, rules_dir: str | None = None) -> Markup | str:
    """A stored pre-send finding ("“这是规定”属于服务忌语（搬出规定拒绝）：…") in `locale`: on
    English pages the pack's English (`categories_en`, `message_en`) in the same frame, the
    quoted reply marked as the agent's own words; as stored when the page is zh-CN or the
    message is not one the check writes (a pack edited since)."""
    if locale == "zh_CN" or not isinstance(message, str):
        return message
    names, messages = forbidden_text(rules_dir)
    match = _FINDING_QUOTED.fullmatch(message)
    if match and match.group("name") in names and match.group("message") in messages:
        how = _FINDING_HOW[match.group("how")]
        name = names[match.group("name")] + (", the model's judgement" if match.group("model") else "")
        return (Markup("“") + _user(match.group("quote")) + Markup("” {} ({}): {}").format(
            how, name, messages[match.group("message")]))
    match = _FINDING_CONTEXT.fullmatch(message)
    if match and match.group("name") in names and match.group("message") in messages:
        lead = "Given the customer's last message, consider rewording" if match.group("consider") \
            else "Given the customer's last message"
        return Markup("{}: this reply looks like {} (confidence {}): {}").format(
            lead, names[match.group("name")].lower(), match.group("p"), messages[match.group("message")])
    match = _FINDING_ASKED.fullmatch(message)
    if match and match.group("detail") in _DETAILS_EN:
        return Markup("Given the customer's last message: the customer has just given {}; do not ask for it "
                      "again. Look it up with what they gave and tell them the result (confidence {}).").format(
            _DETAILS_EN[match.group("detail")], match.group("p"))
    match = _FINDING_HAZARD.fullmatch(message)
    if match:
        return (Markup("Given the conversation: the customer reported a safety hazard (“") + _user(match.group("hazard"))
                + Markup("”) and this reply is only a vague promise. Give a definite arrival time or who will handle "
                         "it, and first tell the customer how to stay safe now (confidence {}).").format(match.group("p")))
    return message
