"""A demo fortnight (演示数据) of a service centre: the contacts of the last 14 days up to
`end`, written from the templates in fortnight.yaml. Deterministic for a seed and an end
time; nothing here touches a database (anfu/server/demo_data.py stores and analyses them).

    >>> contacts = generate_fortnight(datetime.now(ZoneInfo("Asia/Shanghai")))
    >>> contacts[0].arc, contacts[0].turns[0]
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from ..errors import RulePackError, WorkflowError

TEMPLATES = Path(__file__).with_name("fortnight.yaml")
_SLOT = re.compile(r"\{(\w+)\}")
FIRST_HOUR = 7
COMPLAINT_ARCS = ("escalated", "unresolved")


@dataclass(frozen=True)
class Turn:
    speaker: str   # customer | agent
    text: str
    at: datetime


@dataclass(frozen=True)
class DemoContact:
    ref: str                 # the conversation's external reference, e.g. demo-fortnight:20260301-017
    started: datetime        # aware local time
    industry: str
    cause: str
    channel: str
    team: str
    agent: str               # the agent's username
    arc: str                 # inquiry | calmed | hard_calmed | escalated | unresolved
    priority: str            # the ticket priority should the contact become a complaint
    turns: tuple[Turn, ...]

    @property
    def ended(self) -> datetime:
        return self.turns[-1].at


@lru_cache(maxsize=4)
def load_templates(path: str = str(TEMPLATES)) -> dict[str, Any]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RulePackError("AF301", path, reason=str(exc)) from None
    missing = {"arcs", "volume", "hours", "teams", "routing", "slots", "scenarios"} - set(data or {})
    if missing:
        raise RulePackError("AF301", path, reason=f"missing {sorted(missing)}")
    return data


def staff(templates: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Team name -> {"supervisor": {username, name}, "agents": [{username, name}, …]}."""
    return (templates or load_templates())["teams"]


def _weighted(rng: random.Random, table: dict[str, float]) -> str:
    keys = list(table)
    return rng.choices(keys, weights=[table[k] for k in keys])[0]


class _Writer:
    """Writes one conversation of a scenario along an arc."""

    def __init__(self, t: dict[str, Any], scenario: dict[str, Any], rng: random.Random, agent_no: str) -> None:
        self.t, self.s, self.rng, self.agent_no = t, scenario, rng, agent_no
        self.chosen: dict[str, str] = {}

    def fill(self, text: str, **extra: str) -> str:
        def slot(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in extra:
                return extra[name]
            if name == "agent_no":
                return self.agent_no
            if name not in self.chosen:  # one value per conversation: the same 小区, the same amount
                options = (self.s.get("slots") or {}).get(name) or self.t["slots"][name]
                self.chosen[name] = self.rng.choice(options)
            return self.chosen[name]
        return _SLOT.sub(slot, text)

    def pick(self, key: str, **extra: str) -> str:
        source = self.s[key] if key in self.s else self.t[key]
        return self.fill(self.rng.choice(source), **extra)

    def lines(self, arc: str, channel: str) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        if channel == "call" or self.rng.random() < 0.3:
            out.append(("agent", self.fill(self.rng.choice(self.t["greetings"][self.s["industry"]]))))
        if arc == "inquiry":
            i = self.rng.randrange(len(self.s["inquiry"]))
            out += [("customer", self.fill(self.s["inquiry"][i])),
                    ("agent", self.fill(self.s["answers"][i % len(self.s["answers"])])),
                    ("customer", self.pick("thanks"))]
            if self.rng.random() < 0.5:
                out.append(("agent", self.pick("agent_closings")))
            return out
        out.append(("customer", self.pick("openings")))
        if arc == "calmed":
            out += [("agent", self.pick("empathy") + self.pick("plans")), ("customer", self.pick("accepts")),
                    ("agent", self.pick("agent_closings"))]
        elif arc == "hard_calmed":
            out += [("agent", self.pick("empathy") + self.pick("ask")), ("customer", self.pick("details")),
                    ("agent", "好的，情况我都记下了。" + self.pick("plans")), ("customer", self.pick("accepts")),
                    ("agent", self.pick("agent_closings"))]
        else:  # escalated / unresolved: a poor answer, a complaint threat, an escalation
            out += [("agent", self.pick("poor_replies")), ("customer", self.pick("threats")),
                    ("agent", self.pick("escalations", plan=self.pick("plans")))]
            if arc == "escalated" and self.rng.random() < 0.6:
                out += [("customer", self.pick("accepts")), ("agent", self.pick("agent_closings"))]
            else:
                out.append(("customer", self.pick("angry_closings")))
        return out


def _start_times(rng: random.Random, day: datetime, count: int, hours: list[float]) -> list[datetime]:
    out = []
    for _ in range(count):
        hour = FIRST_HOUR + rng.choices(range(len(hours)), weights=hours)[0]
        out.append(day.replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60)))
    return sorted(out)


def generate_fortnight(end: datetime, days: int = 14, seed: int = 7,
                       templates: dict[str, Any] | None = None) -> list[DemoContact]:
    """The contacts of the `days` days up to `end` (an aware datetime; today's only up to an
    hour before it), in time order."""
    if end.tzinfo is None:
        raise WorkflowError("AF604", repr(end))
    t = templates or load_templates()
    rng = random.Random(f"{seed}:{end.date().isoformat()}")
    scenarios = t["scenarios"]
    weights = [s["weight"] for s in scenarios]
    teams = t["teams"]
    numbers = {a["username"]: str(1001 + i * 17) for i, a in
               enumerate(a for team in teams.values() for a in team["agents"])}
    contacts: list[DemoContact] = []
    first = datetime.combine(end.date() - timedelta(days=days - 1), time(0), tzinfo=end.tzinfo)
    latest = end - timedelta(hours=1)
    for d in range(days):
        day = first + timedelta(days=d)
        base = t["volume"]["weekend" if day.isoweekday() >= 6 else "weekday"]
        count = max(1, round(base * rng.uniform(0.8, 1.2)))
        for n, start in enumerate(_start_times(rng, day, count, t["hours"])):
            scenario = rng.choices(scenarios, weights=weights)[0]
            arc = _weighted(rng, t["arcs"])
            channel = _weighted(rng, scenario["channels"])
            team = rng.choice(t["routing"][scenario["industry"]])
            agent = rng.choice(teams[team]["agents"])["username"]
            lines = _Writer(t, scenario, rng, numbers[agent]).lines(arc, channel)
            clock, turns = start, []
            for speaker, text in lines:
                turns.append(Turn(speaker, text, clock))
                clock += timedelta(seconds=rng.randint(25, 150) if channel == "call" else rng.randint(40, 240))
            if turns[-1].at > latest:
                continue
            contacts.append(DemoContact(
                ref=f"demo-fortnight:{day:%Y%m%d}-{n:03d}", started=start, industry=scenario["industry"],
                cause=scenario["cause"], channel=channel, team=team, agent=agent, arc=arc,
                priority=scenario["priority"], turns=tuple(turns)))
    return contacts
