"""Emotion benchmark: Anfu against snownlp and cnsenti, in one run.

- 7-label accuracy / macro-F1 on our held-out split (service corpus, STC-3 turns we labelled)
  and on SMP2020 usual_eval mapped to our labels (never trained on);
- polarity accuracy on the held-out slice of product reviews and on the labels above;
- escalation-risk recall / precision on our held-out split, with the full pipeline `anfu.load()`;
- throughput on one core (pipeline batched and one by one, emotion alone) vs snownlp;
- per-turn latency p50 / p99 of the full pipeline.

snownlp and cnsenti are polarity tools: they are compared on polarity, and their output is
mapped to our labels (positive → satisfied, negative → dissatisfied, else neutral; cnsenti's
emotion dictionary: 乐/好 → satisfied, 哀 → disappointed, 怒 → angry, 惧 → anxious,
恶 → dissatisfied, 惊 → doubtful) for the 7-label comparison.
"""

from __future__ import annotations

import gc
import os
import random
import time
from typing import Any, Callable, Sequence

import numpy as np

from anfu.glossary import EMOTIONS
from anfu.training.data import (SMP_BENCH_FILE, Example, is_heldout, load_reviews, load_smp2020,
                                 our_heldout)
from anfu.training.train import classification_scores
from anfu.types import Utterance

NEGATIVE = {"anxious", "doubtful", "disappointed", "dissatisfied", "angry"}
REVIEW_SAMPLE = 1500
SPEED_TEXTS = 1000
SNOWNLP_SPEED_TEXTS = 300
LATENCY_TEXTS = 1000

# The macro-F1 target is on the fixed held-out split of the corpus we wrote (corpus/service);
# "ours" adds our hand labels of real STC-3 Weibo posts, reported beside it.
TARGETS = {
    "ours_service.anfu.macro_f1": [">=", 0.85],
    "escalation.recall": [">=", 0.95],
    "escalation.precision": [">=", 0.90],
    "throughput.ratio_vs_snownlp": [">=", 20.0],
    "latency_ms.p99": ["<=", 20.0],
}

# printed in the table without a target
HEADLINE = [
    "ours.anfu.macro_f1", "ours_stc3.anfu.macro_f1", "ours.snownlp.macro_f1", "ours.cnsenti.macro_f1",
    "ours.polarity.anfu", "ours.polarity.snownlp", "ours.polarity.cnsenti",
    "smp2020_usual_eval.anfu.macro_f1", "smp2020_usual_eval.snownlp.macro_f1", "smp2020_usual_eval.cnsenti.macro_f1",
    "smp2020_usual_eval.polarity.anfu", "smp2020_usual_eval.polarity.snownlp", "smp2020_usual_eval.polarity.cnsenti",
    "reviews_polarity.anfu", "reviews_polarity.snownlp", "reviews_polarity.cnsenti",
    "escalation_service.recall", "escalation_service.precision", "intensity.mae",
    "throughput.pipeline_batched", "throughput.pipeline_one_by_one", "throughput.emotion_component_batched",
    "throughput.snownlp_batched", "throughput.ratio_one_by_one_vs_snownlp", "latency_ms.p50",
]

# ---------------------------------------------------------------------------- systems
class Anfu:
    def __init__(self) -> None:
        import anfu

        self.analyzer = anfu.load()

    def analyse(self, texts: Sequence[str]) -> list[Any]:
        return [a.turns[0] for a in self.analyzer.pipe([Utterance(text=t) for t in texts], batch_size=64)]

    def labels(self, turns: list[Any]) -> list[str]:
        return [t.emotion for t in turns]

    @staticmethod
    def polarity(turn: Any) -> int:
        scores = turn.scores
        return int(scores["satisfied"] >= sum(scores[k] for k in NEGATIVE))


def snownlp_scores(texts: Sequence[str]) -> list[float]:
    from snownlp import SnowNLP

    return [SnowNLP(t).sentiments for t in texts]


def snownlp_label(p: float) -> str:
    return "satisfied" if p >= 0.7 else "dissatisfied" if p <= 0.3 else "neutral"


