"""Probe O (session 16): the pre-send check's advice and rewrite, read by a 班长 as an agent who
clicks 采用改写 and sends it to an upset customer. Each defect is pinned by a test that failed when
found. Fixed: 1 (a safety-first rewrite of the hazard's kind, `rewrites.yaml` hazards), 2, 4, 5 (the
rewrite keeps the draft's clauses no finding covers; a refusal keeps its reason and offers what
else can be done, `anfu.qa.rewrite`), 6 (impatience and blaming phrases stand in any context,
`presend.NEVER_EXCUSED`), 7 (the span), 3 (industry overrides of the cause templates, `rewrites.yaml`
industries, the conversation's industry carried to the rewrite).

1. A safety hazard (煤气味, a fallen live cable sparking): the rewrite has no safety instruction and
   a slack time ("今天之内给您确认处理方案" for a gas smell) — the very vague answer the hazard
   finding forbids.
2. A refusal the agent had to make (退货期已过, 年费不能退): the bare-refusal rewrite makes the tool
   promise "这个要求我先帮您申请" and "提交退款申请，24小时内" — an empty promise by the tool itself.
3. A banking customer gets another industry's template: "查询抢修进度" for a bank app that is down,
   "提交退款申请" for a wrong transfer.
4. The rewrite drops the facts the agent gave (order number, delivery time, amount, 到账时间).
5. The impatience bridge "我换个方式再说明一下" announces an explanation the rewrite never gives
   (the draft's explanation, 峰谷电价, is removed).
6. In context, a literal 服务忌语 followed by a few sentences of facts ("你听不懂吗？" + bill
   details, "你别再催了" after a delivery time) is no finding at all: the draft passes clean, while
   the same draft checked alone is a violation.
7. The span (and quoted words) of a "不知道" finding includes the punctuation around it.
Runs on SQLite only (the defects are in the check and its packs, not the store)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from anfu.qa import check_reply




@pytest.fixture(scope="module")
def api(sqlite_world: Any) -> Any:
    return sqlite_world.client("agent_a1")


def check(api: Any, draft: str, customer: str | None = None, industry: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"text": draft}
    if customer is not None:
        body["context"] = [{"speaker": "customer", "text": customer}]
    if industry is not None:
        body["industry"] = industry
    reply = api.post("/api/v1/check-reply", json=body)
    assert reply.status_code == 200, reply.text[:300]
    return reply.json()


# what a reply to a safety hazard must tell the customer to do now
SAFETY = re.compile(r"开窗|通风|远离|不要靠近|切勿靠近|关闭[^，。]{0,4}阀|关(掉|好)?[^，。]{0,4}(阀|闸)|撤离|"
                    r"明火|不要(开关|使用)|拉闸|注意安全|保证安全|确保安全|围挡|警戒")


# -- 1. hazard ---------------------------------------------------------------------------------
@pytest.mark.parametrize("customer,industry", [
    ("我家楼道里一股很浓的煤气味，怎么办？", "power"),
    ("我家门口的电线杆倒了，电缆断了掉在地上还冒火花！", "power"),
], ids=["gas-smell", "live-cable"])
def test_rewrite_to_a_safety_hazard_tells_the_customer_how_to_stay_safe(api: Any, customer: str,
                                                                         industry: str) -> None:
    """Expected: when the customer reports a hazard, the proposed rewrite says how to stay safe now
    (开窗通风/远离/关阀…) and gives an urgent step, as the hazard advice itself demands. Actual: the
    gas smell gets "我马上为您安排检测和换修，今天之内给您确认处理方案"; the sparking cable gets
    "我马上为您查询抢修进度，10分钟内给您回电" — no safety word at all."""
    result = check(api, "好的，我们会尽快处理的。", customer, industry)
    assert result["violation"] is True
    rewrite = result["rewrite"]
    assert rewrite and SAFETY.search(rewrite), rewrite
    assert "今天之内" not in rewrite, rewrite


# -- 2. the tool's own empty promise -----------------------------------------------------------
@pytest.mark.parametrize("draft,customer,industry", [
    ("不能退，已经过了七天无理由退货期了。", "这件衣服质量太差了，穿一次就起球，我要退货退款！", "ecommerce"),
    ("不行，信用卡年费是不能退的，这是规定。", "这个年费我根本不知道，必须给我退回来！", "banking"),
], ids=["return-window", "annual-fee"])
def test_refusal_rewrite_does_not_promise_what_the_agent_refused(api: Any, draft: str, customer: str,
                                                                 industry: str) -> None:
    """Expected: a refusal reworded politely (reason + what can be done), never a commitment the
    agent did not make. Actual: "这个要求我先帮您申请，同时为您准备其他方案，我马上为您提交退款申请，
    24小时内给您反馈进度" — the tool commits the centre to applying for the refund the rule forbids."""
    rewrite = check(api, draft, customer, industry)["rewrite"]
    assert rewrite
    assert "这个要求我先帮您申请" not in rewrite, rewrite
    assert "退款申请" not in rewrite, rewrite


