"""Labelled data for training and evaluation, and the fixed held-out split."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import random
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from ..errors import ModelError
from ..glossary import EMOTIONS

HELDOUT_MODULUS = 5


def is_heldout(record_id: str) -> bool:
    """The fixed held-out split: one record in five, by a hash of its id (never edit ids).
    Real dialogues split by dialogue, never by turn: an STC-3 turn (`stc3-<dialogue>-<turn>`)
    is held out when its dialogue's numeric id modulo 5 is 0, the fold every real-text figure
    (emotion, pre-send, quality score) is reported on."""
    if record_id.startswith("stc3-"):
        dialogue = record_id.split("-")[1]
        if dialogue.isdigit():
            return int(dialogue) % HELDOUT_MODULUS == 0
    return int(hashlib.sha1(record_id.encode("utf-8")).hexdigest(), 16) % HELDOUT_MODULUS == 0


REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS_DIR = REPO_ROOT / "corpus"
STC3_CUSTOMER_LABELS = CORPUS_DIR / "real" / "stc3_customer.jsonl"
# the two independent labelling passes behind the adjudicated labels above (labels only)
STC3_CUSTOMER_PASSES = (CORPUS_DIR / "real" / "stc3_customer_first_pass.jsonl",
                        CORPUS_DIR / "real" / "stc3_customer_second_pass.jsonl")
# share of an STC-3 turn's weight given to the emotion a labelling pass chose where the
# adjudicated label differs (chosen by scripts/emotion_cv.py on the training folds: 0.25 over 0.4)
PASS_SHARE = 0.25
STC3_HELPDESK_LABELS = CORPUS_DIR / "real" / "stc3_helpdesk.jsonl"

# How much one example of each source counts when fitting. Our own service corpus (and a
# centre's own data) is the target domain; the public sets only widen the vocabulary.
# Real customer turns (STC-3, labelled by us) weigh most; our relabels of SMP2020 posts and product
# reviews widen the vocabulary; SMP2020's own labels (mapped) keep general Weibo usage in view.
SOURCE_WEIGHTS: dict[str, float] = {
    "service": 3.0, "user": 3.0, "stc3": 4.0, "smp2020": 0.5, "reviews": 0.5, "smp2020_mapped": 1.0,
    "general": 1.0,
}


@dataclass(frozen=True)
class Example:
    """One labelled text. `intensity` is None where the source has no intensity label."""

    id: str
    text: str
    emotion: str
    intensity: int | None
    source: str
    weight: float = 1.0
    escalation_risk: bool | None = None
    follow_up: bool = False  # a customer's later turn in a dialogue (after the agent replied)

    @property
    def heldout(self) -> bool:
        return is_heldout(self.id)


def public_data_dir() -> Path:
    """Where the third-party sets live: $ANFU_PUBLIC_DATA, else ../shared/data beside the repo."""
    env = os.environ.get("ANFU_PUBLIC_DATA")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data"


def _check_row(obj: Any, where: str) -> tuple[str, str, int | None]:
    """(text, emotion, intensity) of a labelled row; AF203 naming the row when it is wrong."""
    if not isinstance(obj, dict):
        raise ModelError("AF203", f"{where}: expected an object with text and emotion")
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ModelError("AF203", f"{where}: \"text\" must be a non-empty string")
    emotion = obj.get("emotion")
    if isinstance(emotion, str):
        emotion = emotion.strip()
    if emotion not in EMOTIONS:
        raise ModelError("AF203", f"{where}: emotion {emotion!r} is not one of {', '.join(EMOTIONS)}")
    intensity = obj.get("intensity")
    if intensity in (None, ""):
        return text, emotion, None
    try:
        value = int(str(intensity).strip())
    except ValueError:
        raise ModelError("AF203", f"{where}: intensity {intensity!r} must be an integer 0..4") from None
    if not 0 <= value <= 4 or str(value) != str(intensity).strip():
        raise ModelError("AF203", f"{where}: intensity {intensity!r} must be an integer 0..4")
    return text, emotion, value


def _read_rows(path: Path) -> Iterator[tuple[str, Any]]:
    """(row label, object) for each row of a JSON Lines or CSV file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ModelError("AF202", f"{path} ({exc.strerror})") from None
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ModelError("AF203", f"{path}: the file is not UTF-8; re-save it as UTF-8") from None
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(content))
        if not reader.fieldnames or "text" not in reader.fieldnames or "emotion" not in reader.fieldnames:
            raise ModelError("AF202", f"{path} (the CSV header needs the columns text and emotion)")
        for number, row in enumerate(reader, start=2):
            yield f"{path}:{number}", row
        return
    for number, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield f"{path}:{number}", json.loads(line)
        except json.JSONDecodeError as exc:
            raise ModelError("AF203", f"{path}:{number}: not valid JSON ({exc.msg})") from None


