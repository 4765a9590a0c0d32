"""Every registered component keeps the component contract (anfu.testing.check_component)."""

from __future__ import annotations

import pytest

import anfu
from anfu import registry
from anfu.pipeline import build_component
from anfu.testing import check_component
from anfu.types import Assessment



def _upstream(name: str):  # noqa: ANN202
    """The default pipeline's components that run before `name` (all of them for extras)."""
    from anfu.config import load_config

    cfg = load_config()
    order = cfg["pipeline"]["components"]
    before = order[: order.index(name)] if name in order else order
    return [build_component(n, cfg) for n in before], cfg


@pytest.mark.parametrize("name", registry.components.names())
def test_component_contract(name: str) -> None:
    upstream, cfg = _upstream(name)
    component = build_component(name, cfg)

    def prepare(doc):  # noqa: ANN001, ANN202
        assessment = Assessment.start(doc)
        for comp in upstream:
            comp(assessment)
        return assessment

    check_component(component, prepare=prepare)


def test_contract_catches_undeclared_writes() -> None:
    """check_component must fail a component that writes a field it does not declare."""
    from anfu.components.base import Component

    class Sloppy(Component):
        name = "test.sloppy.v1"
        provides = ("turn.emotion",)

        def predict(self, docs):  # noqa: ANN001, ANN202
            return [None for _ in docs]

        def set_annotations(self, docs, outputs):  # noqa: ANN001, ANN202
            for doc in docs:
                for turn in doc.turns:
                    turn.emotion = "angry"
                    turn.cause = "billing"

    with pytest.raises(AssertionError, match="undeclared"):
        check_component(Sloppy())
