"""Probe B (session 16): the analyzer and the pre-send check under hostile and odd text, each
defect pinned by a test that failed before its fix.

Evasion
1. A zero-width or other invisible character (U+200B/200C/200D/FEFF/2060, soft hyphen) inside an
   escalation word hides the threat: "我就打1\u200b2345投\u200b诉" is no escalation risk.
2. The same inside a profanity ("傻\u200b逼", "s\u200bb") hides the abuse, though visible
   separators ("傻 逼") are tolerated.
3. The target-aware insults (垃圾, 骗子: "你们这群垃 圾客服") tolerate no separator at all, visible
   or not, although README says separators inside a word are tolerated.
4. Pre-send: an invisible character inside a forbidden phrase clears it ("您有完\u200b没完" passes)
   or turns a critical rule finding into a "major" model guess in another category.
Odd input
5. A draft of only invisible characters passes the blank check (AF004) and is then flagged as a
   生硬拒绝 (bare refusal) with a rewrite; a customer turn of only zero-width spaces is analysed.
6. A lone surrogate (valid JSON "\\ud800") reaches the analyzer and raises UnicodeEncodeError
   (no AF code) from the Python API.
Work
7. A turn of one repeated threat word ("投诉投诉…", 20,000 characters: under the limit) costs work
   quadratic in its length (about 78 s of CPU for one analyze call).
8. The pre-send check does quadratic work on a long draft without sentence ends.
Runs on SQLite only (the defects are in the text layer, not the store)."""

from __future__ import annotations

from typing import Any

import pytest

from anfu.types import Conversation, Utterance
from tests.security.probe import code_of

ZW = "\u200b"


@pytest.fixture(scope="module")
def api(sqlite_world: Any) -> Any:
    return sqlite_world.client("agent_a1")


def analyze(api: Any, text: str) -> dict[str, Any]:
    reply = api.post("/api/v1/analyze", json={"text": text})
    assert reply.status_code == 200, reply.text[:300]
    return reply.json()


def check(api: Any, text: str) -> Any:
    return api.post("/api/v1/check-reply", json={"text": text})


# -- 1. escalation words split by invisible characters ---------------------------------------------
@pytest.mark.parametrize("text", [
    "再不来修我就打1\u200b2345投\u200b诉！",
    "我要打市长\u2060热线",
    "我要去1\ufeff2315",
    "我要发微\u200d博曝\u200c光",
    "我要找律\u00ad师起\u00ad诉你们",
])
def test_an_invisible_character_inside_a_threat_word_still_raises_the_risk(api: Any, text: str) -> None:
    """Expected: a threat with a zero-width/soft-hyphen character inside the word is still an
    escalation risk (the same text without it is). Actual: escalation_risk false, no trigger."""
    plain = "".join(ch for ch in text if ch not in "\u200b\u200c\u200d\u2060\ufeff\u00ad")
    assert analyze(api, plain)["escalation_risk"] is True
    assert analyze(api, text)["escalation_risk"] is True



# -- 2, 3. abuse split by separators ----------------------------------------------------------------
@pytest.mark.parametrize("text", ["傻\u200b逼客服", "傻\u00ad逼客服"])
def test_an_invisible_character_inside_a_profanity_is_still_abuse(api: Any, text: str) -> None:
    """Expected: abusive true, as for "傻 逼客服" (a visible separator is tolerated). Actual: the
    zero-width space is no separator: abusive false, no abuse trigger."""
    assert analyze(api, "傻 逼客服")["abusive"] is True
    assert analyze(api, text)["abusive"] is True


@pytest.mark.parametrize("text", ["你们这群垃 圾客服", "你们这群垃·圾客服", "你们这群骗 子"])
def test_a_separator_inside_a_targeted_insult_is_still_abuse(api: Any, text: str) -> None:
    """Expected (README: "separators inside a word are tolerated"): "你们这群垃 圾客服" is abuse like
    "你们这群垃圾客服". Actual: abusive false: the target-aware terms are literal phrases."""
    assert analyze(api, "你们这群垃圾客服")["abusive"] is True
    assert analyze(api, text)["abusive"] is True


