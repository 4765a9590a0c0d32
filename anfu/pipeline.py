"""The Analyzer: a picklable callable running components over conversations."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from . import registry
from .components.base import Component
from .config import load_config
from .errors import InputError
from .types import Assessment, Conversation, SPEAKERS, Utterance

Doc = str | Utterance | Conversation


class Analyzer:
    """`analyzer(doc) -> Assessment`; `analyzer.pipe(docs, batch_size=…)` for many."""

    def __init__(self, components: Sequence[Component], config: dict[str, Any] | None = None) -> None:
        self.components = list(components)
        self.config = config or {}
        self.max_chars: int = self.config.get("limits", {}).get("max_chars", 20000)

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
            if not turn.text.strip():
                raise InputError("AF004")
            if len(turn.text) > self.max_chars:
                raise InputError("AF005", len(turn.text), limit=self.max_chars)
            if turn.speaker not in SPEAKERS:
                raise InputError("AF007", repr(turn.speaker))
        return doc

    def make_doc(self, doc: Doc) -> Assessment:
        return Assessment.start(self.validate(doc))

    def __call__(self, doc: Doc) -> Assessment:
        assessment = self.make_doc(doc)
        for component in self.components:
            component(assessment)
        return assessment

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
    return factory(**settings) if settings else factory()


def load(config: str | Path | dict[str, Any] | None = None, **overrides: Any) -> Analyzer:
    """Build the configured Analyzer (the shipped defaults unless told otherwise)."""
    if isinstance(config, dict):
        cfg = load_config(overrides=config)
    else:
        cfg = load_config(config, overrides or None)
    components = [build_component(name, cfg) for name in cfg["pipeline"]["components"]]
    return Analyzer(components, cfg)
