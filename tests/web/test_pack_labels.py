"""Labels from the rule packs in English: every escalation rule has its `reason_en`, every
level its `levels_en`, and a reason the analyzer stored in zh-CN comes back in English with
its numbers."""

from __future__ import annotations

import html
import re
import string
from typing import Any

import yaml
from markupsafe import escape

from anfu.rules import RULES_ROOT, load_pack
from anfu.types import Conversation, Utterance
from anfu.web.pack_labels import (
    finding_text,
    ladder_label,
    pack_problems,
    persona_evidence,
    playbook_item,
    reason_text,
    rubric_finding,
    sop_action,
    suggestion_why,
    template_pattern,
)

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff01-\uff5e]")
FACTS = {"intensity": 4, "peak": 4, "strong_turns": 3, "risk_turns": 2, "abusive_turns": 2, "contacts": 3,
         "wait_minutes": 35, "stated_wait_hours": 72, "agent_violations": 2, "answered_violations": 3,
         "manager_requests": 1}


def test_the_shipped_ladder_has_english_for_every_level_and_reason() -> None:
    data = load_pack("escalation_ladder")
    assert pack_problems(data) == []
    for rule in data["rules"]:
        zh = rule["reason"].format(**FACTS)
        en = reason_text(zh, "en")
        assert en == rule["reason_en"].format(**FACTS), rule["id"]
        assert not CJK.search(en), en
        assert reason_text(zh, "zh_CN") == zh
    assert [ladder_label(level, None, "en") for level in range(4)] == [
        "Agent handles it", "Team lead notified", "Team lead joins or takes over", "Complaint desk or duty manager"]
    assert ladder_label(2, "班长介入或接管", "zh_CN") == "班长介入或接管"


def test_reasons_the_analyzer_stores_come_back_in_english(analyzer: Any) -> None:
    turns = [Utterance("我们小区停电都三天了！！！报了两次修都没人来，你们到底管不管？", "customer"),
             Utterance("这是规定，您再等等吧。", "agent"),
             Utterance("排队排三天？今天再不来人我就打12345投诉，还要发抖音让大家看看你们的服务！", "customer"),
             Utterance("请您耐心等待。", "agent"),
             Utterance("你们这帮废物！我已经打了第三次电话了，我要投诉到市长热线！", "customer")]
    assessment = analyzer(Conversation(turns, id="c-ladder", channel="webchat", industry="power"))
    escalation = assessment.to_dict()["escalation"]
    assert escalation["level"] >= 1 and escalation["reasons"]
    persona = assessment.to_dict()["persona"]
    playbook = persona["playbook"]
    for item in [*playbook["speak"], *playbook["avoid"]]:
        assert not CJK.search(playbook_item(item, "en")), item
    rubric = [f for f in assessment.to_dict()["quality_findings"] if f["rule_id"] != "quality.forbidden_phrase"]
    assert rubric  # no greeting, no commitment: the rubric has findings
    for finding in rubric:
        english = rubric_finding(finding["message"], "en")
        assert not CJK.search(english), (finding["message"], english)
        assert rubric_finding(finding["message"], "zh_CN") == finding["message"]
    actions = assessment.to_dict()["next_actions"]
    assert actions and all(not CJK.search(sop_action(a, "en")) for a in actions), actions
    assert [sop_action(a, "zh_CN") for a in actions] == actions
    for reason in escalation["reasons"]:
        assert CJK.search(reason)  # stored as the pack wrote it
        english = reason_text(reason, "en")
        assert not CJK.search(english), (reason, english)
    assert not CJK.search(ladder_label(escalation["level"], escalation["label"], "en"))


def test_text_no_rule_wrote_stays_as_stored() -> None:
    assert reason_text("班长手工备注：客户情绪已平复", "en") == "班长手工备注：客户情绪已平复"
    assert ladder_label(None, "通知班长", "en") == "通知班长"


def test_placeholders_become_groups_and_repeat_as_backreferences() -> None:
    pattern = template_pattern("客户已{contacts}次联系（第{contacts}次）")
    assert pattern.fullmatch("客户已3次联系（第3次）").group("contacts") == "3"
    assert pattern.fullmatch("客户已3次联系（第4次）") is None


def test_a_pack_without_english_is_reported(tmp_path: Any) -> None:
    data = yaml.safe_load((RULES_ROOT / "zh_CN" / "escalation_ladder.yaml").read_text(encoding="utf-8"))
    data["rules"][0].pop("reason_en")
    data["rules"][1]["reason_en"] = "The customer is agitated"  # drops {intensity}
    data.pop("levels_en")
    problems = pack_problems(data)
    assert any("levels_en" in p for p in problems)
    assert any(data["rules"][0]["id"] in p and "reason_en must be" in p for p in problems)
    fields = sorted(name for _, name, _, _ in string.Formatter().parse(data["rules"][1]["reason"]) if name)
    assert any(data["rules"][1]["id"] in p and ", ".join(fields) in p for p in problems)