# -- 4. pre-send: invisible characters inside a forbidden phrase -------------------------------------
@pytest.mark.parametrize(("draft", "rule"), [
    ("您有完\u200b没完", "fp.impatience"),
    ("这个我们不\u200b管", "fp.buck_passing"),
    ("是您自己操\u200b作错了", "fp.blaming"),
    ("规定\ufeff就是规定", "fp.policy_wall"),
])
def test_an_invisible_character_does_not_clear_or_downgrade_a_forbidden_phrase(api: Any, draft: str,
                                                                               rule: str) -> None:
    """Expected: the draft is the same violation as without the U+200B/FEFF (the rule, its severity,
    the whole phrase). Actual: "您有完\u200b没完" passes (violation false); "这个我们不\u200b管" is only a
    "major" model guess of bare_refusal instead of the critical fp.buck_passing; "是您自己操\u200b作错了"
    is cut to "是您自己"."""
    reply = check(api, draft)
    assert reply.status_code == 200, reply.text[:300]
    found = reply.json()["findings"]
    assert reply.json()["violation"] is True
    hit = [f for f in found if f["rule_id"] == rule]
    assert hit, [f["rule_id"] for f in found]
    assert hit[0]["end"] - hit[0]["start"] >= len(draft) - 2, hit


# -- 5. invisible-only and emoji-only drafts ----------------------------------------------------------
@pytest.mark.parametrize("draft", ["\u200b\u200b", "\u00ad\u00ad\u00ad", "\u200b" * 50])
def test_a_draft_of_only_invisible_characters_is_a_blank_draft(api: Any, draft: str) -> None:
    """Expected: 422 AF004 (empty text), as for a draft of spaces. Actual: 200, violation true,
    model.bare_refusal "生硬拒绝" over the invisible characters and a rewrite to send instead."""
    assert code_of(check(api, "   ")) == "AF004"
    reply = check(api, draft)
    assert reply.status_code == 422 and code_of(reply) == "AF004", reply.text[:300]


def test_a_customer_turn_of_only_zero_width_spaces_is_refused(api: Any) -> None:
    """Expected: a customer message that shows nothing ("\u200b\u200b\u200b") is refused like an empty
    one (422 AF004) and not stored. Actual: 201, stored as an (invisible) customer turn."""
    reply = api.post("/api/v1/messages", json={"conversation_ref": "s16-invisible", "speaker": "customer",
                                               "text": "\u200b\u200b\u200b"})
    assert reply.status_code == 422, reply.text[:300]


@pytest.mark.parametrize("draft", ["🙏🙏", "👍👍"])
def test_a_thanks_emoji_draft_is_no_bare_refusal(api: Any, draft: str) -> None:
    """Expected: "🙏🙏" (thank you) / "👍👍" (OK) pass like "好的" and "收到". Actual: violation true,
    model.bare_refusal "疑似服务忌语（生硬拒绝，模型判断）" with a rewrite: the reply model scores a
    sentence with no known n-gram as a violation."""
    assert check(api, "好的").json()["violation"] is False
    body = check(api, draft).json()
    assert body["violation"] is False, body["findings"]


# -- 6. lone surrogates in the Python API --------------------------------------------------------------
def test_a_lone_surrogate_is_a_coded_input_error_in_the_python_api(analyzer: Any) -> None:
    """Expected: like `anfu analyze` (AF006 for a lone surrogate) and like empty text (InputError
    AF004), the Analyzer refuses text with a lone surrogate with a coded InputError. Actual: a bare
    UnicodeEncodeError from inside OpenCC (t2s); in `pipe` it takes the whole batch down."""
    from anfu.errors import InputError

    with pytest.raises(InputError) as caught:
        analyzer(Utterance(text="我要投诉\ud800你们"))
    assert "AF0" in str(caught.value)


