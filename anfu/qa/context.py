"""Judging an agent's reply against what the customer just said (pre-send check in context).

Phrase rules read the reply alone; real quality inspection (质检) judges it against the customer's
previous turn: did it answer the question, take ownership, give a concrete path or time, or is a
canned request repeated after the customer already answered it. `reply_context_features` turns a
reply and its conversation into named features; `ContextReplyModel` (weights learned by
`anfu train-presend`, numpy at run time) gives the probability that the reply is a violation and
its most likely category. The pre-send component uses it on agent turns that answer a customer.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from ..backends.ngram import char_ngrams
from ..errors import ModelError

CONTEXT_TURNS = 4  # how many turns before a reply the in-context check reads
DEFAULT_CONTEXT_WEIGHTS = Path(__file__).resolve().parents[1] / "backends" / "weights" / "reply_context.npz"

_QUESTION = re.compile(r"[？?]|吗[。！!]*$|怎么|为什么|什么时候|多久|能不能|可不可以|是否|哪里|如何|啥时候")
_REQUEST = re.compile(r"私信|提供|订单号|账号|帐号|手机号|号码|单号|截图|邮箱|地址|姓名|户号|机型|型号|详细描述|具体")
_DIGITS = re.compile(r"\d{5,}|[a-z0-9._-]+@[a-z0-9.-]+")
_CANNED = re.compile(r"(已经|已)(记录|反馈|转达|提交|上报|登记|转交|收到)|相关部门|耐心等待|敬请|请您耐心|请留意|会尽快|尽快(为您)?(处理|核实|回复)|后续(会|将)|不断(完善|改进|优化)|非常重视")
_ACTION = re.compile(r"(已经|已|现已)(为|帮|给|替)您|(为|帮|给)您(处理|办理|申请|安排|跟进|核实|查询|催促|加急|登记|补发|退)|专人|工程师|上门|(\d+|[一二两三四五六七八九十半])(个)?(分钟|小时|工作日|天)(内|之内|以内)")
_REFERRAL = re.compile(r"拨打|致电|营业厅|官网|热线|100[0-9]{2}|95[0-9]{3}|前往|网点|联系.{0,6}(客服|售后|商家|快递)")
_CONTENT = re.compile(r"[\u4e00-\u9fff]")

#: dense features, in order; the sparse part is char n-grams of the reply and of the customer turn
DENSE: tuple[str, ...] = (
    "rule_hits", "answers_customer", "first_reply", "customer_question", "customer_overlap",
    "repeats_earlier_reply", "asks_again", "canned", "action", "referral", "reply_chars",
    "customer_chars", "behaviour_hits",
)

#: the phrase rules for how a reply treats a complaint (issue 10: calling the problem normal or
#: unavoidable, making it small, sending the customer off to do it themselves, the price as an
#: excuse). Their findings are a feature of their own (`behaviour_hits`), apart from the other
#: rules' count (`rule_hits`): in written and standalone replies both mark violations, but the
#: other rules' findings in real helpdesk replies mostly do not (corpus/LABELS.md), and one shared
#: weight made real replies with any finding look worse (5-fold CV, MODEL_CARD.md).
BEHAVIOUR_RULES = frozenset({"fp.self_defence.normalising", "fp.belittling.minimising",
                             "fp.impatience.do_it_yourself", "fp.price_excuse.cheap_so"})


def rule_evidence(rule_ids: Iterable[str]) -> tuple[int, int]:
    """(findings of the other rules, findings of `BEHAVIOUR_RULES`) among a reply's rule findings."""
    ids = list(rule_ids)
    behaviour = sum(1 for r in ids if r in BEHAVIOUR_RULES)
    return len(ids) - behaviour, behaviour


