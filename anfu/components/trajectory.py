"""Trajectory of a conversation: start, peak and end intensity, trend, and whether the
customer was calmed (安抚成功: peak ≥ 3 and the last customer turns ≤ 1 after agent turns)."""

from __future__ import annotations

from typing import Any, Sequence

from .. import registry
from ..types import Assessment, TrajectoryResult
from .base import Component

CALM_PEAK = 3
CALM_END = 1


def trajectory(intensities: list[int]) -> TrajectoryResult:
    """Start, peak, end and trend of a sequence of customer intensities."""
    if not intensities:
        return TrajectoryResult(start=0, peak=0, end=0, trend="flat")
    start, end = intensities[0], intensities[-1]
    trend = "rising" if end > start else "falling" if end < start else "flat"
    return TrajectoryResult(start=start, peak=max(intensities), end=end, trend=trend)


def calmed(speakers: list[str], intensities: list[int | None]) -> bool:
    """True when the customer peaked at ≥ 3, an agent replied after the (last) peak, and
    the customer's last turn after that reply is ≤ 1."""
    cust = [(i, v) for i, (s, v) in enumerate(zip(speakers, intensities)) if s == "customer" and v is not None]
    if not cust:
        return False
    peak = max(v for _, v in cust)
    if peak < CALM_PEAK:
        return False
    last_peak_idx = max(i for i, v in cust if v == peak)
    last_idx, last_value = cust[-1]
    agent_between = any(s == "agent" for s in speakers[last_peak_idx + 1:last_idx])
    return agent_between and last_value <= CALM_END


@registry.components.register("anfu.trajectory.v1")
class Trajectory(Component):
    name = "anfu.trajectory.v1"
    provides = ("trajectory", "calmed")
    requires = ("turn.intensity",)

    def predict(self, docs: Sequence[Assessment]) -> list[tuple[TrajectoryResult, bool] | None]:
        out: list[tuple[TrajectoryResult, bool] | None] = []
        for doc in docs:
            if doc.is_utterance:
                out.append(None)
                continue
            speakers = [t.speaker for t in doc.turns]
            values = [t.intensity for t in doc.turns]
            cust = [v for s, v in zip(speakers, values) if s == "customer" and v is not None]
            out.append((trajectory(cust), calmed(speakers, values)))
        return out

    def set_annotations(self, docs: Sequence[Assessment], outputs: list[Any]) -> None:
        for doc, result in zip(docs, outputs):
            if result is not None:
                doc.trajectory, doc.calmed = result


@registry.components.register("anfu.trajectory.v2")
class TrajectoryOnly(Trajectory):
    """The trajectory alone: 安抚成功 is decided by `anfu.outcome.v1` (learned from real
    satisfaction ratings), so this version leaves `calmed` to it (one owner per field)."""

    name = "anfu.trajectory.v2"
    provides = ("trajectory",)

    def set_annotations(self, docs: Sequence[Assessment], outputs: list[Any]) -> None:
        for doc, result in zip(docs, outputs):
            if result is not None:
                doc.trajectory = result[0]