def load_labelled_file(path: str | Path, source: str = "user") -> list[Example]:
    """Labelled JSONL or CSV (text, emotion, optional intensity and id); AF202/AF203 when bad."""
    path = Path(path)
    examples = []
    for where, obj in _read_rows(path):
        text, emotion, intensity = _check_row(obj, where)
        rid = obj.get("id") if isinstance(obj.get("id"), str) and obj.get("id") else f"{path.name}:{where.rsplit(':', 1)[1]}"
        risk = obj.get("escalation_risk")
        examples.append(Example(id=rid, text=text, emotion=emotion, intensity=intensity, source=source,
                                weight=SOURCE_WEIGHTS.get(source, 1.0),
                                escalation_risk=risk if isinstance(risk, bool) else None))
    if not examples:
        raise ModelError("AF202", f"{path} (each row needs text and emotion)")
    return examples


def load_service(corpus_dir: str | Path = CORPUS_DIR) -> list[Example]:
    """Our own labelled customer utterances (corpus/service/*.jsonl)."""
    out: list[Example] = []
    for path in sorted(Path(corpus_dir, "service").glob("*.jsonl")):
        out.extend(load_labelled_file(path, source="service"))
    return out


def load_general(corpus_dir: str | Path = CORPUS_DIR) -> list[Example]:
    """Our own labelled general-talk posts (corpus/general/*.jsonl: first-person posts about one's
    own life, addressed to no service), for the emotion model's general head and domain gate."""
    out: list[Example] = []
    for path in sorted(Path(corpus_dir, "general").glob("*.jsonl")):
        out.extend(load_labelled_file(path, source="general"))
    return out


def stc3_turn_text(turn: dict[str, Any]) -> str:
    return " ".join(turn.get("utterances", []))


def stc3_conversation(dialogue: dict[str, Any]) -> Any:
    """An STC-3 dialogue as the analyzer reads it, turn by turn (an empty post, an image only,
    as "。" so that the turn numbers stay those of the labels)."""
    from ..types import Conversation, Utterance

    turns = tuple(Utterance(text=stc3_turn_text(t).strip() or "。",
                            speaker="customer" if t["sender"] == "customer" else "agent")
                  for t in dialogue["turns"])
    return Conversation(turns=turns, id=dialogue["id"])


def stc3_labelled_turns(labels_path: str | Path, data_dir: str | Path | None = None
                        ) -> Iterator[tuple[str, dict[str, Any], int, str]]:
    """(row label, label row, turn number, turn text) for each of our STC-3 label rows whose
    dialogue and turn exist in the STC-3 data; nothing when the data or the labels are absent."""
    source = Path(data_dir or public_data_dir()) / "stc3" / "train_data_cn.json"
    labels_path = Path(labels_path)
    if not source.is_file() or not labels_path.is_file():
        return
    dialogues = {d["id"]: d for d in json.loads(source.read_text(encoding="utf-8"))}
    for where, obj in _read_rows(labels_path):
        dialogue = dialogues.get(str(obj.get("dialogue_id")))
        turn_no = obj.get("turn")
        if dialogue is None or not isinstance(turn_no, int) or not 0 <= turn_no < len(dialogue["turns"]):
            continue
        yield where, obj, turn_no, stc3_turn_text(dialogue["turns"][turn_no])


def load_stc3(labels_path: str | Path = STC3_CUSTOMER_LABELS,
              data_dir: str | Path | None = None) -> list[Example]:
    """Our hand labels of STC-3 customer turns joined with their texts (skipped when the
    texts are absent); a label whose text hash differs from the data is dropped."""
    out = []
    for where, obj, turn_no, text in stc3_labelled_turns(labels_path, data_dir):
        if not text.strip():  # an empty post (an image only): nothing to learn from
            continue
        if hashlib.sha1(text.encode("utf-8")).hexdigest()[: len(str(obj.get("sha1", "")))] != obj.get("sha1"):
            continue
        _, emotion, intensity = _check_row({**obj, "text": text}, where)
        risk = obj.get("escalation_risk")
        out.append(Example(id=f"stc3-{obj['dialogue_id']}-{turn_no}", text=text, emotion=emotion,
                           intensity=intensity, source="stc3", weight=SOURCE_WEIGHTS["stc3"],
                           escalation_risk=risk if isinstance(risk, bool) else None, follow_up=turn_no > 0))
    return out


