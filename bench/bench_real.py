"""Validity on real text and real judgements (issues 9, 10, 16), every figure on held-out data.

- Recognition on real customer turns: every STC-3 customer turn hand-labelled by us; the fold of
  dialogues whose id % 5 == 0 is never trained on. Analysed in context (whole dialogues), as the
  live service sees them. The two labelling passes' agreement is printed beside it as the ceiling,
  with the learning curve (macro-F1 against the number of real labels, model alone).
- SMP2020 usual_eval (never trained on) mapped to its 5 classes; our written held-out split.
- Escalation risk on real and written held-out turns; abuse (辱骂) on real held-out turns.
- The pre-send check per agent turn in context: written conversations (held-out), real helpdesk
  turns (held-out dialogues), standalone replies (held-out).
- The ladder on held-out written conversations (`supervisor_alert`), and on the fresh set
  (`corpus/fresh/ladder_fresh.jsonl`: 150 conversations written after the ladder was frozen, blind
  to its rules, never trained on), with the two labelling passes' agreement there. Both sets'
  false alerts have been read while changing the rules (sessions 10–12), so they are no longer
  blind checks of the ladder. A second fresh set (`corpus/fresh/ladder_fresh2.jsonl`, 150
  conversations written blind on 2026-12-07, every turn labelled, alert and violations labelled
  twice) checks the ladder, the in-context pre-send check, escalation risk and emotion afresh.
- Quality score and 安抚成功 against the 19 annotators' satisfaction (S/A/E) of the held-out
  STC-3 dialogues, with the last turn's valence as the reference line.
- Persona and SOP stage on held-out written conversations, when their metrics files exist; the
  persona also on our labels of real STC-3 dialogues (held-out ones), beside the rules alone and
  the model without its corroboration rule (the previous release's behaviour) in the same run.
- Speed: full-pipeline conversation latency per new turn (live, memo on) p50/p99.

Peers in the same run: the label agreement (ceiling), the reference lines above, and on usual_eval
a plain char TF-IDF + logistic regression trained on the SMP2020 posts we have (the issue's peer).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = ROOT / "anfu" / "backends" / "weights"
SMP5 = {"dissatisfied": "angry", "doubtful": "neutral"}  # ours → SMP's 5 classes

TARGETS = {
    "emotion_real.macro_f1": [">=", 0.65],
    "escalation_real.precision": [">=", 0.85],
    "escalation_real.recall": [">=", 0.90],
    "smp_usual_eval_5.macro_f1": [">=", 0.62],
    "emotion_written.macro_f1": [">=", 0.85],
    "presend_written.precision": [">=", 0.90],
    "presend_written.recall": [">=", 0.90],
    "presend_real.precision": [">=", 0.75],
    "presend_real.recall": [">=", 0.65],
    "presend_standalone.precision": [">=", 0.95],
    "presend_standalone.recall": [">=", 0.94],
    "ladder.recall": [">=", 1.0],
    "ladder.precision": [">=", 0.90],
    "ladder_fresh.recall": [">=", 1.0],
    "ladder_fresh.precision": [">=", 0.90],
    "ladder_fresh2.recall": [">=", 1.0],
    "ladder_fresh2.precision": [">=", 0.90],
    "presend_fresh2.precision": [">=", 0.90],
    "presend_fresh2.recall": [">=", 0.90],
    "outcome.quality_spearman.S": [">=", 0.55],
    "outcome.quality_spearman.A": [">=", 0.45],
    "outcome.calm_auc_upset": [">=", 0.75],
    "latency_ms.conversation_turn_p99": ["<=", 20.0],
}
HEADLINE = ["agreement.emotion.macro_f1", "agreement.emotion.kappa", "agreement.escalation_risk.f1",
            "agreement.helpdesk.kappa", "agreement_fresh_alert", "agreement_fresh2", "emotion_real.n", "learning_curve", "outcome.last_valence_spearman.S",
            "outcome.last_valence_auc_upset", "persona", "persona_real", "sop"]


def _prf(gold: list[bool], pred: list[bool]) -> dict[str, Any]:
    tp = sum(g and p for g, p in zip(gold, pred))
    return {"n": len(gold), "positives": sum(gold), "flagged": sum(pred),
            "precision": round(tp / sum(pred), 3) if sum(pred) else 0.0,
            "recall": round(tp / sum(gold), 3) if sum(gold) else 0.0}


def _stc3_conversations() -> list[Any]:
    from anfu.training.data import public_data_dir, stc3_conversation

    data = json.loads((public_data_dir() / "stc3" / "train_data_cn.json").read_text(encoding="utf-8"))
    return [stc3_conversation(d) for d in data if int(d["id"]) % 5 == 0]


def real_turns(analyzer: Any) -> dict[str, Any]:
    """Emotion, escalation and pre-send on the held-out STC-3 dialogues, analysed whole."""
    from anfu.training.data import STC3_CUSTOMER_LABELS, STC3_HELPDESK_LABELS, load_stc3
    from anfu.training.train import classification_scores

    labels = {e.id: e for e in load_stc3() if e.heldout}
    abusive = {f"stc3-{r['dialogue_id']}-{r['turn']}": r.get("abusive") for r in map(
        json.loads, STC3_CUSTOMER_LABELS.read_text(encoding="utf-8").splitlines())}
    helpdesk = {(r["dialogue_id"], r["turn"]): r for r in map(json.loads, STC3_HELPDESK_LABELS.read_text(
        encoding="utf-8").splitlines())}
    gold, pred, risk_g, risk_p, vio_g, vio_p, abuse_g, abuse_p = [], [], [], [], [], [], [], []
    for doc in analyzer.pipe(_stc3_conversations(), batch_size=32):
        for i, turn in enumerate(doc.turns):
            key = f"stc3-{doc.conversation.id}-{i}"
            if turn.speaker == "customer" and key in labels:
                gold.append(labels[key].emotion)
                pred.append(turn.emotion)
                risk_g.append(bool(labels[key].escalation_risk))
                risk_p.append(bool(turn.escalation_risk))
                if isinstance(abusive.get(key), bool):
                    abuse_g.append(abusive[key])
                    abuse_p.append(bool(turn.abusive))
            elif turn.speaker == "agent" and (doc.conversation.id, i) in helpdesk:
                vio_g.append(bool(helpdesk[(doc.conversation.id, i)]["violation"]))
                vio_p.append(bool(turn.violation))
    return {"emotion_real": classification_scores(gold, pred), "escalation_real": _prf(risk_g, risk_p),
            "abuse_real": _prf(abuse_g, abuse_p), "presend_real": _prf(vio_g, vio_p)}


def written(analyzer: Any) -> dict[str, Any]:
    """Written held-out split: utterances (emotion, escalation), conversations (pre-send, ladder)."""
    from anfu.training.data import is_heldout, load_service
    from anfu.training.train import classification_scores
    from anfu.types import Conversation, Utterance

    held = [e for e in load_service() if e.heldout]
    turns = [a.turns[0] for a in analyzer.pipe([Utterance(text=e.text) for e in held], batch_size=64)]
    risky = [(e, t) for e, t in zip(held, turns) if e.escalation_risk is not None]
    convs = [json.loads(line) for path in sorted((ROOT / "corpus" / "conversations").glob("*.jsonl"))
             for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    convs = [c for c in convs if is_heldout(c["id"])]
    vio_g, vio_p, alert_g, alert_p = [], [], [], []
    docs = analyzer.pipe([Conversation.from_texts([(t["speaker"], t["text"]) for t in c["turns"]], id=c["id"])
                          for c in convs], batch_size=32)
    for conv, doc in zip(convs, docs):
        for t, ta in zip(conv["turns"], doc.turns):
            if t["speaker"] == "agent":
                vio_g.append(bool(t["violation"]))
                vio_p.append(bool(ta.violation))
        alert_g.append(bool(conv["supervisor_alert"]))
        alert_p.append(doc.escalation is not None and doc.escalation.level >= 1)
    return {"emotion_written": classification_scores([e.emotion for e in held], [t.emotion for t in turns]),
            "escalation_written": _prf([bool(e.escalation_risk) for e, _ in risky],
                                       [bool(t.escalation_risk) for _, t in risky]),
            "presend_written": _prf(vio_g, vio_p), "ladder": _prf(alert_g, alert_p)}


def _kappa(pairs: list[tuple[bool, bool]]) -> dict[str, Any]:
    """Agreement and Cohen's kappa of two passes' yes/no calls."""
    n = len(pairs)
    agree = sum(a == b for a, b in pairs) / n
    pa, pb = sum(a for a, _ in pairs) / n, sum(b for _, b in pairs) / n
    chance = pa * pb + (1 - pa) * (1 - pb)
    return {"n": n, "agreement": round(agree, 3),
            "kappa": round((agree - chance) / (1 - chance), 3) if chance < 1 else 1.0}


def fresh_ladder(analyzer: Any, name: str = "ladder_fresh") -> dict[str, Any]:
    """The ladder on a fresh set (`corpus/fresh/<name>.jsonl`, written blind to the rules, never
    trained on), and the agreement of its two independent labelling passes. Where the set labels
    every turn (the second fresh set), also the in-context pre-send check per agent turn, escalation
    risk per customer turn and emotion (single-labelled), and the passes' agreement on violations."""
    from anfu.training.train import classification_scores
    from anfu.types import Conversation

    path = ROOT / "corpus" / "fresh" / f"{name}.jsonl"
    if not path.is_file():
        return {}
    convs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    docs = analyzer.pipe([Conversation.from_texts([(t["speaker"], t["text"]) for t in c["turns"]], id=c["id"])
                          for c in convs], batch_size=32)
    gold = [bool(c["supervisor_alert"]) for c in convs]
    pred, vio_g, vio_p, risk_g, risk_p, emo_g, emo_p = [], [], [], [], [], [], []
    for conv, doc in zip(convs, docs):
        pred.append(doc.escalation is not None and doc.escalation.level >= 1)
        for t, ta in zip(conv["turns"], doc.turns):
            if t["speaker"] == "agent" and "violation" in t:
                vio_g.append(bool(t["violation"]))
                vio_p.append(bool(ta.violation))
            elif t["speaker"] == "customer" and "emotion" in t:
                risk_g.append(bool(t["escalation_risk"]))
                risk_p.append(bool(ta.escalation_risk))
                emo_g.append(t["emotion"])
                emo_p.append(ta.emotion)
    out: dict[str, Any] = {name: _prf(gold, pred)}
    suffix = name.removeprefix("ladder_fresh")
    if name != "ladder_fresh":
        out[f"presend_fresh{suffix}"] = _prf(vio_g, vio_p)
        out[f"escalation_fresh{suffix}"] = _prf(risk_g, risk_p)
        out[f"emotion_fresh{suffix}"] = classification_scores(emo_g, emo_p)
    second = path.with_name(f"{name}_second_pass.jsonl")
    if second.is_file():
        other = {r["id"]: r for r in (json.loads(line) for line in second.read_text(encoding="utf-8").splitlines()
                                      if line.strip())}
        pairs = [(bool(c["supervisor_alert"]), bool(other[c["id"]]["supervisor_alert"])) for c in convs if c["id"] in other]
        if pairs and name == "ladder_fresh":
            out["agreement_fresh_alert"] = _kappa(pairs)
        elif pairs:
            calls = [(bool(c["turns"][a["turn"]]["violation"]), bool(a["violation"]))
                     for c in convs if c["id"] in other for a in other[c["id"]].get("agents") or []]
            feelings = [(c["turns"][e["turn"]]["emotion"], e["emotion"])
                        for c in convs if c["id"] in other for e in other[c["id"]].get("customers") or []]
            agreement: dict[str, Any] = {"alert": _kappa(pairs)}
            if calls:
                agreement["violation"] = _kappa(calls)
            if feelings:
                from sklearn.metrics import cohen_kappa_score

                first, second = [a for a, _ in feelings], [b for _, b in feelings]
                agreement["emotion"] = {"n": len(feelings),
                                        "macro_f1": classification_scores(first, second)["macro_f1"],
                                        "kappa": round(float(cohen_kappa_score(first, second)), 3)}
            out[f"agreement_fresh{suffix}"] = agreement
    return out


