"""The Analyzer: a picklable callable running components over conversations.

Turn memo: the live service analyses a window of the latest turns once per new turn, so
every turn is seen up to a window's length of times. Components with `scope = "turn"` (see
`anfu.components.base`) that open the pipeline form its *turn stage*: their results for a
turn depend only on its speaker, text and `turn_key`. `Analyzer.__call__` keeps a bounded
LRU memo of each turn's state after the turn stage, copies remembered turns into a new
Assessment and runs the turn stage only on the others (with blank copies of the turns they
look back at, `turn_context`); each stage component's `conclude` then computes its
document-level output, and the rest of the pipeline runs as usual. The results are the
same with and without the memo (`[limits].turn_memo = 0` turns it off); `pipe` does not
use it.
"""

from __future__ import annotations

import inspect
from dataclasses import fields, replace
from pathlib import Path
from typing import Any, Hashable, Iterable, Iterator, Sequence

from . import registry
from .components.base import Component
from .config import load_config
from .errors import ConfigError, InputError
from .lru import Lru
from .text.normalize import is_blank
from .types import Assessment, Conversation, SPEAKERS, TurnAssessment, Utterance

Doc = str | Utterance | Conversation
DEFAULT_TURN_MEMO = 4096
MEMO_MAX_CHARS = 4_000_000  # and at most this much text in it (long texts must not bloat it)
_COPIED = tuple(f.name for f in fields(TurnAssessment) if f.name in ("scores", "triggers", "findings", "cause_scores"))


def _turn_chars(turn: TurnAssessment) -> int:
    return len(turn.text)


def _copy_turn(turn: TurnAssessment) -> TurnAssessment:
    """A copy whose lists and dicts are new (their items are immutable or replaced whole).
    (Field by field, as `dataclasses.replace` would copy it, without running `__init__` again:
    the live path copies a window's worth of remembered turns on every turn.)"""
    copy = object.__new__(TurnAssessment)
    fields_ = copy.__dict__
    fields_.update(turn.__dict__)
    for name in _COPIED:
        value = fields_[name]
        if value is not None:
            fields_[name] = type(value)(value)
    return copy


_DOC_FIELDS = frozenset(f.name for f in fields(Assessment)) - {"conversation", "turns", "is_utterance"}
_TURN_FIELDS = frozenset(f"turn.{f.name}" for f in fields(TurnAssessment)) - {"turn.speaker", "turn.text"}


def check_pipeline(components: Sequence[Component]) -> None:
    """The component contract across a pipeline, checked when it is built: every field a
    component declares (`provides`, `requires`, `reads`) exists (AF106), and every field it
    `requires` is provided by a component before it (AF105)."""
    known = _DOC_FIELDS | _TURN_FIELDS
    provided: set[str] = set()
    for component in components:
        name = getattr(component, "name", "") or type(component).__name__
        for kind in ("provides", "requires", "reads"):
            for item in getattr(component, kind, ()):
                if item not in known:
                    raise ConfigError("AF106", name, field=repr(item), kind=kind, allowed=", ".join(sorted(known)))
        missing = [item for item in getattr(component, "requires", ()) if item not in provided]
        if missing:
            providers = []
            for item in missing:
                from_registry = [n for n in registry.components.names()
                                 if item in getattr(registry.components.get(n), "provides", ())]
                providers.append(f"{item}: {', '.join(from_registry) or 'none registered'}")
            raise ConfigError("AF105", name, missing=", ".join(missing), providers="; ".join(providers))
        provided.update(getattr(component, "provides", ()))


