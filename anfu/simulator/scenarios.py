"""Training scenarios (情景) as data: one YAML file per scenario in `scenarios/` of the rule-pack
folder (`anfu/rules/zh_CN/scenarios/`, or a folder the centre names with `--scenarios` /
`ANFU_SCENARIOS_DIR`). Trainers' scenarios written in the web workspace pass the same validator.

A scenario names its industry (an industry pack), cause (one of that pack's causes), persona (one
of the nine types), the opening emotion and intensity with the customer's first lines, the hidden
facts the trainee must find (what to ask, what the customer then reveals), what resolves the case
(groups of regexes that must all match a reply, the facts it needs, the customer's answer) and
what makes it worse (regexes, the customer's answer).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import yaml

from ..errors import RulePackError, TrainingError
from ..glossary import EMOTIONS, PERSONAS
from ..rules import DEFAULT_LOCALE, load_pack, pack_dir, validator
from ..text.normalize import t2s
from ..text.regex_safety import nested_repetition

FOLDER = "scenarios"
SCENARIO_ID = re.compile(r"[a-z][a-z0-9_]{2,63}")
MAX_LINE = 300


@dataclass(frozen=True)
class HiddenFact:
    id: str
    fact: str
    ask: tuple[re.Pattern[str], ...]
    reveal: str


@dataclass(frozen=True)
class Resolution:
    id: str
    what: str
    groups: tuple[tuple[re.Pattern[str], ...], ...]  # every group must match (any of its patterns)
    line: str
    requires: tuple[str, ...]


@dataclass(frozen=True)
class Aggravation:
    id: str
    what: str
    patterns: tuple[re.Pattern[str], ...]
    line: str


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    title_en: str
    industry: str
    cause: str
    persona: str
    emotion: str
    intensity: int
    openings: tuple[str, ...]
    topic: str
    keywords: tuple[str, ...]
    hidden_facts: tuple[HiddenFact, ...]
    resolves: tuple[Resolution, ...]
    worsens: tuple[Aggravation, ...]
    data: dict[str, Any]

    def listing(self) -> dict[str, str]:
        """What `anfu scenarios --json` prints for it."""
        return {"id": self.id, "industry": self.industry, "cause": self.cause, "persona": self.persona,
                "title": self.title}


# validation ------------------------------------------------------------------------------------
def _shared_patterns(rules_dir: str | Path | None = None) -> dict[str, str]:
    try:
        return dict(load_pack("forbidden_phrases", rules_dir=rules_dir).get("shared") or {})
    except RulePackError:
        return dict(load_pack("forbidden_phrases").get("shared") or {})


def _regex_problems(value: Any, where: str, shared: dict[str, str], problems: list[str]) -> None:
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where} must be a non-empty regex string")
        return
    if value.startswith("@"):
        if value[1:] not in shared:
            problems.append(f"{where}: unknown shared pattern {value!r} (define it in forbidden_phrases.yaml)")
        return
    try:
        re.compile(value)
    except re.error as exc:
        problems.append(f"{where}: bad regex {value!r} ({exc})")
        return
    if nested_repetition(value):
        problems.append(f"{where}: regex {value!r} repeats a repetition (like (好+)+), which can take seconds on a "
                        "short reply; write it without the outer + or *")


def _text(value: Any, where: str, problems: list[str]) -> None:
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where} must be a non-empty string")
    elif len(value) > MAX_LINE:
        problems.append(f"{where} is longer than {MAX_LINE} characters")


def _industry_causes(industry: str, rules_dir: str | Path | None) -> list[str] | None:
    for folder in ([rules_dir] if rules_dir else []) + [None]:
        try:
            return list((load_pack(f"industries/{industry}", rules_dir=folder).get("causes") or {}).keys())
        except RulePackError:
            continue
    return None


def scenario_problems(data: Any, rules_dir: str | Path | None = None, expected_id: str | None = None) -> list[str]:
    """Everything wrong with one scenario (empty when it is valid)."""
    if not isinstance(data, dict):
        return ["the scenario must be a mapping"]
    problems: list[str] = []
    shared = _shared_patterns(rules_dir)
    sid = data.get("id")
    if not isinstance(sid, str) or not SCENARIO_ID.fullmatch(sid):
        problems.append("id must be 3-64 lower-case letters, digits or _ starting with a letter")
    elif expected_id is not None and sid != expected_id:
        problems.append(f"id {sid!r} must equal the file name {expected_id!r}")
    for key in ("title", "title_en", "topic"):
        _text(data.get(key), key, problems)
    industry = data.get("industry")
    causes = _industry_causes(industry, rules_dir) if isinstance(industry, str) and re.fullmatch(r"[a-z_]+", industry) else None
    if causes is None:
        problems.append(f"industry {industry!r} must name an industry pack (industries/<name>.yaml)")
    elif data.get("cause") not in causes:
        problems.append(f"cause {data.get('cause')!r} must be one of the {industry} pack's causes: {', '.join(causes)}")
    if data.get("persona") not in PERSONAS:
        problems.append(f"persona must be one of {', '.join(PERSONAS)}")
    opening = data.get("opening")
    if not isinstance(opening, dict):
        problems.append("opening must be a mapping with emotion, intensity and lines")
    else:
        if opening.get("emotion") not in EMOTIONS or opening.get("emotion") in ("neutral", "satisfied"):
            problems.append("opening.emotion must be a negative emotion: anxious, doubtful, disappointed, "
                            "dissatisfied or angry")
        if isinstance(opening.get("intensity"), bool) or opening.get("intensity") not in (1, 2, 3, 4):
            problems.append("opening.intensity must be 1, 2, 3 or 4")
        lines = opening.get("lines")
        if not isinstance(lines, list) or not lines:
            problems.append("opening.lines must list the customer's first words")
        else:
            for i, line in enumerate(lines):
                _text(line, f"opening.lines[{i}]", problems)
    keywords = data.get("keywords")
    if not isinstance(keywords, list) or not keywords or not all(isinstance(k, str) and k.strip() for k in keywords):
        problems.append("keywords must list the words of the customer's problem")
    fact_ids: list[str] = []
    facts = data.get("hidden_facts")
    if not isinstance(facts, list) or not facts:
        problems.append("hidden_facts must list at least one fact the trainee has to find")
        facts = []
    for i, fact in enumerate(facts):
        where = f"hidden_facts[{i}]"
        if not isinstance(fact, dict):
            problems.append(f"{where} must be a mapping")
            continue
        if not isinstance(fact.get("id"), str) or not fact["id"]:
            problems.append(f"{where}.id must be a non-empty string")
        else:
            fact_ids.append(fact["id"])
        _text(fact.get("fact"), f"{where}.fact", problems)
        _text(fact.get("reveal"), f"{where}.reveal", problems)
        ask = fact.get("ask")
        if not isinstance(ask, list) or not ask:
            problems.append(f"{where}.ask must list regexes of the questions that uncover it")
        else:
            for j, pattern in enumerate(ask):
                _regex_problems(pattern, f"{where}.ask[{j}]", shared, problems)
    resolves = data.get("resolves")
    if not isinstance(resolves, list) or not resolves:
        problems.append("resolves must list at least one way to resolve the case")
        resolves = []
    for i, item in enumerate(resolves):
        where = f"resolves[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{where} must be a mapping")
            continue
        for key in ("id", "what", "line"):
            _text(item.get(key), f"{where}.{key}", problems)
        groups = item.get("patterns")
        if not isinstance(groups, list) or not groups:
            problems.append(f"{where}.patterns must list groups of regexes (each group must match)")
        else:
            for g, group in enumerate(groups):
                for j, pattern in enumerate(group if isinstance(group, list) else [group]):
                    _regex_problems(pattern, f"{where}.patterns[{g}][{j}]", shared, problems)
        for needed in item.get("requires") or []:
            if needed not in fact_ids:
                problems.append(f"{where}.requires names an unknown hidden fact {needed!r}")
    worsens = data.get("worsens")
    if not isinstance(worsens, list) or not worsens:
        problems.append("worsens must list at least one thing that makes the customer angrier")
        worsens = []
    for i, item in enumerate(worsens):
        where = f"worsens[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{where} must be a mapping")
            continue
        for key in ("id", "what", "line"):
            _text(item.get(key), f"{where}.{key}", problems)
        patterns = item.get("patterns")
        if not isinstance(patterns, list) or not patterns:
            problems.append(f"{where}.patterns must list regexes")
        else:
            for j, pattern in enumerate(patterns):
                _regex_problems(pattern, f"{where}.patterns[{j}]", shared, problems)
    return problems


@validator(FOLDER)
def validate_scenario(data: dict[str, Any]) -> list[str]:
    return scenario_problems(data)


# loading ---------------------------------------------------------------------------------------
def _compile(pattern: str, shared: dict[str, str]) -> re.Pattern[str]:
    return re.compile(t2s(shared[pattern[1:]] if pattern.startswith("@") else pattern))


def build_scenario(data: dict[str, Any], rules_dir: str | Path | None = None, expected_id: str | None = None,
                   where: str = "scenario") -> Scenario:
    """A validated `Scenario` from its mapping; AF301 listing the problems otherwise."""
    problems = scenario_problems(data, rules_dir, expected_id)
    if problems:
        raise RulePackError("AF301", where, reason="; ".join(problems[:6]))
    shared = _shared_patterns(rules_dir)
    opening = data["opening"]
    return Scenario(
        id=data["id"], title=data["title"], title_en=data["title_en"], industry=data["industry"],
        cause=data["cause"], persona=data["persona"], emotion=opening["emotion"], intensity=int(opening["intensity"]),
        openings=tuple(opening["lines"]), topic=data["topic"], keywords=tuple(t2s(k) for k in data["keywords"]),
        hidden_facts=tuple(HiddenFact(f["id"], f["fact"], tuple(_compile(p, shared) for p in f["ask"]), f["reveal"])
                           for f in data["hidden_facts"]),
        resolves=tuple(Resolution(r["id"], r["what"],
                                  tuple(tuple(_compile(p, shared) for p in (g if isinstance(g, list) else [g]))
                                        for g in r["patterns"]),
                                  r["line"], tuple(r.get("requires") or ()))
                       for r in data["resolves"]),
        worsens=tuple(Aggravation(w["id"], w["what"], tuple(_compile(p, shared) for p in w["patterns"]), w["line"])
                      for w in data["worsens"]),
        data=data)


def scenario_folder(scenarios_dir: str | Path | None = None, locale: str = DEFAULT_LOCALE) -> Path:
    return Path(scenarios_dir) if scenarios_dir else pack_dir(locale) / FOLDER


@lru_cache(maxsize=16)
def _load_folder(folder: str, stamp: tuple[tuple[str, float], ...]) -> tuple[Scenario, ...]:
    out = []
    for name, _ in stamp:
        path = Path(folder) / name
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise RulePackError("AF301", str(path), reason=f"cannot read it ({exc})") from None
        except UnicodeDecodeError as exc:
            raise RulePackError("AF301", str(path), reason=f"not UTF-8 (byte {exc.start}): save it as UTF-8") from None
        out.append(build_scenario(data, expected_id=path.stem, where=str(path)))
    return tuple(sorted(out, key=lambda s: s.id))


def load_scenarios(scenarios_dir: str | Path | None = None) -> tuple[Scenario, ...]:
    """Every scenario of the folder (default: the shipped ones), sorted by id; AF301 on a bad
    file, AF701 when the folder holds none."""
    folder = scenario_folder(scenarios_dir)
    files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    if not files:
        raise TrainingError("AF701", str(folder))
    stamp = tuple((p.name, p.stat().st_mtime) for p in files)
    return _load_folder(str(folder), stamp)


def get_scenario(scenario_id: str, scenarios_dir: str | Path | None = None,
                 extra: Iterable[Scenario] = ()) -> Scenario:
    """The scenario with this id (from the folder, then `extra`, e.g. a centre's own from the
    store); AF702 listing the known ids otherwise."""
    known = list(load_scenarios(scenarios_dir)) + list(extra)
    for scenario in known:
        if scenario.id == scenario_id:
            return scenario
    raise TrainingError("AF702", repr(scenario_id)[:80], allowed=", ".join(s.id for s in known[:60]))


MAX_DEPTH = 12  # a scenario nests a few levels (resolves → patterns → groups); more is no scenario


class _ScenarioLoader(yaml.SafeLoader):
    """Safe YAML without anchors and aliases: a scenario has no use for them, and a few lines of
    aliases of aliases expand to megabytes ("billion laughs") that the length limit never saw."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "anchors and aliases (*name) are not allowed in a scenario",
                                              event.start_mark)
        return super().compose_node(parent, index)