_CNSENTI_MAP = {"乐": "satisfied", "好": "satisfied", "哀": "disappointed", "怒": "angry", "惧": "anxious",
                "恶": "dissatisfied", "惊": "doubtful"}


class Cnsenti:
    def __init__(self) -> None:
        import cnsenti

        self.sentiment = cnsenti.Sentiment()
        self.emotion = cnsenti.Emotion()

    def polarity_score(self, text: str) -> int:
        counts = self.sentiment.sentiment_count(text)
        return counts["pos"] - counts["neg"]

    def label(self, text: str) -> str:
        counts = self.emotion.emotion_count(text)
        best = max(_CNSENTI_MAP, key=lambda k: counts.get(k, 0))
        if counts.get(best, 0) > 0:
            return _CNSENTI_MAP[best]
        score = self.polarity_score(text)
        return "satisfied" if score > 0 else "dissatisfied" if score < 0 else "neutral"


# ---------------------------------------------------------------------------- metrics
def polarity_accuracy(gold: Sequence[int], pred: Sequence[int]) -> float:
    return round(sum(g == p for g, p in zip(gold, pred)) / max(len(gold), 1), 4)


def compare_labels(examples: Sequence[Example], anfu_sys: Anfu, cn: Cnsenti) -> dict[str, Any]:
    texts = [e.text for e in examples]
    gold = [e.emotion for e in examples]
    turns = anfu_sys.analyse(texts)
    snow = snownlp_scores(texts)
    cn_labels = [cn.label(t) for t in texts]
    polar = [i for i, g in enumerate(gold) if g != "neutral"]
    gold_pol = [int(gold[i] == "satisfied") for i in polar]
    return {
        "n": len(examples),
        "anfu": classification_scores(gold, anfu_sys.labels(turns)),
        "snownlp": classification_scores(gold, [snownlp_label(p) for p in snow]),
        "cnsenti": classification_scores(gold, cn_labels),
        "polarity": {
            "n": len(polar),
            "anfu": polarity_accuracy(gold_pol, [Anfu.polarity(turns[i]) for i in polar]),
            "snownlp": polarity_accuracy(gold_pol, [int(snow[i] >= 0.5) for i in polar]),
            "cnsenti": polarity_accuracy(gold_pol, [int(cn.polarity_score(texts[i]) >= 0) for i in polar]),
        },
        "_turns": turns,
    }


def escalation_scores(examples: Sequence[Example], turns: Sequence[Any]) -> dict[str, Any]:
    pairs = [(e.escalation_risk, bool(t.escalation_risk)) for e, t in zip(examples, turns)
             if e.escalation_risk is not None]
    tp = sum(g and p for g, p in pairs)
    fp = sum(p and not g for g, p in pairs)
    fn = sum(g and not p for g, p in pairs)
    return {"n": len(pairs), "positives": tp + fn,
            "recall": round(tp / (tp + fn), 4) if tp + fn else None,
            "precision": round(tp / (tp + fp), 4) if tp + fp else None}


def timed_rate(fn: Callable[[], int]) -> float:
    """Items per second of `fn()`, after a full garbage collection: the hundreds of thousands of
    objects the earlier sections of the run leave behind (accuracy runs, baselines) would
    otherwise trigger one inside whichever system happens to be timed."""
    gc.collect()
    started = time.perf_counter()
    count = fn()
    return round(count / (time.perf_counter() - started), 1)