def test_every_sop_action_has_an_english_name() -> None:
    data = load_pack("sop")
    assert set(data["actions_en"]) == set(data["actions"])
    assert sop_action("道歉", "en") == "Apologise"
    assert sop_action("班长自定义动作", "en") == "班长自定义动作"  # not in the pack: as stored


def test_every_playbook_item_has_its_english() -> None:
    data = load_pack("personas")
    books = [data["default_playbook"]] + [t["playbook"] for t in data["types"].values()]
    for book in books:
        for key in ("speak", "avoid"):
            assert len(book[key]) == len(book[f"{key}_en"]), book
            for zh, en in zip(book[key], book[f"{key}_en"]):
                assert playbook_item(zh, "en") == en and not CJK.search(en)
                assert playbook_item(zh, "zh_CN") == zh


def test_every_rubric_message_has_its_english() -> None:
    data = load_pack("quality_rubric")
    for entry in [*data["items"], data["violations"]]:
        assert entry["message_en"] and not CJK.search(entry["message_en"]), entry["id"]
    whole = "整通对话（提供方案）：" + data["items"][3]["message"]
    assert rubric_finding(whole, "en") == f"Whole conversation (Propose): {data['items'][3]['message_en']}"
    quoted = "第3轮坐席回复：“不行”属于服务忌语（生硬拒绝）"  # a pre-send finding, not a rubric message
    assert rubric_finding(quoted, "en") == quoted


# --- persona evidence, suggestion reasons, pre-send findings (issue 13, "English complete") ---
USER_CONTENT = re.compile(r'<span data-user-content lang="zh-CN">[^<]*</span>')


def chrome(html: Any) -> str:
    """What a page shows of a line outside the user's own words (spans marked data-user-content)."""
    return USER_CONTENT.sub("", str(html))


def test_every_strategy_reason_and_forbidden_phrase_has_its_english() -> None:
    strategies = load_pack("strategies")
    for entry in [*strategies["scripts"], *strategies["settings"]["method_rules"]]:
        assert entry["why_en"].strip() and not CJK.search(entry["why_en"]), entry.get("id", entry["why"])
    forbidden = load_pack("forbidden_phrases")
    for rule in forbidden["rules"]:
        assert rule["message_en"].strip() and not CJK.search(rule["message_en"]), rule["id"]
    assert set(forbidden["categories_en"]) == set(forbidden["categories"])
    assert not any(CJK.search(v) for v in forbidden["categories_en"].values())
    personas = load_pack("personas")
    for spec in personas["types"].values():
        for entry in [*spec.get("cues", []), *spec.get("features", [])]:
            assert entry["label_en"].strip() and not CJK.search(entry["label_en"]), entry["label"]


def test_a_forbidden_phrase_without_english_is_reported() -> None:
    import copy

    from anfu.qa.packs import validate_forbidden_phrases

    data = copy.deepcopy(load_pack("forbidden_phrases"))
    assert validate_forbidden_phrases(data) == []
    del data["rules"][0]["message_en"]
    data["rules"][1]["message_en"] = "拿价格为质量开脱"
    del data["categories_en"]["impatience"]
    problems = validate_forbidden_phrases(data)
    assert any("'fp.flat_denial'.message_en must give the English" in p for p in problems), problems
    assert any("'fp.price_excuse'.message_en must be English" in p for p in problems), problems
    assert any(p.startswith("categories_en:") for p in problems), problems


def test_findings_come_back_in_english_with_the_agents_words_marked() -> None:
    from anfu.qa import check_reply

    text = "这是我们公司的规定，不行就是不行。您听我说完，是您自己操作错了。"
    findings = check_reply(text).findings
    assert len(findings) >= 2
    for finding in findings:
        english = finding_text(finding.message, "en")
        assert not CJK.search(chrome(english)), english
        assert chrome(english).startswith("“”"), english  # the quote is the agent's words, marked
        assert finding_text(finding.message, "zh_CN") == finding.message
    policy = next(f for f in findings if f.rule_id == "fp.policy_wall")
    rule = next(r for r in load_pack("forbidden_phrases")["rules"] if r["id"] == "fp.policy_wall")
    assert str(finding_text(policy.message, "en")) == (
        '“<span data-user-content lang="zh-CN">这是我们公司的规定</span>” is a forbidden phrase '
        f"(Hiding behind policy): {escape(rule['message_en'])}")
    quoted = f"第2轮坐席回复：{policy.message}"  # the rubric's finding quoting it
    assert str(rubric_finding(quoted, "en")).startswith('Agent reply 2: “<span data-user-content')
    # the context model's wordings and the "asked again" rule
    consider = f"结合客户上一句来看，建议斟酌，这条回复疑似搬出规定拒绝（把握 62%）：{rule['message']}"
    assert html.unescape(chrome(finding_text(consider, "en"))) == (
        "Given the customer's last message, consider rewording: this reply looks like hiding behind policy "
        f"(confidence 62%): {rule['message_en']}")
    asked = "结合客户上一句来看，客户刚刚已经提供了订单号，不要再次索要：请直接据此查询并告诉客户结果（把握 91%）。"
    assert "the order number" in str(finding_text(asked, "en")) and not CJK.search(str(finding_text(asked, "en")))
    from anfu.qa.context import DETAILS, REPEATED

    for detail in [name for name, _ in DETAILS] + [REPEATED]:  # every detail the rule can name has its English
        text = str(finding_text(asked.replace("订单号", detail), "en"))
        assert not CJK.search(text), text
    # the vague-promise-to-a-hazard rule: the customer's words quoted and marked
    hazard = ("结合前文来看，客户报告了安全隐患（闻到煤气味），这条回复只有含糊的承诺：请给出明确的到场时间或处理人，"
              "并先告诉客户现在该怎么保证安全（把握 54%）。")
    english = finding_text(hazard, "en")
    assert not CJK.search(chrome(english)) and "safety hazard" in str(english) and "54%" in str(english), english
    assert '<span data-user-content lang="zh-CN">闻到煤气味</span>' in str(english)
    assert finding_text("坐席自定义的提示", "en") == "坐席自定义的提示"  # not the check's wording: as stored