# -- 7, 8. quadratic work on long turns -----------------------------------------------------------------
def test_a_run_of_one_threat_word_costs_linear_work(analyzer: Any, monkeypatch: Any) -> None:
    """Expected: one analyze call does work linear in the turn's length (a 20,000-character turn is
    accepted). Actual: "投诉" * 10,000 costs ~78 s of CPU (2,000 chars 0.8 s, 4,000: 3.2 s,
    8,000: 14.6 s): every mention re-scans the rest of the turn (EscalationRules._ends_resolved,
    clause_bounds) and the emotion component de-duplicates triggers with a list `in` (O(n^2)
    Trigger.__eq__). Counted here on 1,000 characters: characters re-scanned and __eq__ calls."""
    from anfu import types
    from anfu.components import risk

    scanned = {"chars": 0, "eq": 0}
    original = risk.EscalationRules._ends_resolved

    def counting(self: Any, norm: str, end: int) -> bool:
        scanned["chars"] += len(norm) - end
        return original(self, norm, end)

    eq = types.Trigger.__eq__

    def counting_eq(self: Any, other: Any) -> Any:
        scanned["eq"] += 1
        return eq(self, other)

    monkeypatch.setattr(risk.EscalationRules, "_ends_resolved", counting)
    monkeypatch.setattr(types.Trigger, "__eq__", counting_eq)
    text = "投诉" * 500
    result = analyzer(Utterance(text=text)).to_dict()
    assert result["escalation_risk"] is True
    assert scanned["chars"] <= 20 * len(text), scanned
    assert scanned["eq"] <= 20 * len(text), scanned


def test_the_presend_check_of_a_long_draft_costs_linear_work(monkeypatch: Any) -> None:
    """Expected: the exception test of each match reads its sentence once, linear work. Actual: a
    draft without sentence ends ("我不知道" * 500, 2,000 chars) has every match re-read the whole
    draft for every exception regex: 9,000,000 characters scanned (8,000 chars: 2.8 s CPU; 50,000
    chars through the Python API: 3.6 s)."""
    from anfu.qa import check_reply
    from anfu.qa import checker

    scanned = {"chars": 0}
    original = checker._spans

    def counting(rx: Any, text: str, offset: int = 0) -> Any:
        scanned["chars"] += len(text)
        return original(rx, text, offset)

    monkeypatch.setattr(checker, "_spans", counting)
    draft = "我不知道" * 500
    assert check_reply(draft).violation is True
    assert scanned["chars"] <= 50 * len(draft), scanned


# -- held: spans and determinism (informative passes) ----------------------------------------------------
SPAN_TEXTS = [
    "😡😡😡停电三天了还没人来修！！！再不来我就打12345投诉！",
    "停电三天了\r\n还没人来修\r\n再不来我就打12345投诉！\r\n你们这群垃圾客服",
    "停電三天了還沒人來修！！！再不來我就打１２３４５投訴！你們這群垃圾客服",
    "停电\u200b三天了还没人来修！！！再\u200d不来我就打12345投诉！你们这群垃圾客服🤬",
    "𠀀𠀁停电三天了，我要去12315投诉，你们他妈的，ﬁ㍿",
]


def test_trigger_spans_index_the_original_text(analyzer: Any) -> None:
    """Held: with astral emoji, CRLF, full-width, Traditional, zero-width and NFKC-expanding
    characters, every trigger's text is text[start:end] of the original."""
    for text in SPAN_TEXTS:
        triggers = analyzer(Utterance(text=text)).to_dict()["triggers"]
        assert triggers
        for t in triggers:
            assert text[t["start"]:t["end"]] == t["text"], (text, t)


def test_alone_batch_and_live_give_the_same_turns(analyzer: Any) -> None:
    """Held: a conversation analysed alone, in a batch (any size/order) and prefix by prefix (live)
    gives the same emotion, intensity, risk, abuse and violation per turn."""
    convs = [
        [("customer", "电费账单异常，要求核实！上个月莫名多扣了两百块"), ("agent", "您好，请问您的户号是多少？"),
         ("customer", "我都说了三遍了！你们到底查不查？"), ("agent", "这不是我们的责任"),
         ("customer", "再不处理我就打12345投诉！"), ("customer", "好吧，那我等你们电话。")],
        [("customer", "停電三天了還沒人來修！！！"), ("agent", "我不知道"), ("customer", "😡😡😡你们他妈的")],
    ]

    def key(t: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(t.get(k) for k in ("emotion", "intensity", "escalation_risk", "abusive", "violation"))

    alone = [[key(t) for t in analyzer(Conversation.from_texts(c)).to_dict()["turns"]] for c in convs]
    batch = [[key(t) for t in r.to_dict()["turns"]]
             for r in analyzer.pipe([Conversation.from_texts(c) for c in reversed(convs)], batch_size=64)]
    assert batch[::-1] == alone
    for c, whole in zip(convs, alone):
        live = [key(analyzer(Conversation.from_texts(c[:k + 1])).to_dict()["turns"][-1]) for k in range(len(c))]
        assert live == whole
