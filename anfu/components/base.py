"""The component contract.

A component fills its declared fields of an `Assessment` (`provides`), needs the fields of
`requires` from components earlier in the pipeline and uses those of `reads` when present;
`anfu.pipeline.check_pipeline` checks the declarations when a pipeline is built. It keeps a pure
`predict(docs) -> outputs` apart from `set_annotations(docs, outputs)`, so batching and
testing stay simple (see `anfu.testing.check_component`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Hashable, Sequence

from ..types import Assessment


class Component(ABC):
    #: registered name, e.g. "anfu.emotion.v1"
    name: ClassVar[str] = ""
    #: Assessment / TurnAssessment fields this component writes (e.g. "turn.emotion", "trajectory")
    provides: ClassVar[tuple[str, ...]] = ()
    #: fields it reads that an earlier component must provide (checked when the pipeline is
    #: built: a misordered pipeline fails with AF105 before any text is analysed)
    requires: ClassVar[tuple[str, ...]] = ()
    #: fields it reads when an earlier component provided them and does without otherwise
    #: (e.g. the emotion model uses the threat and abuse flags when present)
    reads: ClassVar[tuple[str, ...]] = ()
    #: "turn": what it writes on a turn depends only on that turn's speaker and text plus
    #: `turn_key(doc, i)` (and any document-level output comes from `conclude`), so the
    #: Analyzer may reuse a turn's results (`anfu.pipeline`, turn memo); "conversation": it
    #: reads the whole conversation and always runs.
    scope: ClassVar[str] = "conversation"

    @abstractmethod
    def predict(self, docs: Sequence[Assessment]) -> list[Any]:
        """Pure: compute this component's outputs for a batch, changing nothing."""

    @abstractmethod
    def set_annotations(self, docs: Sequence[Assessment], outputs: list[Any]) -> None:
        """Write `outputs` (from `predict`) into the declared fields of `docs`."""

    def turn_key(self, doc: Assessment, i: int) -> Hashable:
        """Turn-scoped components: what else turn `i`'s result depends on besides its speaker
        and text (e.g. the conversation's industry); hashable."""
        return ()

    def turn_context(self, doc: Assessment, i: int) -> int:
        """Turn-scoped components: the earliest turn whose content turn `i`'s result reads
        (`i` itself unless the component looks back, like the pre-send check's rewrite)."""
        return i

    def conclude(self, doc: Assessment) -> None:
        """Turn-scoped components with a document-level output compute it here from the
        turns (called by the Analyzer when turns came from its memo)."""

    def __call__(self, doc: Assessment) -> Assessment:
        self.set_annotations([doc], self.predict([doc]))
        return doc

    def pipe(self, docs: Sequence[Assessment]) -> Sequence[Assessment]:
        self.set_annotations(docs, self.predict(docs))
        return docs

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
