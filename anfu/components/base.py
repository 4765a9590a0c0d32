"""The component contract.

A component fills its declared fields of an `Assessment`. It keeps a pure
`predict(docs) -> outputs` apart from `set_annotations(docs, outputs)`, so batching and
testing stay simple (see `anfu.testing.check_component`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Sequence

from ..types import Assessment


class Component(ABC):
    #: registered name, e.g. "anfu.emotion.v1"
    name: ClassVar[str] = ""
    #: Assessment / TurnAssessment fields this component writes (e.g. "turn.emotion", "trajectory")
    provides: ClassVar[tuple[str, ...]] = ()
    #: fields it reads that an earlier component must provide
    requires: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def predict(self, docs: Sequence[Assessment]) -> list[Any]:
        """Pure: compute this component's outputs for a batch, changing nothing."""

    @abstractmethod
    def set_annotations(self, docs: Sequence[Assessment], outputs: list[Any]) -> None:
        """Write `outputs` (from `predict`) into the declared fields of `docs`."""

    def __call__(self, doc: Assessment) -> Assessment:
        self.set_annotations([doc], self.predict([doc]))
        return doc

    def pipe(self, docs: Sequence[Assessment]) -> Sequence[Assessment]:
        self.set_annotations(docs, self.predict(docs))
        return docs

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