def speed(anfu_sys: Anfu, texts: Sequence[str]) -> dict[str, Any]:
    """Utterances per second on one core (the process is pinned to one CPU meanwhile)."""
    pinned = hasattr(os, "sched_setaffinity")
    previous = os.sched_getaffinity(0) if pinned else None
    if pinned:
        os.sched_setaffinity(0, {min(previous)})
    try:
        analyzer = anfu_sys.analyzer
        docs = [Utterance(text=t) for t in texts]
        list(analyzer.pipe(docs[:64]))  # warm caches
        batched = timed_rate(lambda: sum(1 for _ in analyzer.pipe(docs, batch_size=64)))
        latencies = []
        gc.collect()
        for doc in docs[:LATENCY_TEXTS]:
            started = time.perf_counter()
            analyzer(doc)
            latencies.append((time.perf_counter() - started) * 1000)
        one_by_one = round(len(latencies) / (sum(latencies) / 1000), 1)
        emotion = analyzer.get("anfu.emotion.v1")
        from anfu.types import Assessment

        def emotion_only() -> int:
            assessments = [Assessment.start(d) for d in docs]
            analyzer.get("anfu.normalize.v1").pipe(assessments)
            emotion.pipe(assessments)
            return len(assessments)

        emotion_rate = timed_rate(emotion_only)
        snow_texts = list(texts[:SNOWNLP_SPEED_TEXTS])
        snownlp_scores(snow_texts[:5])
        snow_rate = timed_rate(lambda: len(snownlp_scores(snow_texts)))
    finally:
        if pinned:
            os.sched_setaffinity(0, previous)
    lat = np.array(latencies)
    return {
        "throughput": {"pipeline_batched": batched, "pipeline_one_by_one": one_by_one,
                       "emotion_component_batched": emotion_rate, "snownlp_batched": snow_rate,
                       "ratio_vs_snownlp": round(batched / snow_rate, 1),
                       "ratio_one_by_one_vs_snownlp": round(one_by_one / snow_rate, 1),
                       "cpu_pinned": pinned},
        "latency_ms": {"n": len(lat), "p50": round(float(np.percentile(lat, 50)), 3),
                       "p99": round(float(np.percentile(lat, 99)), 3), "max": round(float(lat.max()), 3)},
    }


# ---------------------------------------------------------------------------- run
def run() -> dict[str, Any]:
    anfu_sys = Anfu()
    cn = Cnsenti()
    result: dict[str, Any] = {"components": anfu_sys.analyzer.component_names,
                              "labels": list(EMOTIONS)}

    held = our_heldout()
    ours = compare_labels(held, anfu_sys, cn)
    turns = ours.pop("_turns")
    result["ours"] = ours
    for source in ("service", "stc3"):
        idx = [i for i, e in enumerate(held) if e.source == source]
        gold = [held[i].emotion for i in idx]
        result[f"ours_{source}"] = {"n": len(idx), "anfu": classification_scores(gold, [turns[i].emotion for i in idx])}
        result[f"escalation_{source}"] = escalation_scores([held[i] for i in idx], [turns[i] for i in idx])
    result["escalation"] = escalation_scores(held, turns)
    rated = [(e.intensity, t.intensity) for e, t in zip(held, turns) if e.intensity is not None]
    if rated:
        result["intensity"] = {"n": len(rated), "mae": round(float(np.mean([abs(g - p) for g, p in rated])), 4),
                               "exact": round(float(np.mean([g == p for g, p in rated])), 4),
                               "within_1": round(float(np.mean([abs(g - p) <= 1 for g, p in rated])), 4)}

    smp = load_smp2020(files=(SMP_BENCH_FILE,))
    if smp:
        smp_result = compare_labels(smp, anfu_sys, cn)
        smp_result.pop("_turns")
        result["smp2020_usual_eval"] = smp_result

    reviews = [r for r in load_reviews() if is_heldout(r[0])]
    if reviews:
        sample = random.Random(7).sample(reviews, min(REVIEW_SAMPLE, len(reviews)))
        texts = [r[1] for r in sample]
        gold = [r[2] for r in sample]
        turns_r = anfu_sys.analyse(texts)
        result["reviews_polarity"] = {
            "n": len(sample),
            "anfu": polarity_accuracy(gold, [Anfu.polarity(t) for t in turns_r]),
            "snownlp": polarity_accuracy(gold, [int(p >= 0.5) for p in snownlp_scores(texts)]),
            "cnsenti": polarity_accuracy(gold, [int(cn.polarity_score(t) >= 0) for t in texts]),
        }

    speed_texts = [e.text for e in held][:SPEED_TEXTS]
    result.update(speed(anfu_sys, speed_texts))
    result["targets"] = TARGETS
    result["headline"] = HEADLINE
    return result