def standalone() -> dict[str, Any]:
    """Standalone replies (no conversation), held-out split, as `anfu check-reply` sees them."""
    from anfu.qa import default_checker
    from anfu.training.data import is_heldout

    rows = [json.loads(line) for path in sorted((ROOT / "corpus" / "replies").glob("*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if is_heldout(r["id"])]
    checker = default_checker()
    return {"presend_standalone": _prf([bool(r["violation"]) for r in rows],
                                       [checker.check(r["text"]).violation for r in rows])}


def smp_usual_eval(analyzer: Any) -> dict[str, Any]:
    from anfu.training.data import SMP_BENCH_FILE, load_smp2020
    from anfu.training.train import classification_scores
    from anfu.types import Utterance

    rows = load_smp2020(files=(SMP_BENCH_FILE,))
    turns = [a.turns[0] for a in analyzer.pipe([Utterance(text=e.text) for e in rows], batch_size=64)]
    gold = [SMP5.get(e.emotion, e.emotion) for e in rows]
    pred = [SMP5.get(t.emotion, t.emotion) for t in turns]
    scores = classification_scores(gold, pred)
    return {"smp_usual_eval_5": {"n": scores["n"], "macro_f1": scores["macro_f1"], "f1": scores["f1"],
                                 "peer_tfidf_lr": smp_usual_peer(rows)}}


def smp_usual_peer(rows: list[Any]) -> dict[str, Any]:
    """The peer the issue names: a plain char TF-IDF + logistic regression trained on the SMP2020
    posts in ../shared/data (virus_train + virus_eval, mapped as ours are) and scored on the same
    usual_eval rows. Three plain settings were tried once (char 1–3 grams, 1–3 balanced, 1–2
    balanced: 0.518 / 0.528 / 0.540 on 2026-12-07); the strongest is the peer."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from anfu.training.data import load_smp2020
    from anfu.training.train import classification_scores

    train = load_smp2020()
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True, min_df=2)
    model = LogisticRegression(max_iter=2000, C=4, class_weight="balanced")
    model.fit(vectorizer.fit_transform([e.text for e in train]), [SMP5.get(e.emotion, e.emotion) for e in train])
    pred = model.predict(vectorizer.transform([e.text for e in rows]))
    scores = classification_scores([SMP5.get(e.emotion, e.emotion) for e in rows], [str(p) for p in pred])
    return {"n_train": len(train), "n": scores["n"], "macro_f1": scores["macro_f1"], "f1": scores["f1"]}


def outcome() -> dict[str, Any]:
    from anfu.qa.outcome import default_model
    from anfu.training.outcome import evaluate_outcome, rated_dialogues

    rows = [r for r in rated_dialogues() if r.heldout]
    return {"outcome": evaluate_outcome(default_model(), rows)}


def learning_curve() -> list[dict[str, Any]]:
    """Model-alone macro-F1 on the real held-out turns against the share of real training labels
    (the other sources fixed), fitted with the shipped recipe (anfu.training.train._fit_model, the
    labelling passes' second labels included: `with_pass_labels`)."""
    import random

    from anfu.training.data import default_examples, with_pass_labels
    from anfu.training.train import _fit_model, evaluate

    examples = default_examples()
    real = [e for e in examples if e.source == "stc3" and not e.heldout]
    held = [e for e in examples if e.source == "stc3" and e.heldout]
    rest = [e for e in examples if e.source != "stc3" and not e.heldout]
    dialogues = sorted({e.id.split("-")[1] for e in real})
    random.Random(5).shuffle(dialogues)
    out = []
    for share in (0.0, 0.25, 0.5, 1.0):
        keep = set(dialogues[:int(len(dialogues) * share)])
        train = rest + with_pass_labels([e for e in real if e.id.split("-")[1] in keep])
        model = _fit_model(train, 1.0, {})
        out.append({"real_labels": sum(e.id.split("-")[1] in keep for e in real),
                    "macro_f1": evaluate(model, held)["macro_f1"]})
    return out


def latency(analyzer: Any) -> dict[str, float]:
    """Per new turn of a live conversation (window of 20 turns, memo on), milliseconds."""
    from anfu.types import Conversation

    convs = [c for c in _stc3_conversations()][:150]
    times = []
    for conv in convs:
        for n in range(1, len(conv.turns) + 1):
            window = Conversation(turns=conv.turns[max(0, n - 20):n], id=conv.id)
            started = time.perf_counter()
            analyzer(window)
            times.append((time.perf_counter() - started) * 1000)
    return {"conversation_turn_p50": round(float(np.percentile(times, 50)), 2),
            "conversation_turn_p99": round(float(np.percentile(times, 99)), 2), "turns": len(times)}


def persona_real(analyzer: Any) -> dict[str, Any]:
    """The persona on our labels of real held-out STC-3 dialogues (`corpus/real/stc3_persona.jsonl`,
    id % 5 == 0): the pipeline's answer beside the rules alone (`anfu.persona.v1`), the learned
    model without its typedness gate (with the corroboration rule it shipped with before the gate,
    3.0 / 0.97) and answering `unknown` every time, with the labellers' agreement."""
    from anfu.components.persona import LearnedPersona, Persona
    from anfu.training.persona import real_persona_scores, stc3_persona_labels

    held = [(label, d) for label, d in stc3_persona_labels() if int(d["id"]) % 5 == 0]
    if not held:
        return {}
    by_id = dict((d["id"], label) for label, d in held)
    rules = Persona()
    ungated = LearnedPersona(gate="none", corroboration=3.0, confident_probability=0.97)
    gold, shipped, alone, bare = [], [], [], []
    conversations = [c for c in _stc3_conversations() if c.id in by_id]
    for doc in analyzer.pipe(conversations, batch_size=32):
        gold.append(by_id[doc.conversation.id])
        shipped.append(doc.persona.type)
        alone.append(rules.predict([doc])[0].type)
        bare.append(ungated.predict([doc])[0].type)
    agreement = ROOT / "corpus" / "real" / "persona_agreement.json"
    return {"persona_real": {"anfu.persona.v2": real_persona_scores(gold, shipped),
                             "anfu.persona.v1": real_persona_scores(gold, alone),
                             "v2 without the gate (corroboration 3.0 / 0.97)": real_persona_scores(gold, bare),
                             "always unknown": real_persona_scores(gold, ["unknown"] * len(gold)),
                             "agreement": json.loads(agreement.read_text(encoding="utf-8"))}}


def run() -> dict[str, Any]:
    import anfu

    analyzer = anfu.load()
    result: dict[str, Any] = {"targets": TARGETS, "headline": HEADLINE,
                              "load_avg_start": os.getloadavg()[0]}
    agreement = ROOT / "corpus" / "real" / "agreement_before_adjudication.json"
    result["agreement"] = json.loads(agreement.read_text(encoding="utf-8"))
    result.update(real_turns(analyzer))
    result.update(written(analyzer))
    result.update(fresh_ladder(analyzer))
    result.update(fresh_ladder(analyzer, "ladder_fresh2"))
    result.update(standalone())
    result.update(smp_usual_eval(analyzer))
    result.update(outcome())
    result.update(persona_real(analyzer))
    for name in ("persona", "sop"):
        path = WEIGHTS / f"{name}.metrics.json"
        if path.is_file():
            result[name] = json.loads(path.read_text(encoding="utf-8")).get("heldout")
    result["latency_ms"] = latency(anfu.load())
    if os.environ.get("ANFU_BENCH_CURVE", "1") == "1":
        result["learning_curve"] = learning_curve()
    result["load_avg_end"] = os.getloadavg()[0]
    return result
