"""The case library (案例分析): a closed conversation turned into an anonymised case with its
emotional trajectory, what worked and what hurt.

Anonymising: every piece of personal information `anfu.pii` recognises (手机号, 身份证号, 银行卡号,
e-mail, addresses) is replaced by a placeholder such as `[手机号]`; known names (the customer's,
the agents') become [客户] / [坐席]; self-introductions (我叫张伟, 我是欧阳娜娜, 我姓王), forms of address
with or without the given name (王先生, 王建国先生, 欧阳娜娜女士) and named relatives (户主陈志强) lose
the name; staff numbers (工号1234) lose the number.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping, Sequence

from ..pii import find_pii

PLACEHOLDER = {"id_card": "[身份证号]", "bank_card": "[银行卡号]", "phone": "[手机号]", "email": "[邮箱]",
               "address": "[地址]"}
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
            "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "令狐", "慕容", "夏侯", "尉迟", "公孙", "长孙",
                     "宇文", "司徒", "独孤", "西门", "南宫", "端木", "轩辕", "百里")
_SURNAME_RX = f"(?:{'|'.join(COMPOUND_SURNAMES)}|[{SURNAMES}])"
# a name given: after 我叫/我姓 any word; after 我是/本人/联系人 a surname first ("我是他爱人" names no one)
_SELF_INTRO = re.compile(f"(我(?:叫|姓)|本人(?:叫|姓)|联系人叫)([\\u4e00-\\u9fa5]{{1,4}})(?=[，。！？、\\s,.!?]|先生|女士|$)|"
                         f"(我是|本人是?|联系人是?)({_SURNAME_RX}[\\u4e00-\\u9fa5]{{0,3}})(?=[，。！？、\\s,.!?]|先生|女士|$)")
# a surname with or without the given name before a form of address (王先生, 王建国先生, 欧阳娜娜女士)
_ADDRESS_FORM = re.compile(f"{_SURNAME_RX}[\u4e00-\u9fa5]{{0,2}}?(?=(?:先生|女士|小姐|师傅|阿姨|大爷|经理|主任|老师))")
# a family member or the account holder named (户主陈志强, 我爱人王建国, 老伴叫李秀英)
_RELATIVE = re.compile(f"(户主|爱人|丈夫|妻子|老公|老婆|儿子|女儿|父亲|母亲|老伴|家属)(是|叫|名叫)?({_SURNAME_RX}"
                       f"[\u4e00-\u9fa5]{{1,2}})(?=[，。！？、\s,.!?的在说]|$)")
_SURNAME = re.compile(r"(?<![贵您])姓(?!名)[\u4e00-\u9fa5]")
_STAFF_NO = re.compile(r"(工号|编号|坐席号)\s*[:：]?\s*[0-9A-Za-z]{2,}")


def anonymise(text: str, names: Mapping[str, str] | None = None) -> str:
    """`text` without personal information and names (see the module docstring)."""
    spans = sorted(find_pii(text), key=lambda s: s.start)
    out, pos = [], 0
    for span in spans:
        out.append(text[pos:span.start])
        out.append(PLACEHOLDER.get(span.kind, "[个人信息]"))
        pos = span.end
    out.append(text[pos:])
    result = "".join(out)
    for name, role in sorted((names or {}).items(), key=lambda kv: -len(kv[0])):
        if name and len(name) >= 2:
            result = result.replace(name, role)
    result = _SELF_INTRO.sub(lambda m: (m.group(1) or m.group(3)) + "某某", result)
    result = _RELATIVE.sub(lambda m: m.group(1) + (m.group(2) or "") + "某某", result)
    result = _ADDRESS_FORM.sub("某", result)
    result = _SURNAME.sub("姓某", result)
    result = _STAFF_NO.sub(lambda m: m.group(1) + "****", result)
    return result


def names_in(texts: Iterable[str]) -> set[str]:
    """Full names the texts give away (我叫欧阳娜娜, 王建国先生, 户主陈志强): each is then replaced
    wherever it stands in the conversation ("我不是王建国，王建国是我爱人")."""
    found: set[str] = set()
    for text in texts:
        for m in _SELF_INTRO.finditer(text):
            found.add(m.group(2) or m.group(4))
        found.update(m.group(3) for m in _RELATIVE.finditer(text))
        found.update(m.group(0) for m in _ADDRESS_FORM.finditer(text))
    return {name for name in found if len(name) >= 2}


def build_case(turns: Sequence[Mapping[str, Any]], analysis: Mapping[str, Any], *,
               names: Mapping[str, str] | None = None, industry: str | None = None) -> dict[str, Any]:
    """The case data of a conversation.

    `turns`: the messages in order (`speaker`, `text`); `analysis`: the analyzer's `to_dict()` of
    the whole conversation (per-turn emotion, intensity and pre-send findings; persona, cause,
    trajectory, calmed, quality score). What worked: agent replies after which the customer's
    intensity fell; what hurt: replies with a forbidden phrase or after which it rose."""
    analysed = list(analysis.get("turns") or [])
    names = {**{name: "某某" for name in names_in(str(t["text"]) for t in turns)}, **(names or {})}
    out_turns: list[dict[str, Any]] = []
    for i, turn in enumerate(turns):
        info = analysed[i] if i < len(analysed) else {}
        row: dict[str, Any] = {"speaker": turn["speaker"], "text": anonymise(str(turn["text"]), names)}
        if turn["speaker"] == "customer":
            row["emotion"], row["intensity"] = info.get("emotion"), info.get("intensity")
        else:
            row["violation"] = bool(info.get("violation"))
            row["findings"] = [f.get("message") for f in info.get("findings") or []]
        out_turns.append(row)
    worked: list[dict[str, Any]] = []
    hurt: list[dict[str, Any]] = []
    last_customer: int | None = None
    for i, row in enumerate(out_turns):
        if row["speaker"] == "customer":
            last_customer = row.get("intensity")
            continue
        after = next((r.get("intensity") for r in out_turns[i + 1:] if r["speaker"] == "customer"), None)
        change = None if last_customer is None or after is None else after - last_customer
        item = {"turn": i + 1, "text": row["text"], "change": change}
        if row.get("violation") or (change is not None and change > 0):
            hurt.append({**item, "why": row.get("findings") or []})
        elif change is not None and change < 0:
            worked.append(item)
    persona = analysis.get("persona") or {}
    cause = analysis.get("cause") or next((t.get("cause") for t in analysed if t.get("cause")), None)
    return {
        "industry": industry, "cause": cause,
        "persona": persona.get("type") if isinstance(persona, dict) else None,
        "turns": out_turns,
        "trajectory": [r.get("intensity") for r in out_turns if r["speaker"] == "customer"],
        "summary": analysis.get("trajectory"), "calmed": analysis.get("calmed"),
        "quality_score": analysis.get("quality_score"), "outcome": analysis.get("outcome"),
        "what_worked": worked, "what_hurt": hurt,
    }


def case_title(data: Mapping[str, Any], fallback: str = "案例") -> str:
    first = next((t["text"] for t in data.get("turns") or [] if t["speaker"] == "customer"), "")
    return (first[:40] + ("…" if len(first) > 40 else "")) or fallback


def name_map(customer_names: Iterable[str], agent_names: Iterable[str]) -> dict[str, str]:
    out = {n: "[客户]" for n in customer_names if n}
    out.update({n: "[坐席]" for n in agent_names if n})
    return out