class Analyzer:
    """`analyzer(doc) -> Assessment`; `analyzer.pipe(docs, batch_size=…)` for many."""

    def __init__(self, components: Sequence[Component], config: dict[str, Any] | None = None) -> None:
        check_pipeline(components)
        self.components = list(components)
        self.config = config or {}
        limits = self.config.get("limits", {})
        self.max_chars: int = limits.get("max_chars", 20000)
        self.turn_memo = limits.get("turn_memo", DEFAULT_TURN_MEMO)

    @property
    def turn_memo(self) -> int:
        """How many turns the memo keeps (0: no memo)."""
        return self._memo.size

    @turn_memo.setter
    def turn_memo(self, size: int) -> None:
        # remembered turns, bounded in number and in characters; a new bound is a new, empty
        # memo, and a pickled analyzer arrives with an empty one (lru.py)
        self._memo: Lru[Hashable, TurnAssessment] = Lru(size, weight=_turn_chars, max_weight=MEMO_MAX_CHARS)

    def clear_memo(self) -> None:
        """Forget every remembered turn (a new, empty memo: a copy of this analyzer keeps its own)."""
        self.turn_memo = self.turn_memo

    @property
    def memo_size(self) -> int:
        return len(self._memo)

    @property
    def turn_stage(self) -> list[Component]:
        """The leading turn-scoped components (those the memo covers)."""
        stage = []
        for component in self.components:
            if getattr(component, "scope", "conversation") != "turn":
                break
            stage.append(component)
        return stage

    @property
    def component_names(self) -> list[str]:
        return [c.name for c in self.components]

    def get(self, name: str) -> Component:
        for component in self.components:
            if component.name == name:
                return component
        raise KeyError(name)

    def validate(self, doc: Doc) -> Utterance | Conversation:
        """Check a document's texts and speakers; raises `InputError` with an AF code."""
        if isinstance(doc, str):
            doc = Utterance(text=doc)
        turns = doc.turns if isinstance(doc, Conversation) else (doc,)
        if isinstance(doc, Conversation) and not turns:
            raise InputError("AF008", "no turns")
        for turn in turns:
            if not isinstance(turn.text, str):
                raise InputError("AF003", type(turn.text).__name__)
            if is_blank(turn.text):
                raise InputError("AF004")
            if not turn.text.isascii():
                try:
                    turn.text.encode("utf-8")
                except UnicodeEncodeError as exc:  # a lone surrogate ("\ud800") has no UTF-8
                    raise InputError("AF006", f"a lone surrogate at character {exc.start}") from None
            if len(turn.text) > self.max_chars:
                raise InputError("AF005", len(turn.text), limit=self.max_chars)
            if turn.speaker not in SPEAKERS:
                raise InputError("AF007", repr(turn.speaker))
        return doc

    def make_doc(self, doc: Doc) -> Assessment:
        return Assessment.start(self.validate(doc))

    def __call__(self, doc: Doc) -> Assessment:
        assessment = self.make_doc(doc)
        stage = self.turn_stage if self.turn_memo > 0 else []
        if stage:
            self._run_turn_stage(assessment, stage)
        for component in self.components[len(stage):]:
            component(assessment)
        return assessment

    def _run_turn_stage(self, doc: Assessment, stage: list[Component]) -> None:
        turns = doc.turns
        keys = [(t.speaker, t.text, tuple(c.turn_key(doc, i) for c in stage)) for i, t in enumerate(turns)]
        missing: list[int] = []
        for i, key in enumerate(keys):
            known = self._memo.get(key)
            if known is None:
                missing.append(i)
            else:
                turns[i] = _copy_turn(known)
        if missing:
            # the missing turns themselves, plus blank copies of the turns they look back at
            start = min(min(c.turn_context(doc, i) for c in stage) for i in missing)
            wanted = set(missing)
            part = [turns[i] if i in wanted else TurnAssessment(speaker=turns[i].speaker, text=turns[i].text,
                                                                 follow_up=turns[i].follow_up)
                    for i in range(start, missing[-1] + 1)]
            conv = doc.conversation
            sub = Assessment(conversation=replace(conv, turns=conv.turns[start:missing[-1] + 1]), turns=part,
                             is_utterance=doc.is_utterance)
            for component in stage:
                component(sub)
            for i in missing:
                self._memo.put(keys[i], _copy_turn(turns[i]))
        for component in stage:
            component.conclude(doc)

    def pipe(self, docs: Iterable[Doc], batch_size: int = 64) -> Iterator[Assessment]:
        batch: list[Assessment] = []
        for doc in docs:
            batch.append(self.make_doc(doc))
            if len(batch) >= batch_size:
                yield from self._run(batch)
                batch = []
        if batch:
            yield from self._run(batch)

    def _run(self, batch: list[Assessment]) -> list[Assessment]:
        for component in self.components:
            component.pipe(batch)
        return batch


def build_component(name: str, config: dict[str, Any]) -> Component:
    factory = registry.components.get(name)
    settings = dict(config.get("components", {}).get(name, {}))
    unknown, accepted = _unknown_options(factory, settings)
    if unknown:  # a misspelt key was a TypeError with a traceback
        raise ConfigError("AF102", f'[components."{name}"] has no option {", ".join(sorted(unknown))}; '
                          f'it takes {", ".join(accepted) or "none"}')
    return factory(**settings) if settings else factory()


def _unknown_options(factory: Any, settings: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The keys of `settings` that `factory` takes no parameter for, and those it takes."""
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):  # no signature to read: let the factory decide
        return [], []
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return [], []
    accepted = [p.name for p in params if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                                      inspect.Parameter.KEYWORD_ONLY)]
    return [key for key in settings if key not in accepted], accepted


def load(config: str | Path | dict[str, Any] | None = None, **overrides: Any) -> Analyzer:
    """Build the configured Analyzer (the shipped defaults unless told otherwise)."""
    if isinstance(config, dict):
        cfg = load_config(overrides=config)
    else:
        cfg = load_config(config, overrides or None)
    for name in cfg.get("components", {}):  # a table for a misspelt component was ignored
        registry.components.get(name)  # AF101 naming the registered ones
    components = [build_component(name, cfg) for name in cfg["pipeline"]["components"]]
    return Analyzer(components, cfg)
