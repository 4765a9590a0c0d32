"""Rule packs are data: YAML files under `anfu/rules/<locale>/`.

A centre changes behaviour by editing a pack or adding one (e.g. a new industry file in
`industries/`), never code. Each pack kind has a validator registered here, which
`anfu check-rules` runs over every pack.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import import_module
from pathlib import Path
from typing import Any, Callable

import yaml

from ..errors import RulePackError

RULES_ROOT = Path(__file__).parent
# A pack name: identifiers joined by "/" ('industries/power'); never "..", never absolute.
PACK_NAME = re.compile(r"[A-Za-z0-9_]+(?:/[A-Za-z0-9_]+)*")
INDUSTRY_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
DEFAULT_LOCALE = "zh_CN"

# pack kind (the relative path without suffix, or a folder name for packs in a folder)
# -> validator returning a list of problems (empty when the pack is fine)
VALIDATORS: dict[str, Callable[[dict[str, Any]], list[str]]] = {}

# Modules outside anfu/components/ whose import registers validators of the packs they read.
VALIDATOR_MODULES: list[str] = ["anfu.workflow.sla", "anfu.workflow.ledger", "anfu.simulator.bank",
                                 "anfu.simulator.scenarios", "anfu.wellbeing.rules", "anfu.inspection.scorecard"]


def validator(kind: str) -> Callable[[Callable[[dict[str, Any]], list[str]]], Callable[[dict[str, Any]], list[str]]]:
    def deco(fn: Callable[[dict[str, Any]], list[str]]) -> Callable[[dict[str, Any]], list[str]]:
        VALIDATORS[kind] = fn
        return fn
    return deco


def pack_dir(locale: str = DEFAULT_LOCALE, rules_dir: str | Path | None = None) -> Path:
    return Path(rules_dir) if rules_dir else RULES_ROOT / locale


@lru_cache(maxsize=256)
def _read(path: Path, mtime: float) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RulePackError("AF301", str(path), reason=f"YAML error: {exc}") from None
    except UnicodeDecodeError as exc:
        raise RulePackError("AF301", str(path), reason=f"not UTF-8 (byte {exc.start}): save the pack as UTF-8") from None
    except IsADirectoryError:
        raise RulePackError("AF301", str(path), reason="a folder named like a pack: rename it") from None
    if not isinstance(data, dict):
        raise RulePackError("AF301", str(path), reason="the top level must be a mapping")
    return data


def load_pack(name: str, locale: str = DEFAULT_LOCALE, rules_dir: str | Path | None = None) -> dict[str, Any]:
    """Load `<rules_dir>/<name>.yaml` (name may contain a folder, e.g. 'industries/power')."""
    if not isinstance(name, str) or not PACK_NAME.fullmatch(name):
        # never a path: "../../etc/x" names no pack (and reads nothing)
        raise RulePackError("AF302", repr(name)[:80])
    path = pack_dir(locale, rules_dir) / f"{name}.yaml"
    if not path.is_file():
        raise RulePackError("AF302", str(path) if rules_dir else name)
    return _read(path, path.stat().st_mtime)


def known_industries(rules_dir: str | Path | None = None, locale: str = DEFAULT_LOCALE) -> tuple[str, ...]:
    """The industries a conversation may name: the glossary's fixed set plus the industry packs
    present (a centre adds an industry as a new file)."""
    folder = pack_dir(locale, rules_dir) / "industries"
    try:
        mtime = folder.stat().st_mtime
    except OSError:
        mtime = 0.0
    return _known_industries(str(folder), mtime)


@lru_cache(maxsize=16)
def _known_industries(folder: str, mtime: float) -> tuple[str, ...]:
    from ..glossary import INDUSTRIES

    packs = {p.stem for p in Path(folder).glob("*.yaml")}
    return tuple(sorted(set(INDUSTRIES) | {p for p in packs if INDUSTRY_NAME.fullmatch(p)}))


def check_industry(value: Any, rules_dir: str | Path | None = None) -> str | None:
    """`value` when it is a known industry (None stays None); AF014 otherwise, listing them."""
    if value is None:
        return None
    known = known_industries(rules_dir)
    if not isinstance(value, str) or value not in known:
        from ..errors import InputError

        raise InputError("AF014", repr(value)[:40], allowed=", ".join(known))
    return value


def list_packs(folder: str, locale: str = DEFAULT_LOCALE, rules_dir: str | Path | None = None) -> list[str]:
    """Names of the packs in a folder of the pack dir, e.g. list_packs('industries')."""
    base = pack_dir(locale, rules_dir) / folder
    return sorted(f"{folder}/{p.stem}" for p in base.glob("*.yaml"))


def check_all(locale: str = DEFAULT_LOCALE, rules_dir: str | Path | None = None) -> dict[str, list[str]]:
    """Validate every pack; returns {pack path: [problems]} (only packs with problems)."""
    from .. import registry

    registry.components.names()  # importing the components registers their validators
    registry.channels.names()  # and so does importing the channel adapters
    for module in VALIDATOR_MODULES:  # packs read outside components (SLA, departments…)
        import_module(module)
    base = pack_dir(locale, rules_dir)
    if not base.is_dir():
        raise RulePackError("AF302", f"{base} (no such folder of rule packs)")
    problems: dict[str, list[str]] = {}
    for path in sorted(base.rglob("*.yaml")):
        rel = path.relative_to(base).with_suffix("").as_posix()
        kind = rel if rel in VALIDATORS else rel.split("/")[0]
        try:
            data = _read(path, path.stat().st_mtime)
        except RulePackError as exc:
            problems[rel] = [exc.message]
            continue
        check = VALIDATORS.get(kind)
        if check is None:
            problems[rel] = [f"no validator knows the pack kind {kind!r}"]
            continue
        found = check(data)
        if found:
            problems[rel] = found
    return problems

