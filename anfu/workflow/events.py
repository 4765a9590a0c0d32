"""Workflow events: frozen records named noun.verb (e.g. "escalation.raised").

Components put them into `Assessment.extras["events"]` as plain dicts (`to_dict()`), so
they survive JSON and pickling; consumers (tickets, alerts, supervisor streams) turn them
back into objects with `from_dict()`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar

from ..errors import InputError

EVENT_TYPES: dict[str, type["Event"]] = {}


def _register(cls: type["Event"]) -> type["Event"]:
    EVENT_TYPES[cls.name] = cls
    return cls


@dataclass(frozen=True)
class Event:
    """Base of all events; `name` is the noun.verb identifier."""

    name: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        for key, value in asdict(self).items():
            out[key] = list(value) if isinstance(value, tuple) else value
        return out


@_register
@dataclass(frozen=True)
class EscalationRaised(Event):
    """The escalation ladder moved up a step (L0 agent → L1 team lead notified → L2 team
    lead joins → L3 complaint desk / manager)."""

    name: ClassVar[str] = "escalation.raised"
    conversation_id: str | None
    level: int
    previous_level: int
    reasons: tuple[str, ...] = ()
    turn: int | None = None  # index of the turn that raised it


@_register
@dataclass(frozen=True)
class NegativeEnergyFlagged(Event):
    """A conversation was flagged as a negative-energy customer (负能量客户)."""

    name: ClassVar[str] = "negative_energy.flagged"
    conversation_id: str | None
    signal_types: tuple[str, ...] = ()
    supervisor_alert: bool = False
    turn: int | None = None


def from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event from `to_dict()` output; unknown names give AF013."""
    name = data.get("name") if isinstance(data, dict) else None
    cls = EVENT_TYPES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise InputError("AF020", repr(name), allowed=", ".join(sorted(EVENT_TYPES)))
    kwargs: dict[str, Any] = {}
    for f in fields(cls):
        if f.name in data:
            value = data[f.name]
            kwargs[f.name] = tuple(value) if isinstance(value, list) else value
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise InputError("AF020", f"{name!r} ({exc})", allowed=", ".join(sorted(EVENT_TYPES))) from None


def replace_events(extras: dict[str, Any], name: str, events: list[Event]) -> None:
    """Replace the events called `name` in `extras["events"]`, keeping the others, so a
    component run twice over the same Assessment does not duplicate its events."""
    kept = [e for e in extras.get("events", []) if e.get("name") != name]
    extras["events"] = kept + [e.to_dict() for e in events]