def _json_problem(value: Any, depth: int = 0) -> str | None:
    """Why a loaded value cannot be stored as JSON (a date, a set, bytes, a non-text key, NaN, too
    deep), or None."""
    if depth > MAX_DEPTH:
        return f"the scenario nests more than {MAX_DEPTH} levels"
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"key {key!r} is not text"
            problem = _json_problem(item, depth + 1)
            if problem:
                return problem
        return None
    if isinstance(value, list):
        return next((p for p in (_json_problem(item, depth + 1) for item in value) if p), None)
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return "numbers must be finite"
    if value is None or isinstance(value, (str, bool, int, float)):
        return None
    return f"{type(value).__name__} values ({str(value)[:40]!r}) are not allowed; quote them as text"


def parse_scenario_yaml(text: str, rules_dir: str | Path | None = None) -> Scenario:
    """A trainer's scenario typed in the web workspace (YAML) → `Scenario`; AF703 on bad YAML
    (also: anchors and aliases, nesting too deep, values JSON cannot hold such as dates), AF301 with
    the validator's problems otherwise."""
    try:
        data = yaml.load(text, Loader=_ScenarioLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise TrainingError("AF703", str(exc).splitlines()[0][:200]) from None
    except RecursionError:
        raise TrainingError("AF703", f"the scenario nests more than {MAX_DEPTH} levels") from None
    problem = _json_problem(data)
    if problem:
        raise TrainingError("AF703", problem)
    return build_scenario(data, rules_dir, where="scenario")
