"""Labels from the rule packs in English: every escalation rule has its `reason_en`, every
level its `levels_en`, and a reason the analyzer stored in zh-CN comes back in English with
its numbers."""

from __future__ import annotations

import re
import string
from typing import Any

import yaml

from anfu.rules import RULES_ROOT, load_pack
from anfu.types import Conversation, Utterance
from anfu.web.pack_labels import (
    ladder_label,
    pack_problems,
    playbook_item,
    reason_text,
    rubric_finding,
    sop_action,
    template_pattern,
)

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff01-\uff5e]")
FACTS = {"intensity": 4, "peak": 4, "strong_turns": 3, "risk_turns": 2, "abusive_turns": 2, "contacts": 3,
         "wait_minutes": 35, "stated_wait_hours": 72, "agent_violations": 2, "manager_requests": 1}


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