# details a reply may ask for (name shown to the agent, regex in the reply and the customer's turn)
DETAILS: tuple[tuple[str, str], ...] = (
    ("订单号", r"订单号|订单编号|快递单号|运单号|单号"), ("户号", r"户号"), ("地址", r"地址"),
    ("型号", r"型号|机型"), ("手机号", r"手机号码|手机号|电话号码|联系电话"), ("账号", r"账号|帐号|会员卡号|卡号"),
    ("购买时间", r"购买时间|(?:买|购买)了?(?:多久|多长时间|什么时候)"),
)
#: what `asked_again_for` names when the reply asks the customer to repeat everything
REPEATED = "这些信息"
#: what it names when the reply asks what the customer needs right after they said it
STATED_NEED = "诉求"
# a reply that is only a greeting and "what can I do for you" ("您好，请问有什么可以帮您？",
# "亲，请问遇到了什么问题？")
_OPENER = re.compile(r"^(?:(?:亲爱的|亲|您好|你好|在的|hi|hello)[，,！!。~～\s]*)*(?:请问)?(?:(?:有什么|有啥)(?:可以|能|需要)"
                     r"(?:为您|帮您|帮到您|帮助您|帮你|为你)[^，。！？]{0,6}?|(?:您|你)?(?:遇到了?|有)(?:什么|啥)(?:问题|困难|疑问))"
                     r"(?:了|的|吗|呢)*[？?。！!~～\s]*$")
# a customer turn that says what is wrong in a few words ("东西坏了", "又停水", "电费一千多", "宽带还没装
# 第三次问了"): short, no account tags; a long Weibo rant at @accounts often names no request the
# agent could act on, and real 质检 let an opener answer it
_TERSE_NEED = re.compile(r"^[^@#]{2,30}$")
_GREETING_ONLY = re.compile(r"^(?:你好|您好|在吗|在不在|喂|hi|hello|客服|人工|转人工|有人吗)[？?。！!~～\s]*$")
_ASK_DETAIL = re.compile(r"(请|麻烦|劳烦|烦请)(您|你)?(再|重新)?(提供|告知|告诉|说|发|报|确认)(一下|下)?(您的?)?|"
                         r"请问(您的?)?.{0,6}(是|多少|哪|什么)|是多少|是什么|在哪")
_SAID = re.compile(r"(说|给|发|报|提供|告诉)(过|了)(你们|您)?了?|刚(才|刚)(说|发|给|报)|第[二三四五六七八九十0-9]+次")
# asking the customer to say or send it all again ("麻烦您再说一遍"), unless the agent says they need not
_REPEAT = re.compile(r"(再|重新)(说|讲|提供|发|报|告诉|描述)(一|1)?(遍|次|下)")
_NOT_AGAIN = re.compile(r"(不该|不用|不必|不需要|不要|免得|避免|不会)[^，。！？]{0,4}(再|重新)")
# a request for a detail (not a yes/no question), and one for a new value ("新地址是哪里？")
_ASK_WHAT = re.compile(r"(请|麻烦|劳烦|烦请)(您|你)?(再|重新)?(提供|告知|告诉|说|发|报|确认)|是多少|是什么|多久|多长时间|哪里|在哪|哪个")
_NEW_VALUE = re.compile(r"(新|正确|改成|改为|要改|修改后)(的)?(地址|手机号|号码|电话|型号|账号)")
# the customer's answer is that they do not know or have it: asking again is then no brush-off
_NOT_GIVEN = re.compile(r"不知道|不清楚|没有|忘了|忘记|找不到|不记得|什么意思|哪里看|在哪")


