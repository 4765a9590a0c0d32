"""The live turn service alone: per-turn server time, in-process, no network.

`run()` builds the service's `TurnService` on a temporary SQLite database (WAL,
`synchronous=FULL`, on the temp folder's disk), signs in nothing (the principal is built
directly) and plays realistic chat conversations: each turn is what the agent WebSocket does
for one `message` frame (resolve the conversation through the connection's cache, store the
message, analyse the window, store the assessment and events in one durable transaction).
Turns of the conversations are interleaved, as they are on a busy server.

Reported: per-turn p50/p99/mean in milliseconds over all turns after the first of each
conversation (the first also creates the customer and the conversation), and separately the
analysis alone (`Analyzer` on the live window, memo warm as in the server) and the first
turns. Target: server-side p99 ≤ 20 ms per turn (issue 5).

Environment: ANFU_BENCH_CONVERSATIONS (default 20), ANFU_BENCH_TURNS (turns per
conversation, default 40), ANFU_BENCH_DATABASE_URL (another database, e.g. PostgreSQL; it
must be migrated and is written to).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

CUSTOMER = [
    "你好，我想问一下这个月的电费为什么比上个月高了这么多？",
    "停电三天了还没人来修，家里老人热得受不了，你们到底管不管？",
    "宽带又断了，这都第三次了，再修不好我就去工信部投诉！",
    "我的退款申请十天了还没到账，你们是不是故意拖着？",
    "快递显示已签收，可我根本没收到，谁来负责？",
    "话费多扣了58块，我从来没订过什么视频会员。",
    "好的，那我再等等，麻烦你们尽快处理。",
    "你们这是欺诈！我已经联系记者了，明天就曝光你们！",
    "燃气表走得特别快，是不是坏了？能不能派人来看看？",
    "谢谢你，问题解决了。",
]
AGENT = [
    "您好，非常理解您的心情，我马上为您查询。",
    "给您带来不便非常抱歉，我已经为您登记了加急工单。",
    "这个不归我们管，你自己去问吧。",
    "请您稍等，我这边核实一下账单明细。",
    "抢修人员预计两小时内到达，到时会先电话联系您。",
    "您放心，处理结果我会在今天下班前回电告知您。",
]


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _summary(values: list[float]) -> dict[str, float]:
    return {"n": len(values), "p50": round(_percentile(values, 0.5), 2), "p99": round(_percentile(values, 0.99), 2),
            "mean": round(statistics.fmean(values), 2) if values else 0.0}


def _play(url: str, conversations: int, turns: int) -> dict[str, Any]:
    import anfu
    from anfu.channels.base import CustomerHints
    from anfu.server.live import Hub
    from anfu.server.turns import ConnectionCache, TurnService
    from anfu.store import Principal, Store, make_engine, upgrade

    engine = make_engine(url=url)
    upgrade(engine)
    store = Store(engine)
    tenant = store.create_tenant(f"bench-turn-{int(time.time() * 1000)}", "单轮压测")
    team = store.create_team(tenant.id, "班组")
    from anfu.security.passwords import hash_password

    user = store.create_user(tenant.id, f"agent-{tenant.id}", hash_password("Bench-Turn-2024!"), "agent",
                             team_id=team.id)
    principal = Principal.of_user(user)
    analyzer = anfu.load()
    service = TurnService(store, analyzer, Hub())
    cache = ConnectionCache()
    timings: list[float] = []
    first: list[float] = []
    for step in range(turns):
        for c in range(conversations):
            speaker = "customer" if step % 2 == 0 else "agent"
            lines = CUSTOMER if speaker == "customer" else AGENT
            text = lines[(step // 2 + c) % len(lines)]
            started = time.perf_counter()
            conversation = service.resolve(principal, conversation_ref=f"bench:{tenant.id}:{c}",
                                           channel="webchat", customer=CustomerHints(phone=f"139{c:08d}"),
                                           cache=cache)
            service.add_turn(principal, conversation, speaker, text, client_msg_id=f"{tenant.id}-{c}-{step}",
                             channel="webchat")
            (first if step == 0 else timings).append((time.perf_counter() - started) * 1000)
    # the analysis alone on the last windows, as the server runs it
    windows = []
    analysis: list[float] = []
    for c in range(conversations):
        record = store.get_or_create_conversation(tenant.id, f"bench:{tenant.id}:{c}")[0]
        conv = store.load_conversation(record.id)
        window = type(conv)(turns=conv.turns[-service.window:], id=conv.id, channel=conv.channel,
                            industry=conv.industry)
        windows.append(window)
    for _ in range(3):
        for window in windows:
            started = time.perf_counter()
            analyzer(window)
            analysis.append((time.perf_counter() - started) * 1000)
    engine.dispose()
    return {"turn_ms": _summary(timings), "first_turn_ms": _summary(first), "analysis_ms": _summary(analysis)}


def run() -> dict[str, Any]:
    conversations = int(os.environ.get("ANFU_BENCH_CONVERSATIONS", "20"))
    turns = int(os.environ.get("ANFU_BENCH_TURNS", "40"))
    url = os.environ.get("ANFU_BENCH_DATABASE_URL")
    with tempfile.TemporaryDirectory(prefix="anfu-bench-turn-") as tmp:
        engine_name = "postgresql" if url else "sqlite"
        result = _play(url or f"sqlite:///{Path(tmp) / 'anfu.db'}", conversations, turns)
    return {"database": engine_name, "conversations": conversations, "turns_per_conversation": turns,
            **result,
            "targets": {"turn_ms.p99": ["<=", 20]},
            "headline": ["turn_ms.p50", "turn_ms.p99", "analysis_ms.p99"]}


if __name__ == "__main__":
    import json

    print(json.dumps(run(), ensure_ascii=False, indent=2))