def pass_emotions(paths: Iterable[str | Path] = STC3_CUSTOMER_PASSES) -> dict[str, set[str]]:
    """Per STC-3 row id (`stc3-<dialogue>-<turn>`), the emotions the labelling passes chose."""
    out: dict[str, set[str]] = {}
    for path in paths:
        path = Path(path)
        if not path.is_file():
            continue
        for _where, obj in _read_rows(path):
            if obj.get("emotion") in EMOTIONS:
                out.setdefault(f"stc3-{obj.get('dialogue_id')}-{obj.get('turn')}", set()).add(obj["emotion"])
    return out


def with_pass_labels(examples: Iterable[Example], share: float = PASS_SHARE,
                     passes: dict[str, set[str]] | None = None) -> list[Example]:
    """Learning from the labellers' disagreement: an STC-3 turn whose labelling passes chose an
    emotion other than the adjudicated one keeps `1 - share` of its weight on the adjudicated
    label and gives `share` to the other pass's (split if both differ), as a second row with the
    same id (so the same dev and held-out membership). Other rows are unchanged."""
    from dataclasses import replace

    passes = pass_emotions() if passes is None else passes
    out: list[Example] = []
    for e in examples:
        others = sorted(passes.get(e.id, set()) - {e.emotion}) if e.source == "stc3" else []
        if not others or share <= 0:
            out.append(e)
            continue
        out.append(replace(e, weight=e.weight * (1 - share)))
        out += [replace(e, emotion=o, weight=e.weight * share / len(others)) for o in others]
    return out


# SMP2020-EWECT labels → ours. `angry` splits by strength: shouting, profanity or rage words
# make it `angry`, otherwise it is a complaint (`dissatisfied`). `surprise` is dropped.
SMP_MAP = {"happy": "satisfied", "sad": "disappointed", "fear": "anxious", "neutral": "neutral"}
_STRONG_ANGER = re.compile(r"[!！]{2,}|妈的|他妈|尼玛|你妈|傻[逼bB]|sb|卧槽|我靠|滚|去死|气死|混蛋|王八|操你|"
                           r"垃圾|恶心|贱|畜生|tm|忍无可忍|愤怒|火大|🤬|😡|😠", re.IGNORECASE)


def map_smp_label(label: str, text: str) -> str | None:
    if label == "angry":
        return "angry" if _STRONG_ANGER.search(text) else "dissatisfied"
    return SMP_MAP.get(label)


SMP_TRAIN_FILES = ("virus_train.txt", "virus_eval_labeled.txt")
SMP_BENCH_FILE = "usual_eval_labeled.txt"  # a benchmark set: never train on it


def load_smp2020(files: Iterable[str] = SMP_TRAIN_FILES, data_dir: str | Path | None = None) -> list[Example]:
    base = Path(data_dir or public_data_dir()) / "smp2020"
    out = []
    for name in files:
        path = base / name
        if not path.is_file():
            continue
        stem = name.split(".")[0]
        for item in json.loads(path.read_text(encoding="utf-8")):
            text = str(item.get("content") or "").strip()
            emotion = map_smp_label(str(item.get("label")), text)
            if not text or emotion is None:
                continue
            out.append(Example(id=f"smp-{stem}-{item['id']}", text=text, emotion=emotion,
                               intensity=0 if emotion == "neutral" else None, source="smp2020_mapped",
                               weight=SOURCE_WEIGHTS["smp2020_mapped"]))
    return out