def asked_again_for(reply: str, customer: str, earlier_agent: str = "") -> str | None:
    """The detail (订单号, 户号, 地址…) that `reply` asks for although the customer's turn it answers
    has just given it ("订单号是608812345501" → "麻烦您提供一下订单号"), or says so ("第三次打了，地址说过了");
    or that the agent's previous reply (`earlier_agent`) already asked for and the customer has
    answered since ("您的机器是什么型号？买了多久？" → "x10 去年买的" → "请问您的扫地机是什么型号？");
    `REPEATED` when the customer says they have said it before and the reply asks them to say it all
    again ("前两次都说过了" → "麻烦您再说一遍"); `STATED_NEED` when the reply only asks what the
    customer needs right after they said it in a few words ("又停水" → "您好，请问有什么可以帮您？"). None otherwise, and when the customer's answer is
    that they do not know. 质检 marks this down as dismissing whatever the wording (corpus/LABELS.md)."""
    if not customer:
        return None
    if _ASK_DETAIL.search(reply):
        for name, rx in DETAILS:
            if not re.search(rx, reply):
                continue
            if re.search(f"(?:{rx})(?:是|为|:|：|\\s|号码)*[a-z0-9]{{4,}}", customer) or (
                    name == "地址" and re.search("地址(?:是|在|:|：)", customer)):
                return name
            if _SAID.search(customer) and re.search(f"{rx}|说过|给过", customer):
                return name
    if earlier_agent and _ASK_WHAT.search(reply) and not _NEW_VALUE.search(reply) and not _NOT_GIVEN.search(customer) \
            and _ASK_WHAT.search(earlier_agent):
        now = [name for name, rx in DETAILS if re.search(rx, reply)]
        if now and all(re.search(rx, earlier_agent) for name, rx in DETAILS if name in now):
            return now[0]
    if _SAID.search(customer) and _REPEAT.search(reply) and not _NOT_AGAIN.search(reply):
        return REPEATED
    said = customer.strip()
    if _OPENER.search(reply.strip()) and _TERSE_NEED.search(said) and not _GREETING_ONLY.search(said) \
            and len(_CONTENT.findall(said)) >= 2:
        return STATED_NEED
    return None


# A safety hazard or a life-critical dependency the customer reports (normalised text): gas, a live
# wire or a burning meter box, someone trapped in a lift, medical equipment at home. Their problem
# is urgent by nature (corpus/LABELS.md, `empty_promise`).
_HAZARD = re.compile(
    r"(燃气|煤气|天然气|液化气)(味|泄漏|泄露|漏了|漏气)|漏气|(闻到|有).{0,6}(煤气|燃气|天然气)味|"
    r"漏电|触电|电(线|缆)[^，。！？]{0,4}(掉|断|垂|落|着火|起火|冒火|冒烟|打火|烧)|"
    r"(电表|电箱|配电箱|插座|线路|变压器)[^，。！？]{0,4}(冒烟|着火|起火|冒火|打火|烧焦|爆)|"
    r"高压线|电梯[^，。！？]{0,4}(困|关)[^，。！？]{0,2}人|困在电梯|"
    r"制氧机|呼吸机|透析|心电监护|监护仪")
# a promise with no time, owner or step in it: "尽量给您安排", "您等电话就行", "请耐心等待", "会反映给…"
_VAGUE = re.compile(r"尽量|尽快|稍后|等(电话|通知|消息|回复|联系)|排队|(比较|很|太)忙|耐心等|回头|"
                    r"(会|将)(反映|反馈|转达|上报|安排|处理|联系|跟进)|后续|有消息")
# what makes a reply to a hazard concrete: a time, an action now, a safety instruction
_CONCRETE = re.compile(
    r"\d|[一二两三四五六七八九十半几]+(个)?(分钟|小时|点)|马上|立即|立刻|现在就|已经?(派|安排|通知|登记|联系|打)|"
    r"关(闭|掉|好|上)?[^，。！？]{0,4}(阀|闸|开关)|开窗|通风|拉(下)?[^，。！？]{0,3}闸|"
    r"(不要|别|先别|切勿|请勿)[^，。！？]{0,6}(开关|打开|使用|点火|明火|用火|碰|触|靠近|动)|远离|离开|撤离|"
    r"到(门外|楼道|室外|屋外)|119|120|110")


def hazard_in(customer_turns: Iterable[str]) -> str | None:
    """The first safety hazard or life-critical dependency ("煤气味", "电缆断", "制氧机") the customer
    reports in `customer_turns` (normalised), or None."""
    for text in customer_turns:
        found = _HAZARD.search(text)
        if found:
            return found.group(0)
    return None