# -- 3. another industry's template --------------------------------------------------------------
@pytest.mark.parametrize("draft,customer,wrong", [
    ("我也不清楚，你自己去营业厅问吧。", "你们APP一直断网登不上，我要转账急用，怎么回事？", "抢修"),
    ("您自己操作失误导致的转账错误，我们无法追回。", "我转账转错人了，5000块，你们帮我追回来！", "退款申请"),
], ids=["app-down", "wrong-transfer"])
def test_bank_customer_gets_a_banking_rewrite(api: Any, draft: str, customer: str, wrong: str) -> None:
    """Expected: for `industry: banking` the rewrite is about the bank's problem (the app, the
    transfer). Actual: "我马上为您查询抢修进度，10分钟内给您回电" (a power/telecom outage line) for a bank
    app, and "我马上为您提交退款申请" (an e-commerce refund) for a mistaken transfer."""
    rewrite = check(api, draft, customer, "banking")["rewrite"]
    assert rewrite
    assert wrong not in rewrite, rewrite


# -- 4. facts dropped ----------------------------------------------------------------------------
def test_rewrite_keeps_the_facts_the_agent_gave() -> None:
    """Expected: a rewrite of "您的订单JD20240501001已经发货，明天下午3点前送达，你别再催了。" keeps the
    order number and the delivery time and only removes "你别再催了". Actual: "非常抱歉给您带来不便，
    这件事由我负责跟进，可能是我刚才没有解释清楚，我换个方式再说明一下，我马上为您核实您反映的问题，
    30分钟内给您回复。" — the facts are gone and an invented 30-minute promise replaces them."""
    draft = "您的订单JD20240501001已经发货，明天下午3点前送达，你别再催了。"
    result = check_reply(draft)
    assert result.violation and result.rewrite
    assert "JD20240501001" in result.rewrite, result.rewrite
    assert "3点" in result.rewrite, result.rewrite
    refund = check_reply("退款已经处理了，58元三到五个工作日到账，你急什么？")
    assert refund.rewrite and "58元" in refund.rewrite, refund.rewrite


# -- 5. the bridge announces an explanation that never comes -------------------------------------
def test_impatience_rewrite_gives_the_explanation_it_announces(api: Any) -> None:
    """Expected: if the rewrite says "我换个方式再说明一下", an explanation follows (here: the bill
    is priced by 峰谷电价). Actual: "理解您的疑虑…可能是我刚才没有解释清楚，我换个方式再说明一下，
    我马上为您核实费用明细，30分钟内给您回电。" — announced, never given; the draft's reason is dropped."""
    result = check(api, "您这个电费是按峰谷电价算的，这都不懂吗？", "我这个月电费怎么多了120块？", "power")
    rewrite = result["rewrite"]
    assert rewrite
    assert "再说明一下" not in rewrite or "峰谷" in rewrite, rewrite


# -- 6. literal 服务忌语 cleared in context -----------------------------------------------------
@pytest.mark.parametrize("draft,customer,industry", [
    ("你听不懂吗？您的户号3302118765，本月电费258.6元，其中峰时电量320度。谷时电量180度。上月电费136元。",
     "我家这个月电费怎么这么多？", "power"),
    ("您的订单JD20240501001已经发货，明天下午3点前送达，你别再催了。", "订单JD20240501001怎么还没发货？我急用！",
     "ecommerce"),
], ids=["bill-details", "delivery-time"])
def test_a_literal_forbidden_phrase_is_not_cleared_by_the_context(api: Any, draft: str, customer: str,
                                                                  industry: str) -> None:
    """Expected: "你听不懂吗" / "你别再催了" (literal 不耐烦 phrases, flagged when the draft is checked
    alone) are still at least a finding when the customer's previous turn is known. Actual: the
    in-context check answers violation false with no finding at all: the agent sends it unwarned."""
    assert check_reply(draft).violation is True
    result = check(api, draft, customer, industry)
    spans = [draft[f["start"]:f["end"]] for f in result["findings"]]
    assert result["violation"] is True or any("不懂" in s or "催" in s for s in spans), result


# -- 7. span --------------------------------------------------------------------------------------
def test_ignorance_finding_span_is_the_words_not_the_punctuation() -> None:
    """Expected: in "不知道，不归我管。" the 推说不知道 finding covers "不知道" (0-3) and quotes
    “不知道”. Actual: it covers "不知道，" (0-4) and the message quotes “不知道，”."""
    draft = "不知道，不归我管。"
    found = [f for f in check_reply(draft).findings if f.category == "ignorance"]
    assert found
    assert draft[found[0].start:found[0].end] == "不知道", draft[found[0].start:found[0].end]
    assert found[0].message.startswith("“不知道”"), found[0].message


# -- what held ------------------------------------------------------------------------------------
@pytest.mark.parametrize("draft,customer,industry", [
    ("这是我们公司的规定，我也没办法。", "你们银行凭什么扣我200元年费？我从来没开通过！", "banking"),
    ("不知道，不归我管，你爱找谁找谁，烦不烦啊，说了三遍了。", "我的包裹显示签收了但我根本没收到！", "logistics"),
    ("這是我們公司的規定，我也沒辦法。", "你們憑什麼扣我200元年費？我從來沒開通過！", "banking"),
    ("👍", "你们到底管不管？停电一天了！", "power"),
], ids=["two-rules", "five-findings", "traditional", "emoji-only"])
def test_held_rewrite_passes_the_check_and_has_no_placeholder(api: Any, draft: str, customer: str,
                                                             industry: str) -> None:
    """Held: every rewrite seen (several violations, Traditional characters, an emoji-only draft)
    passes the check itself and carries no unfilled placeholder ({…}, 【】, XX)."""
    result = check(api, draft, customer, industry)
    rewrite = result["rewrite"]
    assert result["violation"] is True and rewrite
    assert not re.search(r"[{}【】]|XX|xx", rewrite), rewrite
    assert check_reply(rewrite).violation is False, rewrite