def load_reviews(data_dir: str | Path | None = None) -> list[tuple[str, str, int]]:
    """(id, text, polarity 1/0) of every product review (empty when the zip is absent)."""
    path = Path(data_dir or public_data_dir()) / "reviews" / "online_shopping_10_cats.zip"
    if not path.is_file():
        return []
    out = []
    with zipfile.ZipFile(path) as archive:
        with archive.open("online_shopping_10_cats.csv") as fh:
            reader = csv.reader(io.TextIOWrapper(fh, encoding="utf-8-sig"))
            next(reader, None)
            for number, row in enumerate(reader):
                if len(row) >= 3 and row[2].strip() and row[1] in ("0", "1"):
                    out.append((f"review-{number}", row[2].strip(), int(row[1])))
    return out


def review_examples(per_polarity: int = 800, data_dir: str | Path | None = None, seed: int = 13) -> list[Example]:
    """A small, fixed sample of non-held-out reviews: negative → dissatisfied, positive →
    satisfied (product reviews are not service talk, so they are used sparingly)."""
    rows = [r for r in load_reviews(data_dir) if not is_heldout(r[0]) and len(r[1]) <= 120]
    rng = random.Random(seed)
    out = []
    for polarity, emotion in ((0, "dissatisfied"), (1, "satisfied")):
        pool = [r for r in rows if r[2] == polarity]
        for rid, text, _ in rng.sample(pool, min(per_polarity, len(pool))):
            out.append(Example(id=rid, text=text, emotion=emotion, intensity=None, source="reviews",
                               weight=SOURCE_WEIGHTS["reviews"]))
    return out


def _smp_texts(files: Iterable[str], data_dir: str | Path | None) -> dict[str, str]:
    base = Path(data_dir or public_data_dir()) / "smp2020"
    out = {}
    for name in files:
        path = base / name
        if path.is_file():
            stem = name.split(".")[0]
            for item in json.loads(path.read_text(encoding="utf-8")):
                text = str(item.get("content") or "").strip()
                if text:
                    out[f"smp-{stem}-{item['id']}"] = text
    return out


def load_relabelled(kind: str, corpus_dir: str | Path = CORPUS_DIR,
                    data_dir: str | Path | None = None) -> list[Example]:
    """Our hand labels (corpus/real/) of SMP2020 virus posts (`kind="smp2020"`) or product reviews
    (`kind="reviews"`) in the 7 service labels, joined with their texts by id; a label whose text
    hash differs from the data is dropped, nothing when the data is absent."""
    labels = Path(corpus_dir) / "real" / ("smp2020_virus.jsonl" if kind == "smp2020" else "reviews.jsonl")
    texts = (_smp_texts(SMP_TRAIN_FILES, data_dir) if kind == "smp2020"
             else {rid: text for rid, text, _ in load_reviews(data_dir)})
    if not labels.is_file() or not texts:
        return []
    out = []
    for where, obj in _read_rows(labels):
        text = texts.get(str(obj.get("id")))
        if text is None or hashlib.sha1(text.encode("utf-8")).hexdigest()[:len(str(obj.get("sha1", "")))] != obj.get("sha1"):
            continue
        _, emotion, intensity = _check_row({**obj, "text": text}, where)
        risk = obj.get("escalation_risk")
        out.append(Example(id=str(obj["id"]), text=text, emotion=emotion, intensity=intensity, source=kind,
                           weight=SOURCE_WEIGHTS[kind], escalation_risk=risk if isinstance(risk, bool) else None))
    return out


def default_examples(public: bool = True, corpus_dir: str | Path = CORPUS_DIR,
                     data_dir: str | Path | None = None) -> list[Example]:
    """The shipped training set: our service corpus and general-talk posts, plus (when `public`)
    every STC-3 customer turn we labelled, our relabels of SMP2020 virus_train + virus_eval and of
    12,000 product reviews, and SMP2020's own labels mapped to ours."""
    examples = load_service(corpus_dir) + load_general(corpus_dir)
    if public:
        examples += load_stc3(Path(corpus_dir) / "real" / "stc3_customer.jsonl", data_dir)
        examples += load_relabelled("smp2020", corpus_dir, data_dir)
        examples += load_relabelled("reviews", corpus_dir, data_dir)
        examples += load_smp2020(data_dir=data_dir)
    return examples


def our_heldout(corpus_dir: str | Path = CORPUS_DIR, data_dir: str | Path | None = None) -> list[Example]:
    """The held-out split of our own labels (service corpus + labelled STC-3 turns)."""
    ours = load_service(corpus_dir) + load_stc3(Path(corpus_dir) / "real" / "stc3_customer.jsonl", data_dir)
    return [e for e in ours if e.heldout]