def vague_to_hazard(reply: str, hazard: str | None) -> bool:
    """Whether `reply` (normalised) answers a customer who reported `hazard` with a vague promise
    alone ("今天师傅比较忙，尽量给您安排，您等电话就行。" after a smell of gas): no time, no action taken
    now, no safety instruction. 质检 marks that `empty_promise` (corpus/LABELS.md): a vague promise
    as the whole answer to an urgent problem."""
    return hazard is not None and _VAGUE.search(reply) is not None and _CONCRETE.search(reply) is None


def _bigrams(text: str) -> set[str]:
    chars = "".join(_CONTENT.findall(text))
    return {chars[i:i + 2] for i in range(len(chars) - 1)}


def _containment(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a) if a else 0.0


@dataclass(frozen=True)
class ReplyContext:
    """What a reply answers: the customer's previous turn, earlier turns of the conversation."""

    customer: str = ""                       # the customer turn the reply answers ("" when none)
    earlier_agent: tuple[str, ...] = ()      # the agent's earlier replies, oldest first
    earlier_customer: tuple[str, ...] = ()   # the customer's earlier turns, oldest first (incl. `customer`)


def context_before(turns: Sequence[tuple[str, str]], i: int) -> ReplyContext:
    """The context of agent turn `i` of [(speaker, normalised text)]: the customer turn it answers
    and the `CONTEXT_TURNS` turns before it (the same window in training and in the live check)."""
    before = turns[max(0, i - CONTEXT_TURNS):i]
    customer = next((t for s, t in reversed(before) if s == "customer"), "")
    return ReplyContext(customer=customer,
                        earlier_agent=tuple(t for s, t in before if s == "agent"),
                        earlier_customer=tuple(t for s, t in before if s == "customer"))


def dense_features(reply: str, ctx: ReplyContext, rule_hits: int, behaviour_hits: int = 0) -> list[float]:
    """The dense feature vector (`DENSE` order) of a normalised reply in its context; `rule_hits`
    and `behaviour_hits` as `rule_evidence` counts them."""
    reply_bi = _bigrams(reply)
    cust_bi = _bigrams(ctx.customer)
    repeats = max((_containment(reply_bi, _bigrams(a)) for a in ctx.earlier_agent), default=0.0)
    gave = any(_DIGITS.search(c) for c in ctx.earlier_customer)
    return [
        float(min(rule_hits, 3)),
        float(bool(ctx.customer)),
        float(not ctx.earlier_agent),
        float(bool(ctx.customer) and bool(_QUESTION.search(ctx.customer))),
        _containment(cust_bi, reply_bi),
        float(repeats >= 0.7),
        float(bool(_REQUEST.search(reply)) and gave),
        float(bool(_CANNED.search(reply))),
        float(bool(_ACTION.search(reply))),
        float(bool(_REFERRAL.search(reply))),
        math.log1p(len(reply)) / 5,
        math.log1p(len(ctx.customer)) / 5,
        float(min(behaviour_hits, 2)),
    ]


def sparse_terms(reply: str, ctx: ReplyContext) -> list[str]:
    """Char n-grams of the reply, and (prefixed) char 1–2-grams of the customer's turn."""
    terms = char_ngrams(reply, (1, 3))
    if ctx.customer:
        terms += ["c:" + g for g in char_ngrams(ctx.customer, (1, 2))]
    return terms


