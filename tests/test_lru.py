"""anfu/lru.py: the one bounded memo (turn memo, pre-send verdicts, message windows, a
connection's conversations, rate-limit buckets)."""

from __future__ import annotations

import pickle
import threading

import pytest

from anfu.lru import Lru


def test_keeps_the_most_recently_used_entries() -> None:
    memo: Lru[str, int] = Lru(2)
    memo.put("停电", 1)
    memo.put("电费", 2)
    assert memo.get("停电") == 1  # now the most recent: 电费 goes first
    memo.put("宽带", 3)
    assert list(memo.keys()) == ["停电", "宽带"] and memo.get("电费") is None
    assert memo.peek("停电") == 1 and list(memo.keys()) == ["停电", "宽带"]  # peek marks nothing used
    memo.put("停电", 4)
    assert len(memo) == 2 and memo.get("停电") == 4


def test_weight_bounds_the_total() -> None:
    memo: Lru[str, str] = Lru(100, weight=len, max_weight=10)
    memo.put("a", "停电三天了")  # 5
    memo.put("b", "电费怎么这么高")  # 7: over 10, so "a" goes
    assert "a" not in memo and memo.total_weight == 7
    memo.put("b", "好的")  # replacing counts the new value only
    assert memo.total_weight == 2
    memo.put("c", "我要投诉到12345，还要曝光")  # heavier than the bound alone: nothing stays
    assert len(memo) == 0 and memo.total_weight == 0
    with pytest.raises(ValueError):
        Lru(10, max_weight=5)


def test_discard_where_and_clear() -> None:
    memo: Lru[tuple[str, int], int] = Lru(10, weight=lambda v: v, max_weight=100)
    for i in range(5):
        memo.put(("会话", i), i)
    assert memo.discard_where(lambda key, value: value % 2 == 0) == 3
    assert sorted(k[1] for k in memo.keys()) == [1, 3] and memo.total_weight == 4
    memo.clear()
    assert len(memo) == 0 and memo.total_weight == 0


def test_pickles_empty_with_its_bounds() -> None:
    memo: Lru[str, str] = Lru(3, weight=len, max_weight=50)
    memo.put("k", "停电了")
    clone = pickle.loads(pickle.dumps(memo))
    assert len(clone) == 0 and (clone.size, clone.max_weight) == (3, 50)
    clone.put("k", "停电了")
    assert clone.total_weight == 3


def test_threads_never_overfill_it() -> None:
    memo: Lru[int, int] = Lru(50, weight=lambda v: 1, max_weight=40)

    def work(offset: int) -> None:
        for i in range(2000):
            memo.put(offset + i % 97, i)
            memo.get(offset + (i * 7) % 97)

    threads = [threading.Thread(target=work, args=(n * 1000,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(memo) == 40 and memo.total_weight == 40