def test_persona_evidence_and_suggestion_reasons_come_back_in_english(analyzer: Any) -> None:
    turns = [Utterance("这个月电费怎么五百多？依据是什么？给我书面答复，我核对过每一笔！", "customer"),
             Utterance("这是我们公司的规定，我也不清楚。", "agent"),
             Utterance("你们这帮废物！再不处理我就打12345投诉，还要发抖音曝光你们！", "customer"),
             Utterance("您先别急，您听我说完，是您自己看错了。", "agent"),
             Utterance("依据是什么？明细给我！", "customer")]
    data = analyzer(Conversation(turns, id="c-english", channel="webchat", industry="power")).to_dict()
    persona = data["persona"]
    assert persona["evidence_items"] and [i["text"] for i in persona["evidence_items"]] == persona["evidence"]
    english = persona_evidence(persona, "en")
    assert not CJK.search(chrome(english)), english
    assert "Turn 3 “" in str(english) and "(Combative)" in str(english)
    assert str(persona_evidence(persona, "zh_CN")) == "；".join(persona["evidence"])
    assert data["suggestions"]
    for suggestion in data["suggestions"]:
        why = suggestion_why(suggestion, "en")
        assert not CJK.search(why), why
        head = next(s["why_en"] for s in load_pack("strategies")["scripts"]
                    if suggestion["why"].startswith(s["why"] + "（"))
        assert why.startswith(head + ". Method: ") and "Now: Confirm stage" in why, why
        assert suggestion_why(suggestion, "zh_CN") == suggestion["why"]
        # a suggestion stored before the items existed: its script's English alone
        assert suggestion_why({"why": suggestion["why"], "method": suggestion["method"]}, "en") == head
    for turn in data["turns"]:
        for finding in turn.get("findings") or []:
            assert not CJK.search(chrome(finding_text(finding["message"], "en"))), finding["message"]
    quoted = [f for f in data["quality_findings"] if f["rule_id"] == "quality.forbidden_phrase"]
    assert quoted
    for finding in quoted:
        assert not CJK.search(chrome(rubric_finding(finding["message"], "en"))), finding["message"]


def test_an_untyped_persona_comes_back_in_english(analyzer: Any) -> None:
    turns = [Utterance("这么高的费用你能给我说出道理来？上个月才八十，这个月一百九十五，流量明明还剩一百多兆", "customer")]
    persona = analyzer(Conversation(turns, id="c-untyped")).to_dict()["persona"]
    assert persona["type"] == "unknown" and persona["evidence_items"][0]["code"] == "persona.untyped"
    english = str(persona_evidence(persona, "en"))
    assert english.startswith("Not enough evidence: the customer's words show no clear personality type")
    assert "0.80 needed" in english
    assert not CJK.search(chrome(english)), english


def test_every_persona_evidence_code_has_its_english(analyzer: Any) -> None:
    """The gate's two answers, and the corroboration rule's (weights without a gate), in English."""
    from anfu.components.persona import LearnedPersona

    doc = analyzer(Conversation([Utterance("我在你们这儿是十几年的VIP了，你们行长我都认识，这点小事还要我报卡号？",
                                           "customer")], id="c-strong"))
    strong = LearnedPersona(min_typed=1.0).infer(doc.turns).to_dict()
    assert strong["evidence_items"][0]["code"] == "persona.strong_cues"
    assert str(persona_evidence(strong, "en")).startswith("Rules: ")
    plain = analyzer(Conversation(turns=[Utterance("这么高的费用你能给我说出道理来？上个月才八十，这个月一百九十五", "customer")],
                                  id="c-plain")).turns
    ungated = LearnedPersona(gate="none", corroboration=3.0, confident_probability=0.999).infer(plain).to_dict()
    assert ungated["evidence_items"][0]["code"] == "persona.uncorroborated"
    english = str(persona_evidence(ungated, "en"))
    assert english.startswith("Not enough evidence: the model leans to ") and "3.0 needed" in english
    for item in (strong, ungated):
        assert not CJK.search(chrome(str(persona_evidence(item, "en"))))
