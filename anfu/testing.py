"""Test helpers for component authors (like scikit-learn's `check_estimator`).

`check_component(component)` asserts the contract every component must keep: it returns
the Assessment, writes only the fields it declares, handles empty input, pickles, and is
deterministic.
"""

from __future__ import annotations

import copy
import pickle
from dataclasses import fields
from typing import Any

from .components.base import Component
from .components.normalize import Normalizer
from .types import Assessment, Conversation, TurnAssessment, Utterance

SAMPLE_CONVERSATION = Conversation.from_texts([
    ("customer", "停电三天了还没人来修！！！你们到底管不管？再不来我就打12345投诉！"),
    ("agent", "非常抱歉给您带来不便，我马上为您查询抢修进度，10分钟内给您回电。"),
    ("customer", "好吧，那我等你电话，别又忘了。"),
    ("agent", "请您放心，抢修班组已经出发，预计下午两点前恢复供电。"),
    ("customer", "谢谢，麻烦你们了。"),
], id="sample-1")
SAMPLE_UTTERANCE = Utterance(text="这个月电费怎么这么高？是不是电表有问题", id="sample-u1")

_DOC_FIELDS = [f.name for f in fields(Assessment)]
_TURN_FIELDS = [f.name for f in fields(TurnAssessment)]


def _snapshot(doc: Assessment) -> dict[str, Any]:
    snap = {f"doc.{k}": copy.deepcopy(getattr(doc, k)) for k in _DOC_FIELDS if k not in ("conversation", "turns")}
    for i, turn in enumerate(doc.turns):
        for k in _TURN_FIELDS:
            snap[f"turn{i}.{k}"] = copy.deepcopy(getattr(turn, k))
    return snap


def _declared(key: str, provides: tuple[str, ...]) -> bool:
    name = key.split(".", 1)[1]
    if key.startswith("doc."):
        return name in provides or f"doc.{name}" in provides
    return f"turn.{name}" in provides


def _prepare(component: Component, doc: Any) -> Assessment:
    assessment = Assessment.start(doc)
    Normalizer()(assessment)
    return assessment


def check_component(component: Component, prepare=None) -> None:  # noqa: ANN001
    """Raise AssertionError when `component` breaks the component contract.

    `prepare(doc) -> Assessment` runs the components this one requires (default: only the
    normaliser).
    """
    prepare = prepare or (lambda doc: _prepare(component, doc))
    assert component.name, "a component needs a registered name"
    assert component.provides, f"{component.name} must declare what it provides"

    for doc in (SAMPLE_UTTERANCE, SAMPLE_CONVERSATION):
        assessment = prepare(doc)
        before = _snapshot(assessment)
        result = component(assessment)
        assert result is assessment, f"{component.name} must return the Assessment it was given"
        after = _snapshot(assessment)
        changed = [k for k in before if before[k] != after[k]]
        undeclared = [k for k in changed if not _declared(k, component.provides)]
        assert not undeclared, f"{component.name} changed undeclared fields: {undeclared}"

        again = prepare(doc)
        component(again)
        assert _snapshot(again) == after, f"{component.name} is not deterministic"

        clone = pickle.loads(pickle.dumps(component))
        third = prepare(doc)
        clone(third)
        assert _snapshot(third) == after, f"{component.name} behaves differently after pickling"

    assert list(component.pipe([])) == [], f"{component.name} must accept an empty batch"