class ContextReplyModel:
    """Violation probability and category of a reply in context; picklable, numpy only."""

    def __init__(self, vocab: Sequence[str], idf: np.ndarray, coef: np.ndarray, dense_coef: np.ndarray,
                 intercept: float, dense_mean: np.ndarray, dense_scale: np.ndarray,
                 categories: Sequence[str], cat_coef: np.ndarray, cat_intercept: np.ndarray,
                 threshold: float, consider: float, meta: dict[str, Any]) -> None:
        self.vocab_ = list(vocab)
        self.index_ = {t: i for i, t in enumerate(self.vocab_)}
        self.idf_ = np.asarray(idf, dtype=np.float32)
        self.coef_ = np.asarray(coef, dtype=np.float32)
        self.dense_coef_ = np.asarray(dense_coef, dtype=np.float32)
        self.intercept_ = float(intercept)
        self.dense_mean_ = np.asarray(dense_mean, dtype=np.float32)
        self.dense_scale_ = np.asarray(dense_scale, dtype=np.float32)
        self.categories_ = list(categories)
        self.cat_coef_ = np.asarray(cat_coef, dtype=np.float32)
        self.cat_intercept_ = np.asarray(cat_intercept, dtype=np.float32)
        self.threshold_ = float(threshold)
        self.consider_ = float(consider)
        self.meta = meta

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> Path:
        path = Path(path)
        np.savez_compressed(path, vocab=np.array(self.vocab_, dtype=object), idf=self.idf_, coef=self.coef_,
                            dense_coef=self.dense_coef_, intercept=np.float32(self.intercept_),
                            dense_mean=self.dense_mean_, dense_scale=self.dense_scale_,
                            categories=np.array(self.categories_, dtype=object), cat_coef=self.cat_coef_,
                            cat_intercept=self.cat_intercept_, threshold=np.float32(self.threshold_),
                            consider=np.float32(self.consider_), dense=np.array(list(DENSE), dtype=object),
                            meta=np.array(json.dumps(self.meta, ensure_ascii=False)))
        return path if path.suffix == ".npz" else path.with_suffix(path.suffix + ".npz")

    @classmethod
    def load(cls, path: str | Path = DEFAULT_CONTEXT_WEIGHTS) -> "ContextReplyModel":
        try:
            with np.load(path, allow_pickle=True) as data:
                if tuple(data["dense"].tolist()) != DENSE:
                    raise ModelError("AF201", f"{path} (trained on other features; run `anfu train-presend`)")
                return cls(vocab=data["vocab"].tolist(), idf=data["idf"], coef=data["coef"],
                           dense_coef=data["dense_coef"], intercept=float(data["intercept"]),
                           dense_mean=data["dense_mean"], dense_scale=data["dense_scale"],
                           categories=data["categories"].tolist(), cat_coef=data["cat_coef"],
                           cat_intercept=data["cat_intercept"], threshold=float(data["threshold"]),
                           consider=float(data["consider"]), meta=json.loads(str(data["meta"])))
        except ModelError:
            raise
        except (OSError, KeyError, ValueError) as exc:
            raise ModelError("AF201", f"{path} ({type(exc).__name__}: {exc})") from None

    # ------------------------------------------------------------------ inference
    def _terms(self, reply: str, ctx: ReplyContext) -> tuple[np.ndarray, np.ndarray]:
        """(term columns, l2-normalised sublinear TF-IDF values) of one reply in context."""
        index = self.index_
        counts: dict[int, int] = {}
        for term in sparse_terms(reply, ctx):
            j = index.get(term)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        if not counts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        cols = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
        vals = (1.0 + np.log(tf)) * self.idf_[cols]
        return cols, vals / (np.sqrt(float(vals @ vals)) or 1.0)

    def predict(self, replies: Sequence[str], contexts: Sequence[ReplyContext],
                evidence: Sequence[tuple[int, int]]) -> list[tuple[float, str]]:
        """(violation probability, most likely category) for each normalised reply; `evidence` is
        `rule_evidence` of each reply's rule findings."""
        if not replies:
            return []
        dense = np.array([dense_features(r, c, *h) for r, c, h in zip(replies, contexts, evidence)],
                         dtype=np.float32).reshape(len(replies), len(DENSE))
        dense = (dense - self.dense_mean_) / self.dense_scale_
        out = []
        for reply, ctx, d in zip(replies, contexts, dense):
            cols, vals = self._terms(reply, ctx)
            logit = self.intercept_ + float(d @ self.dense_coef_) + float(vals @ self.coef_[cols])
            cat = self.cat_intercept_ + vals @ self.cat_coef_[cols]
            p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, logit))))
            out.append((p, self.categories_[int(np.argmax(cat))]))
        return out


@lru_cache(maxsize=4)
def load_context_cached(path: str | None = None) -> ContextReplyModel:
    return ContextReplyModel.load(path or DEFAULT_CONTEXT_WEIGHTS)
