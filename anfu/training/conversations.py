"""Our written, fully labelled conversations (corpus/conversations/*.jsonl; corpus/LABELS.md)
for the conversation-level models (`anfu.training.persona`, `anfu.training.sop`).

A conversation is held out when `is_heldout(id)`; nothing is fit or tuned on those. Each is
analysed with the turn components that run before persona and SOP in the default pipeline,
so a model learns from the same (predicted, never gold) emotion, intensity, abuse and threat
labels it will read at inference.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..errors import ModelError
from ..glossary import PERSONAS, SOP_STAGES
from ..types import Assessment, Conversation, Utterance
from .data import CORPUS_DIR, _read_rows, is_heldout

# the components before persona and SOP whose per-turn labels they read
TURN_PIPELINE = ["anfu.normalize.v1", "anfu.risk.v1", "anfu.abuse.v1", "anfu.emotion.v1"]
UNKNOWN = "unknown"
CV_FOLDS = 5


@dataclass(frozen=True)
class LabelledConversation:
    id: str
    persona: str  # one of PERSONAS or "unknown"
    stages: tuple[str, ...]  # the SOP stage after each turn
    conversation: Conversation
    source: str

    @property
    def heldout(self) -> bool:
        return is_heldout(self.id)


def _check(obj: Any, where: str, source: str) -> LabelledConversation:
    if not isinstance(obj, dict) or not isinstance(obj.get("id"), str) or not isinstance(obj.get("turns"), list):
        raise ModelError("AF203", f"{where}: expected an object with id and turns")
    persona = obj.get("persona", UNKNOWN)
    if persona not in (*PERSONAS, UNKNOWN):
        raise ModelError("AF203", f"{where}: persona {persona!r} is not one of {', '.join(PERSONAS)} or unknown")
    turns, stages = [], []
    for i, turn in enumerate(obj["turns"]):
        if (not isinstance(turn, dict) or turn.get("speaker") not in ("customer", "agent")
                or not isinstance(turn.get("text"), str) or not turn["text"].strip()):
            raise ModelError("AF203", f"{where}: turn {i} needs a speaker (customer|agent) and text")
        if turn.get("sop_stage") not in SOP_STAGES:
            raise ModelError("AF203", f"{where}: turn {i} sop_stage must be one of {', '.join(SOP_STAGES)}")
        turns.append(Utterance(text=turn["text"], speaker=turn["speaker"]))
        stages.append(turn["sop_stage"])
    if not turns:
        raise ModelError("AF203", f"{where}: a conversation needs turns")
    industry = obj.get("industry") if isinstance(obj.get("industry"), str) else None
    return LabelledConversation(obj["id"], persona, tuple(stages),
                                Conversation(turns=tuple(turns), id=obj["id"], industry=industry), source)


def load_conversation_file(path: str | Path, source: str = "user") -> list[LabelledConversation]:
    """Labelled conversations from a JSON Lines file (the format of corpus/LABELS.md)."""
    path = Path(path)
    out = [_check(obj, where, source) for where, obj in _read_rows(path)]
    if not out:
        raise ModelError("AF202", f"{path} (no conversations)")
    return out


def default_conversations(corpus_dir: str | Path = CORPUS_DIR) -> list[LabelledConversation]:
    """The shipped written conversations (corpus/conversations/*.jsonl); empty when absent."""
    out: list[LabelledConversation] = []
    for path in sorted(Path(corpus_dir, "conversations").glob("*.jsonl")):
        out.extend(load_conversation_file(path, source="written"))
    return out


def analyse(rows: Sequence[LabelledConversation]) -> list[Assessment]:
    """Each conversation run through `TURN_PIPELINE` (the labels persona and SOP read)."""
    from ..pipeline import load

    analyzer = load({"pipeline": {"components": TURN_PIPELINE}})
    return list(analyzer.pipe([r.conversation for r in rows], batch_size=64))


def fold_of(record_id: str, folds: int = CV_FOLDS) -> int:
    """The cross-validation fold of a non-held-out conversation (by a hash of its id)."""
    return int(hashlib.sha1(f"cv/{record_id}".encode("utf-8")).hexdigest(), 16) % folds


def split(rows: Iterable[LabelledConversation]) -> tuple[list[int], list[int]]:
    """(training indices, held-out indices) of `rows`."""
    train, held = [], []
    for i, r in enumerate(rows):
        (held if r.heldout else train).append(i)
    return train, held
