"""Training simulator: the latency of one simulated turn (the trainee's reply read by the
analyzer and the pre-send check, the customer's answer chosen), over every shipped scenario with
a mix of good, weak and forbidden replies, and of a whole session's summary (the 质检 score of
the transcript). Target: one turn p99 ≤ 50 ms.

`python -m bench.run simulator` (or `python bench/bench_simulator.py`); `ANFU_BENCH_SIM_SESSIONS`
sets how many sessions are played (default: two per scenario)."""

from __future__ import annotations

import gc
import os
import statistics
import time
from typing import Any

REPLIES = [
    "您好，非常抱歉让您久等了，换作是我也会着急，您慢慢说，我在听。",
    "请问家里或者您这边有什么特殊情况吗？对您影响大吗？",
    "这是我们公司的规定。",
    "嗯。",
    "我马上为您处理，今天下午5点前给您回复，工单号稍后短信发给您。",
    "您再等等吧。",
    "感谢您的理解，还有其他需要随时联系我们。",
    "不可能，绝对不会有这种事发生的。",
]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else 0.0


def _summary(values: list[float]) -> dict[str, float]:
    return {"n": len(values), "p50": round(_percentile(values, 0.5), 2), "p99": round(_percentile(values, 0.99), 2),
            "max": round(max(values), 2) if values else 0.0,
            "mean": round(statistics.fmean(values), 2) if values else 0.0}


def run() -> dict[str, Any]:
    from anfu.simulator import Simulator, default_analyzer, load_scenarios

    analyzer = default_analyzer()
    scenarios = load_scenarios()
    sessions = int(os.environ.get("ANFU_BENCH_SIM_SESSIONS", str(2 * len(scenarios))))
    # warm up: models, packs and the analyzer's memo of the openings
    Simulator(scenarios[0], 0, analyzer=analyzer).reply(REPLIES[0])
    # as `anfu serve` does: the long-lived rules and models leave the collector's sight
    gc.collect()
    gc.freeze()
    turn_ms: list[float] = []
    summary_ms: list[float] = []
    for n in range(sessions):
        scenario = scenarios[n % len(scenarios)]
        sim = Simulator(scenario, seed=n, analyzer=analyzer)
        sim.start()
        for k in range(6):
            text = REPLIES[(n + k) % len(REPLIES)]
            started = time.perf_counter()
            sim.reply(text)
            turn_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        sim.summary()
        summary_ms.append((time.perf_counter() - started) * 1000)
    return {"scenarios": len(scenarios), "sessions": sessions, "turn_ms": _summary(turn_ms),
            "summary_ms": _summary(summary_ms),
            "targets": {"turn_ms.p99": ["<=", 50]},
            "headline": ["turn_ms.p50", "turn_ms.p99", "summary_ms.p99"]}


if __name__ == "__main__":
    import json

    print(json.dumps(run(), ensure_ascii=False, indent=2))
