"""Surface cues of emotional intensity: exclamation, question runs, emoji, shouting."""

from __future__ import annotations

import re
from dataclasses import dataclass

_EXCL = re.compile(r"！{2,}")
_QUES = re.compile(r"？{2,}")
_MIXED = re.compile(r"[？！]{3,}")
_SHOUT = re.compile(r"[A-Z]{4,}")
_ELLIPSIS = re.compile(r"(?:\.{3,}|。{2,}|…+)")
_EMOJI_ANGRY = set("😡😠🤬👿💢😤🖕")
_EMOJI_SAD = set("😭😢😞😔😿💔😩😫")
_EMOJI_HAPPY = set("😊😄😁👍🙏❤😃☺🥰🌹💐")
_EMOJI_WORRY = set("😰😟😨😱🥺😣")


@dataclass(frozen=True)
class Cues:
    exclaim_runs: int
    question_runs: int
    mixed_runs: int
    shouting: bool
    ellipsis: int
    angry_emoji: int
    sad_emoji: int
    happy_emoji: int
    worry_emoji: int
    length: int

    @property
    def arousal(self) -> float:
        """0..1: how much the surface shouts, independent of the words."""
        score = 0.25 * min(self.exclaim_runs, 2) + 0.15 * min(self.question_runs, 2)
        score += 0.2 * min(self.mixed_runs, 1) + 0.2 * self.shouting + 0.25 * min(self.angry_emoji, 2)
        return min(score, 1.0)


def extract(norm: str, original: str | None = None) -> Cues:
    """Cues from the normalised text (shouting is read from the original's capitals)."""
    raw = original if original is not None else norm
    return Cues(
        exclaim_runs=len(_EXCL.findall(norm)),
        question_runs=len(_QUES.findall(norm)),
        mixed_runs=len(_MIXED.findall(norm)),
        shouting=bool(_SHOUT.search(raw)),
        ellipsis=len(_ELLIPSIS.findall(norm)),
        angry_emoji=sum(map(_EMOJI_ANGRY.__contains__, raw)),
        sad_emoji=sum(map(_EMOJI_SAD.__contains__, raw)),
        happy_emoji=sum(map(_EMOJI_HAPPY.__contains__, raw)),
        worry_emoji=sum(map(_EMOJI_WORRY.__contains__, raw)),
        length=len(norm),
    )


def spans(norm: str) -> list[tuple[str, int, int]]:
    """(cue name, start, end) for explaining intensity decisions."""
    out: list[tuple[str, int, int]] = []
    for name, rx in (("exclaim", _EXCL), ("question", _QUES), ("mixed", _MIXED)):
        out.extend((name, m.start(), m.end()) for m in rx.finditer(norm))
    for i, ch in enumerate(norm):
        if ch in _EMOJI_ANGRY:
            out.append(("angry_emoji", i, i + 1))
        elif ch in _EMOJI_SAD:
            out.append(("sad_emoji", i, i + 1))
    return out
