"""Escalation risk (升级风险): does a customer turn threaten to take the matter beyond the agent?

Mentions of channels (投诉, 12345, 曝光, 律师, 差评, 找你们领导…) come from the `escalation`
rule pack. A mention counts as a threat unless it is negated ("我不是要投诉"), past and
resolved ("上次投诉的事已经解决了"), told as part of the story ("投诉后无人上门", "经多渠道投诉后")
or a neutral question about a channel in a calm turn ("已经解决了，谢谢。投诉渠道在哪里？").
On real Weibo text a complaint already made to the company is history ("投诉客服却告诉我…",
"我都投诉了一周了", the pack's `narrative.acts`), posting words count only with intent
("明天就发微博" yes, "我还发微博抱怨？" no: `intent_only`, verdict `descriptive`), and a tag
(@account, #topic#, 【tag】) is addressed now, never narrated.
The pack's `frames` read the grammar around a mention before any intent word counts: habitual
or generic talk ("每次都要靠投诉才能解决吗": `generic`), someone else speaking or acting ("客服说
不满意可以去12315投诉": `reported`), a regulator named as a topic or a source rather than the goal
of an appeal ("工信部早就规定了", "去工信部网站问问标准": `topic`). A tag on a report about a
third-party crime ("收到冒充银行的诈骗短信 @南京晨报") is `third_party`. Two frames keep a mention a
threat whatever the story around it: a blocked attempt to complain ("打10000投诉没人接", "不让我投诉":
`blocked`) and a question whether, how or where to complain ("非得投诉才可以吗？": `ask`).
Conditions stay threats ("再不来修我就投诉"). Every
mention becomes a trigger: `escalation` for threats, `negation` for the ones ruled out, so an
auditor sees why.

An optional learned head (`anfu.backends.risk_ngram`: `model = "default"` for the shipped
weights or a path; `"none"`, the default, for the rules alone) re-scores the turn from its char n-grams, the rules' verdicts and the emotion model's
reading, as `anfu train-risk` chose by cross-validation: a rule threat the head doubts becomes a
`negation` trigger labelled `model_doubt` (same span and rule id), and a turn the head flags
without a rule threat gets an `escalation` trigger labelled `model` on the n-gram that weighed
most (rule id `escalation.model`). It is off by default: on the real held-out dialogues it barely
moved precision (0.630 → 0.636) and lost recall (0.899 → 0.865); see the model card.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Hashable, Sequence

from .. import registry
from ..backends.ngram import load_cached as load_emotion_model
from ..backends.ngram import model_input
from ..backends.risk_ngram import DEFAULT_WEIGHTS as RISK_WEIGHTS
from ..backends.risk_ngram import RiskNgramModel, dense_features
from ..backends.risk_ngram import load_cached as load_risk_model
from ..rules import validator
from ..rules.checked import load_checked, number, str_list
from ..text.matcher import Match, PhraseMatcher, clause_bounds, longest_non_overlapping
from ..text.normalize import normalize
from ..types import Assessment, Trigger
from .customer_flag import CustomerTurnFlag

PACK = "escalation"
_SENTENCE_END = re.compile(r"[。！？\n]")
_CLAUSE_BREAK = re.compile(r"[。！？；，,.!?;\n…～]")
_LAST_SEGMENT = re.compile(r"(?<=\s)\S*$")
# how far before a mention an `intent` cue is looked for (Weibo posts run clauses together
# with spaces, so the clause alone can be a whole story)
_INTENT_REACH = 12
# a resolution reported or doubted ("你们说已经处理好了", "处理好了？", "…可还是不行") settles nothing
_RESOLVED_DOUBT_BEFORE = re.compile(r"说|称|以为|号称|据说|显示|告诉我|难道|不是")
_RESOLVED_DOUBT_AFTER = re.compile(r"[？?吗]|可是|但是|但|还是|仍|依然|却|又|没用|不行")
# the most channel mentions judged in one turn (the first and the last half of them)
MAX_MENTIONS = 40
# how many turns back a police mention looks for a third party or the agent's advice
POLICE_CONTEXT_TURNS = 8
# a cheap test on the raw text before the context is read (the channel's words, both scripts)
_POLICE_HINT = re.compile("报警|報警|报案|報案|110|派出所|警察|公安|警方")


def _alternation(words: list[str]) -> str:
    """A regex alternation of normalised words, longest first (so "不是要" beats "不是")."""
    return "|".join(re.escape(w) for w in sorted({normalize(w) for w in words}, key=len, reverse=True))


@validator(PACK)
def validate_escalation(data: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    channels = data.get("channels")
    if not isinstance(channels, dict) or not channels:
        return ["'channels' must map a channel label to its phrases and patterns"]
    for label, spec in channels.items():
        if not isinstance(spec, dict) or not (spec.get("phrases") or spec.get("patterns")):
            problems.append(f"channels.{label} needs 'phrases' or 'patterns'")
            continue
        if "phrases" in spec:
            str_list(spec["phrases"], f"channels.{label}.phrases", problems)
        for i, pattern in enumerate(str_list(spec.get("patterns", []), f"channels.{label}.patterns",
                                             problems, allow_empty=True)):
            _check_regex(pattern, f"channels.{label}.patterns[{i}]", problems)
        intent_only = spec.get("intent_only", {})
        if not isinstance(intent_only, dict):
            problems.append(f"channels.{label}.intent_only must be a mapping with 'phrases' and/or 'patterns'")
            continue
        str_list(intent_only.get("phrases", []), f"channels.{label}.intent_only.phrases", problems,
                 allow_empty=True)
        for i, pattern in enumerate(str_list(intent_only.get("patterns", []),
                                             f"channels.{label}.intent_only.patterns", problems,
                                             allow_empty=True)):
            _check_regex(pattern, f"channels.{label}.intent_only.patterns[{i}]", problems)
    intent = data.get("intent", {})
    if not isinstance(intent, dict):
        problems.append("'intent' must be a mapping with 'cues' and 'patterns'")
    else:
        str_list(intent.get("cues", []), "intent.cues", problems, allow_empty=True)
        for i, pattern in enumerate(str_list(intent.get("patterns", []), "intent.patterns", problems,
                                             allow_empty=True)):
            _check_regex(pattern, f"intent.patterns[{i}]", problems)
    negation = data.get("negation")
    if not isinstance(negation, dict):
        problems.append("'negation' must be a mapping")
    else:
        number(negation.get("window"), "negation.window", problems, low=0, high=30)
        for key in ("cues", "adjacent", "breakers"):
            str_list(negation.get(key), f"negation.{key}", problems)
        for key in ("exceptions", "after"):
            str_list(negation.get(key, []), f"negation.{key}", problems, allow_empty=True)
    past = data.get("past")
    if not isinstance(past, dict):
        problems.append("'past' must be a mapping")
    else:
        for key in ("markers", "resolved", "unresolved", "retracted", "settled"):
            str_list(past.get(key), f"past.{key}", problems)
    third = data.get("third_party", {})
    if not isinstance(third, dict):
        problems.append("'third_party' must be a mapping with 'mentions', 'cues' and 'against'")
    else:
        for key in ("cues", "against", "context_cues", "grievance", "tag_cues"):
            str_list(third.get(key, []), f"third_party.{key}", problems, allow_empty=True)
        for key in ("mentions", "advice", "no_advice"):
            for i, pattern in enumerate(str_list(third.get(key, []), f"third_party.{key}", problems,
                                                 allow_empty=True)):
                _check_regex(pattern, f"third_party.{key}[{i}]", problems)
    _validate_frames(data.get("frames", {}), problems)
    forwarded = data.get("forwarded", {})
    if not isinstance(forwarded, dict):
        problems.append("'forwarded' must be a mapping with 'markers'")
    else:
        str_list(forwarded.get("markers", []), "forwarded.markers", problems, allow_empty=True)
    query = data.get("query")
    if not isinstance(query, dict):
        problems.append("'query' must be a mapping")
    else:
        for i, pattern in enumerate(str_list(query.get("patterns"), "query.patterns", problems)):
            _check_regex(pattern, f"query.patterns[{i}]", problems)
        str_list(query.get("calm"), "query.calm", problems)
    narrative = data.get("narrative", {})
    if not isinstance(narrative, dict):
        problems.append("'narrative' must be a mapping with 'after' and 'before' regex lists")
    else:
        lists = {key: narrative.get(key, []) for key in ("after", "before")}
        by_channel = narrative.get("channels", {})
        if not isinstance(by_channel, dict):
            problems.append("narrative.channels must map a channel label to a regex list")
            by_channel = {}
        lists.update({f"channels.{label}": patterns for label, patterns in by_channel.items()})
        acts = narrative.get("acts", {})
        if not isinstance(acts, dict):
            problems.append("narrative.acts must be a mapping with 'channels', 'after' and 'before'")
            acts = {}
        lists.update({f"acts.{key}": acts.get(key, []) for key in ("mentions", "after", "before", "next")})
        for key, patterns in lists.items():
            for i, pattern in enumerate(str_list(patterns, f"narrative.{key}", problems, allow_empty=True)):
                _check_regex(pattern, f"narrative.{key}[{i}]", problems)
    return problems


_FRAME_KEYS = {"generic": ("before", "future"), "reported": ("before", "previous"),
               "topic": ("appeal_before", "appeal_after", "source_after"),
               "blocked": ("after", "before"), "ask": ("before", "after", "question", "why")}


def _validate_frames(frames: Any, problems: list[str]) -> None:
    if not isinstance(frames, dict):
        problems.append("'frames' must be a mapping with 'generic', 'reported' and/or 'topic'")
        return
    for name, spec in frames.items():
        if name not in _FRAME_KEYS:
            problems.append(f"frames.{name} is not a frame (use {', '.join(_FRAME_KEYS)})")
            continue
        if not isinstance(spec, dict):
            problems.append(f"frames.{name} must be a mapping of regex lists")
            continue
        for key in _FRAME_KEYS[name]:
            for i, pattern in enumerate(str_list(spec.get(key, []), f"frames.{name}.{key}", problems,
                                                 allow_empty=True)):
                _check_regex(pattern, f"frames.{name}.{key}[{i}]", problems)
        if name in ("topic", "blocked", "ask"):
            str_list(spec.get("channels", []), f"frames.{name}.channels", problems, allow_empty=True)


def _check_regex(pattern: str, where: str, problems: list[str]) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        problems.append(f"{where} is not a valid regex ({exc})")


def _optional_rx(words: list[str] | None, prefix: str = "") -> re.Pattern[str] | None:
    return re.compile(f"{prefix}(?:{_alternation(words)})") if words else None


def _patterns_rx(patterns: list[str] | None) -> re.Pattern[str] | None:
    return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None


@dataclass(frozen=True)
class Mention:
    """One channel mention and what the rules concluded about it."""

    match: Match
    channel: str
    rule_id: str
    # threat | negated | past_resolved | narrated | descriptive | neutral_query | third_party
    # | generic | reported | topic | forwarded
    verdict: str


class EscalationRules:
    """The compiled `escalation` pack: finds mentions and judges each one."""

    def __init__(self, pack: dict[str, Any]) -> None:
        self.matcher = PhraseMatcher()
        for label, spec in pack["channels"].items():
            for phrase in spec.get("phrases", []):
                self.matcher.add(str(phrase), (label, f"{PACK}.{label}:{phrase}", False))
            for i, pattern in enumerate(spec.get("patterns", [])):
                self.matcher.add_regex(pattern, (label, f"{PACK}.{label}.pattern{i}", False))
            intent_only = spec.get("intent_only", {})
            for phrase in intent_only.get("phrases", []):
                self.matcher.add(str(phrase), (label, f"{PACK}.{label}.intent_only:{phrase}", True))
            for i, pattern in enumerate(intent_only.get("patterns", [])):
                self.matcher.add_regex(pattern, (label, f"{PACK}.{label}.intent_only.pattern{i}", True))
        for i, pattern in enumerate(pack["query"]["patterns"]):
            self.matcher.add_regex(pattern, ("complaint", f"{PACK}.query{i}", False))
        neg = pack["negation"]
        window = int(neg["window"])
        self.negation_rx = re.compile(f"(?:{_alternation(neg['cues'])})(?P<tail>.{{0,{window}}})$")
        self.adjacent_rx = re.compile(f"(?:{_alternation(neg['adjacent'])})(?:去|再|会|用|想|要)?$")
        self.breaker_rx = re.compile(_alternation(neg["breakers"]))
        self.exception_rx = _optional_rx(neg.get("exceptions"))
        self.after_rx = _optional_rx(neg.get("after"), prefix=r"^.{0,3}")
        self.window = window
        past = pack["past"]
        self.past_rx = re.compile(_alternation(past["markers"]))
        self.resolved_rx = re.compile(f"(?<!{')(?<!'.join(re.escape(normalize(u)) for u in past['unresolved'])})"
                                      f"(?:{_alternation(past['resolved'])})")
        self.retracted_rx = re.compile(_alternation(past["retracted"]))
        self.settled_rx = re.compile(_alternation(past["settled"]))
        # ("有必要", "需要", "主要" are not intent)
        self.intent_rx = re.compile(r"(?:(?<![必需只重主])要|会|就|还要|还是要|必须|一定|准备|打算|马上|立刻|直接)$")
        intent = pack.get("intent", {})
        parts = ([f"(?<![不没别])(?:{_alternation(intent['cues'])})"] if intent.get("cues") else []) + [
            f"(?:{p})" for p in intent.get("patterns", [])]
        self.intent_any = re.compile("|".join(parts)) if parts else None
        self.calm_rx = re.compile(_alternation(pack["query"]["calm"]))
        narrative = pack.get("narrative", {})
        self.story_after = [re.compile(p) for p in narrative.get("after", [])]
        self.story_before = [re.compile(p) for p in narrative.get("before", [])]
        self.story_channel = {label: [re.compile(p) for p in patterns]
                              for label, patterns in narrative.get("channels", {}).items()}
        acts = narrative.get("acts", {})
        self.act_mentions = [re.compile(p) for p in acts.get("mentions", [])]
        self.act_after = [re.compile(p) for p in acts.get("after", [])]
        self.act_before = [re.compile(p) for p in acts.get("before", [])]
        self.act_next = [re.compile(p) for p in acts.get("next", [])]
        frames = pack.get("frames", {})
        generic, reported, topic = (frames.get(k, {}) for k in ("generic", "reported", "topic"))
        self.generic_before = _patterns_rx(generic.get("before"))
        self.generic_future = _patterns_rx(generic.get("future"))
        self.reported_before = _patterns_rx(reported.get("before"))
        self.reported_previous = _patterns_rx(reported.get("previous"))
        self.topic_channels = frozenset(topic.get("channels", []))
        self.topic_appeal_before = _patterns_rx(topic.get("appeal_before"))
        self.topic_appeal_after = _patterns_rx(topic.get("appeal_after"))
        self.topic_source_after = _patterns_rx(topic.get("source_after"))
        blocked, ask = frames.get("blocked", {}), frames.get("ask", {})
        self.blocked_channels = frozenset(blocked.get("channels", []))
        self.blocked_after = _patterns_rx(blocked.get("after"))
        self.blocked_before = _patterns_rx(blocked.get("before"))
        self.ask_channels = frozenset(ask.get("channels", []))
        self.ask_before = _patterns_rx(ask.get("before"))
        self.ask_after = _patterns_rx(ask.get("after"))
        self.ask_question = _patterns_rx(ask.get("question"))
        self.ask_why = _patterns_rx(ask.get("why"))
        third = pack.get("third_party", {})
        self.third_mentions = [re.compile(p) for p in third.get("mentions", [])]
        self.third_tag_cues = _optional_rx(third.get("tag_cues"))
        self.third_grievance = _optional_rx(third.get("grievance"))
        self.third_cues = _optional_rx(third.get("cues"))
        self.third_against = _optional_rx(third.get("against"))
        # earlier turns of the conversation that make a police mention a report about someone
        # else: the agent advised reporting (`advice`, unless it said not to: `no_advice`), or the
        # customer named a third-party wrongdoer (`cues`, `context_cues`) without accusing the company
        self.third_context_cues = _optional_rx([*third.get("cues", []), *third.get("context_cues", [])])
        self.police_advice = _patterns_rx(third.get("advice"))
        self.police_no_advice = _patterns_rx(third.get("no_advice"))
        self.forwarded_rx = _optional_rx(pack.get("forwarded", {}).get("markers"))

    def police_context(self, earlier: Sequence[tuple[str, str]]) -> bool:
        """Whether earlier turns, as (speaker, norm), make a police mention now a report about a
        third party ("我可能被骗了…" … "我现在就打110"; the agent's "请您马上报警" … "行，我这就去派出所")."""
        advised = named = accused = False
        for speaker, norm in earlier:
            if speaker == "agent":
                if self.police_advice is not None and self.police_advice.search(norm) and not (
                        self.police_no_advice is not None and self.police_no_advice.search(norm)):
                    advised = True
            else:
                named = named or bool(self.third_context_cues is not None and self.third_context_cues.search(norm))
                accused = accused or bool(self.third_against is not None and self.third_against.search(norm))
        return (advised or named) and not accused

    def mentions(self, norm: str, police_context: bool = False) -> list[Mention]:
        """Channel mentions in one customer text, judged; `police_context` (from
        `police_context`) turns a police threat into a report about a third party."""
        found = longest_non_overlapping(self.matcher.find(norm))
        if len(found) > MAX_MENTIONS:
            # each mention reads its clause and the rest of the turn: a turn of one word repeated
            # ("投诉投诉…", 20,000 characters) would cost work quadratic in its length. The first and
            # the last mentions are judged (a threat usually opens or closes the post)
            found = found[:MAX_MENTIONS // 2] + found[-(MAX_MENTIONS // 2):]
        # a forwarded post ("//@account:…") is someone else's: the writer's own words come before it
        # and are judged by themselves
        forwarded = self.forwarded_rx.search(norm) if self.forwarded_rx is not None else None
        own_end = forwarded.start() if forwarded is not None else len(norm)
        own = norm[:own_end]
        return [self._judge(own, m, police_context) if m.end <= own_end
                else Mention(m, m.payload[0], m.payload[1], "forwarded") for m in found]

    def _judge(self, norm: str, m: Match, police_context: bool = False) -> Mention:
        channel, rule_id, _ = m.payload
        verdict = self._verdict(norm, m, rule_id)
        if verdict == "threat" and channel == "police" and police_context and not (
                self.third_against is not None and self.third_against.search(norm)):
            verdict = "third_party"
        return Mention(m, channel, rule_id, verdict)

    def _verdict(self, norm: str, m: Match, rule_id: str) -> str:
        channel, _, intent_only = m.payload
        c_start, c_end = clause_bounds(norm, m.start, m.end)
        prefix = raw_prefix = norm[max(c_start, m.start - self.window - 6):m.start]
        # a negation does not reach across a space into the next spoken segment ("我不想跟你说了
        # 让你们主管来接")
        spoken = _LAST_SEGMENT.search(prefix)
        if spoken is not None:
            prefix = spoken.group(0)
        after = self.after_rx is not None and self.after_rx.search(norm[m.end:c_end])
        # (a title "投诉：…" heads the post like a 【投诉】 tag)
        tag = m.text[:1] in "@#【" or m.text[-1:] in "：:" or _inside_tag(norm, m.start)
        # a tag is addressed now: only a negation right in front of it counts ("我分享了@新浪科技 的文章"
        # yes, "不能携号转网@工信部" no)
        # (a tag's credit may stand a space before it: "分享自 @新浪财经")
        negated = self._negated(raw_prefix.rstrip() if tag else prefix, adjacent_only=tag)
        if negated or after:
            return "negated"
        if self._third_party(norm, m):
            return "third_party"
        if self._resolved(norm, m, c_start, c_end):
            return "past_resolved"
        head = norm[c_start:m.start]
        if not tag:
            frame = self._frame(norm, m, channel, rule_id, c_start, c_end)
            if frame in ("blocked", "ask"):
                # a blocked attempt or a question about complaining: weighed now, never the story
                return "neutral_query" if ".query" in rule_id and self.calm_rx.search(norm) else "threat"
            if frame is not None:
                return frame
        if intent_only and not self._intends(head):
            return "descriptive"
        # a tag (@account, #topic#, 【tag】) is addressed now, never told as part of the story
        following = norm[m.end:_next_clause_end(norm, c_end)]
        # a habit announced for the future ("以后每次断网我都去工信部投诉") is not the story so far
        if not tag and self._narrated(head, norm[m.end:c_end], channel, following,
                                      query=".query" in rule_id, mention=m.text,
                                      future=self._future(norm, c_start, m.start)):
            return "narrated"
        if ".query" in rule_id and self.calm_rx.search(norm):
            return "neutral_query"
        return "threat"

    def _frame(self, norm: str, m: Match, channel: str, rule_id: str, c_start: int,
               c_end: int) -> str | None:
        """The pack's `frames`: `generic` (habitual or generic talk), `reported` (someone else
        speaks or acts) or `topic` (a body named, not appealed to); None when no frame holds."""
        head, tail = norm[c_start:m.start], norm[m.end:c_end]
        # spoken and Weibo text runs clauses together with spaces: a frame reads the last one
        spoken = _LAST_SEGMENT.search(head)
        segment = spoken.group(0) if spoken else head
        # (a question about where to complain is the customer's own: "你告诉我哪里可以投诉")
        query = ".query" in rule_id
        if self._blocked(norm, channel, segment, tail, c_end):
            return "blocked"
        if not query and self.reported_before is not None and self.reported_before.search(segment):
            return "reported"
        if not query and self.reported_previous is not None and c_start > 0 and segment == head:
            s_start = _sentence_start(norm, c_start)
            previous = norm[s_start:c_start].rstrip("，,；; ")
            if previous and self.reported_previous.search(previous):
                return "reported"
        if self._asks(norm, m, channel, segment, tail, c_start):
            return "ask"
        if (self.generic_before is not None and self.generic_before.search(segment)
                and not self._future(norm, c_start, m.start)):
            return "generic"
        if channel in self.topic_channels and ":" in rule_id:  # a phrase, not a number or a tag
            if not segment.strip() and not tail.strip():
                return None  # the body alone is the clause: an appeal by ellipsis ("再不退款，消协！")
            if self.topic_appeal_after is not None and self.topic_appeal_after.search(tail):
                return None
            if self.topic_source_after is not None and self.topic_source_after.search(tail):
                return "topic"
            if self.topic_appeal_before is not None and self.topic_appeal_before.search(head):
                return None
            return "topic"
        return None

    def _blocked(self, norm: str, channel: str, segment: str, tail: str, c_end: int) -> bool:
        """`frames.blocked`: the customer tried or wants to complain and the way is shut ("打10000
        投诉没人接", "想投诉，热线一直占线", "不让我投诉")."""
        if channel not in self.blocked_channels:
            return False
        if self.blocked_before is not None and self.blocked_before.search(segment):
            return True
        if self.blocked_after is None:
            return False
        if self.blocked_after.search(tail):
            return True
        # the next clause of the sentence, when the mention ends its own after a wish or an intent
        # ("想投诉，热线一直占线")
        wants = self._intends(segment) or re.search(r"想[^，。！？]{0,4}$", segment) is not None
        return wants and not tail.strip() and bool(self.blocked_after.search(norm[c_end:_next_clause_end(norm, c_end)]
                                                                   .lstrip("，,；; ")))

    def _asks(self, norm: str, m: Match, channel: str, segment: str, tail: str, c_start: int) -> bool:
        """`frames.ask`: a question whether, how or where to complain ("非得投诉才可以吗？", "投诉有用
        吗？"), not a "why" about what happened ("为什么每次都要我投诉了你们才动？")."""
        if channel not in self.ask_channels or self.ask_question is None:
            return False
        c_end = m.end + len(tail)
        if not self.ask_question.search(norm[m.end:min(len(norm), _next_clause_end(norm, c_end) + 1)]):
            return False
        if self.ask_why is not None and self.ask_why.search(norm[_sentence_start(norm, c_start):m.start]):
            return False
        return bool((self.ask_before is not None and self.ask_before.search(segment))
                    or (self.ask_after is not None and self.ask_after.search(tail)))

    def _future(self, norm: str, c_start: int, start: int) -> bool:
        """A future frame (`frames.generic.future`: "以后", "下次") earlier in the sentence."""
        return bool(self.generic_future is not None
                    and self.generic_future.search(norm[_sentence_start(norm, c_start):start]))

    def _third_party(self, norm: str, m: Match) -> bool:
        """A report about a scammer, spammer or thief (the pack's `third_party`), not the company:
        a mention of `mentions` in a turn that names such a wrongdoer (`cues`), or any other tag
        (or a hotline inside one, "@北京12345") in a turn that tells such a crime (`tag_cues`), when
        the turn neither accuses the company (`against`) nor holds a grievance against it
        (`grievance`: "你们不给挂失")."""
        if any(rx.search(m.text) for rx in self.third_mentions):
            cues = self.third_cues
        elif m.text[:1] in "@#【" or _inside_tag(norm, m.start) or m.payload[0] == "media":
            # a tag, or a public warning or call to spread ("有人冒充抄表员上门骗钱，大家小心")
            cues = self.third_tag_cues
        else:
            return False
        return bool(cues is not None and cues.search(norm)) and not any(
            rx is not None and rx.search(norm) for rx in (self.third_against, self.third_grievance))

    def _negated(self, prefix: str, adjacent_only: bool = False) -> bool:
        if self.exception_rx is not None and self.exception_rx.search(prefix):
            return False
        if self.adjacent_rx.search(prefix):
            return True
        found = self.negation_rx.search(prefix)
        if found is None or (adjacent_only and found.group("tail").strip()):
            return False
        return not self.breaker_rx.search(found.group("tail"))

    def _intends(self, head: str) -> bool:
        """Intent in the clause before a mention: right in front of it ("我要投诉", "就去"), or an
        `intent` cue anywhere in the clause ("我明天打12345投诉", "这是第三次投诉了"). Weibo posts
        run clauses together with spaces: intent is read in the last of them ("网络差的要命 投诉一年多
        无人解决" has none)."""
        spoken = _LAST_SEGMENT.search(head)
        if spoken is not None:
            head = spoken.group(0)
        return bool(self.intent_rx.search(head)
                    or re.search(r"(?:(?<![必需只重主])要|想|准备|打算|会|就(?!是)|只能|必须)[^，。！？]{0,3}$", head)
                    or (self.intent_any is not None
                        and self.intent_any.search(head[-_INTENT_REACH:])))

    def _narrated(self, head: str, tail: str, channel: str, following: str = "", query: bool = False,
                  mention: str = "", future: bool = False) -> bool:
        """Told as part of the story ("多次投诉后", "投诉了三次都没用", "投诉客服却告诉我…"),
        unless intent comes first."""
        # (a question about a channel, "你们的投诉电话是多少", is not the channel's noun use; spoken
        # text runs clauses together with spaces: the last one is read, "我不跟你说了 你让你们主管来接")
        spoken = _LAST_SEGMENT.search(head)
        segment = spoken.group(0) if spoken else head
        if not query and any(rx.search(segment) for rx in self.story_channel.get(channel, ())):
            return True
        if future or self._intends(head):
            return False
        if mention and any(rx.search(mention) for rx in self.act_mentions) and (
                any(rx.search(tail) for rx in self.act_after)
                                             or any(rx.search(head) for rx in self.act_before)
                                             or any(rx.search(following) for rx in self.act_next)):
            return True
        return (any(rx.search(tail) for rx in self.story_after)
                or any(rx.search(head) for rx in self.story_before))

    def _resolved(self, norm: str, m: Match, c_start: int, c_end: int) -> bool:
        """Past and settled, or taken back: a resolution or retraction cue in the mention's
        clause or the next one of its sentence ("上次投诉的事已经解决了"), or a past marker
        before the mention and a settling cue later on ("本来想打12363的…问题也解决了，谢谢")."""
        head = norm[c_start:m.start]
        if self._ends_resolved(norm, m.end):
            return True
        past = bool(self.past_rx.search(head))
        scope = norm[m.end:_next_clause_end(norm, c_end)]
        retracted = self.retracted_rx.search(scope)
        # ("X就算了，Y": "let alone X", not a retraction: "流量用完不提醒就算了，直接扣到欠费")
        if retracted and not (retracted.group(0) == "算了" and scope[:retracted.start()].endswith("就")
                              and norm[m.end + retracted.end():m.end + retracted.end() + 1] in ("，", ",")):
            return True
        if not past and self.intent_rx.search(head):
            return False
        if self.resolved_rx.search(scope):
            return True
        rest = norm[m.end:]
        return past and bool(self.resolved_rx.search(rest) or self.retracted_rx.search(rest)
                             or self.settled_rx.search(rest))


    def _ends_resolved(self, norm: str, end: int) -> bool:
        """The turn escalates and then, in a later sentence, says it is resolved ("我要投诉！……刚刚
        已经给我处理好了"): labelled where it ends (LABELS.md). Not a claim reported or questioned
        ("你们说已经处理好了？", "说是处理好了，还是上不了网") nor one that the turn goes on to deny."""
        rest = norm[end:]
        found = None
        for found in self.resolved_rx.finditer(rest):
            pass
        if found is None or not _SENTENCE_END.search(rest, 0, found.start()):
            return False
        before = rest[_sentence_start(rest, found.start()):found.start()]
        return not (_RESOLVED_DOUBT_BEFORE.search(before) or _RESOLVED_DOUBT_AFTER.search(rest[found.end():]))


def _sentence_start(norm: str, i: int) -> int:
    """Start of the sentence holding position `i`."""
    j = i
    while j > 0 and not _SENTENCE_END.match(norm[j - 1]):
        j -= 1
    return j


def _inside_tag(norm: str, start: int) -> bool:
    """Whether the text at `start` continues an @account ("@北京12345"); a handle ends at a colon
    ("//@某某:记者…" quotes the account's post)."""
    j = start - 1
    while j >= 0 and start - j <= 12 and not norm[j].isspace() and norm[j] not in "，。！？：@":
        j -= 1
    return j >= 0 and norm[j] == "@"


def _next_clause_end(norm: str, c_end: int) -> int:
    """End of the clause after the one ending at `c_end`, within the same sentence."""
    i = c_end
    while i < len(norm) and _CLAUSE_BREAK.match(norm[i]):
        if _SENTENCE_END.match(norm[i]):
            return c_end
        i += 1
    if i >= len(norm):
        return c_end
    return clause_bounds(norm, i, i)[1]


@registry.components.register("anfu.risk.v1")
class EscalationRisk(CustomerTurnFlag):
    """Sets `turn.escalation_risk` and adds `escalation` / `negation` triggers (customer turns)."""

    name = "anfu.risk.v1"
    provides = ("turn.escalation_risk", "turn.triggers", "turn.norm")
    flag = "escalation_risk"

    def __init__(self, rules_dir: str | Path | None = None, model: str = "none") -> None:
        self.rules_dir = rules_dir
        self.model = model
        self.rules_ = EscalationRules(load_checked(PACK, rules_dir=rules_dir))
        self._head: RiskNgramModel | None = self._load_head()

    def _load_head(self) -> RiskNgramModel | None:
        if self.model == "none":
            return None
        return load_risk_model(RISK_WEIGHTS if self.model == "default" else Path(self.model))

    @property
    def head_(self) -> RiskNgramModel | None:
        if self._head is None and self.model != "none":
            self._head = self._load_head()
        return self._head

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_head"] = None  # reloaded (and shared) in the receiving process
        return state

    def turn_key(self, doc: Assessment, i: int) -> Hashable:
        # the head reads the emotion model, which tells a follow-up turn from an opening one; a
        # police mention reads the turns before it
        return (doc.turns[i].follow_up if self.model != "none" else None, self._police_context(doc, i))

    def turn_context(self, doc: Assessment, i: int) -> int:
        # a turn that mentions the police reads the turns before it (`_police_context`)
        return max(0, i - POLICE_CONTEXT_TURNS) if self._mentions_police(doc, i) else i

    @staticmethod
    def _mentions_police(doc: Assessment, i: int) -> bool:
        return (not doc.is_utterance and i > 0 and doc.turns[i].speaker == "customer"
                and _POLICE_HINT.search(doc.turns[i].text) is not None)

    def _police_context(self, doc: Assessment, i: int) -> bool:
        if not self._mentions_police(doc, i):
            return False
        earlier = doc.turns[max(0, i - POLICE_CONTEXT_TURNS):i]
        return self.rules_.police_context([(t.speaker, t.norm or normalize(t.text)) for t in earlier])

    def assess(self, norm: str, text: str, follow_up: bool = False,
               police_context: bool = False) -> tuple[bool, list[Trigger]]:
        """Risk and triggers for one customer text (`norm` is its normalised form)."""
        return self.assess_many([(norm, text, follow_up)], [police_context])[0]

    def assess_many(self, items: Sequence[tuple[str, str, bool]],
                    police_context: Sequence[bool] | None = None) -> list[tuple[bool, list[Trigger]]]:
        """Risk and triggers for customer texts given as (norm, text, follow_up), in one batch;
        `police_context` per text (default False): see `EscalationRules.police_context`."""
        contexts = police_context if police_context is not None else [False] * len(items)
        found = [self.rules_.mentions(norm, ctx) for (norm, _, _), ctx in zip(items, contexts)]
        head = self.head_
        if head is None or not items:
            return [self._rules_only(mentions, text) for mentions, (_, text, _) in zip(found, items)]
        emotion, intensity = load_emotion_model().predict_all([model_input(n, f) for n, _, f in items])
        dense = [dense_features([(m.channel, m.verdict, m.match.text) for m in mentions], p, ip)
                 for mentions, p, ip in zip(found, emotion, intensity)]
        proba = head.predict([n for n, _, _ in items], dense)
        out = []
        for (norm, text, _), mentions, p in zip(items, found, proba):
            rule_threat = any(m.verdict == "threat" for m in mentions)
            risky = head.decide(rule_threat, p)
            _, triggers = self._rules_only(mentions, text)
            if rule_threat and not risky:
                # the head doubts the rules: their threats stay visible as negations
                triggers = [Trigger("negation", "model_doubt", t.start, t.end, t.text, t.rule_id)
                            if t.kind == "escalation" else t for t in triggers]
            elif risky and not rule_threat:
                span = head.strongest_span(norm) or (0, len(text))
                triggers.append(Trigger("escalation", "model", span[0], span[1], text[span[0]:span[1]],
                                        f"{PACK}.model"))
            out.append((risky, triggers))
        return out

    @staticmethod
    def _rules_only(mentions: list[Mention], text: str) -> tuple[bool, list[Trigger]]:
        triggers: list[Trigger] = []
        risky = False
        for mention in mentions:
            m = mention.match
            if mention.verdict == "threat":
                risky = True
                triggers.append(Trigger("escalation", mention.channel, m.start, m.end,
                                        text[m.start:m.end], mention.rule_id))
            else:
                triggers.append(Trigger("negation", mention.verdict, m.start, m.end,
                                        text[m.start:m.end], mention.rule_id))
        return risky, triggers

    def predict(self, docs: Sequence[Assessment]) -> list[list[tuple[bool, list[Trigger]] | None]]:
        items = [(t.norm or normalize(t.text), t.text, t.follow_up)
                 for doc in docs for t in doc.turns if t.speaker == "customer"]
        contexts = [self._police_context(doc, i) for doc in docs for i, t in enumerate(doc.turns)
                    if t.speaker == "customer"]
        results = iter(self.assess_many(items, contexts))
        return [[next(results) if t.speaker == "customer" else None for t in doc.turns] for doc in docs]
