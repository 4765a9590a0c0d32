"""Pipeline configuration: the shipped `default_config.toml`, merged with a user file."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

from .errors import ConfigError

DEFAULT_CONFIG_PATH = Path(__file__).with_name("default_config.toml")


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def read_toml(path: str | Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError("AF103", f"{path} ({exc})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError("AF103", f"{path} (not UTF-8 at byte {exc.start}: save it as UTF-8)") from None


def load_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Default config, then the file at `path`, then `overrides`; validated."""
    config = read_toml(DEFAULT_CONFIG_PATH)
    if path is not None:
        config = _merge(config, read_toml(path))
    if overrides:
        config = _merge(config, overrides)
    validate(config)
    return config


LIMITS = frozenset({"max_chars", "turn_memo"})


def validate(config: dict[str, Any]) -> None:
    pipeline = config.get("pipeline")
    if not isinstance(pipeline, dict):
        raise ConfigError("AF102", "missing [pipeline] table")
    names = pipeline.get("components")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names) or not names:
        raise ConfigError("AF102", "[pipeline].components must be a non-empty list of names")
    limits = config.get("limits", {})
    unknown = sorted(set(limits) - LIMITS) if isinstance(limits, dict) else []
    if unknown:  # a typo (max_char) was ignored and the default applied
        raise ConfigError("AF102", f"[limits] has no key {unknown[0]!r} (known: {', '.join(sorted(LIMITS))})")
    max_chars = limits.get("max_chars", 20000)
    if not isinstance(max_chars, int) or isinstance(max_chars, bool) or max_chars < 1:
        raise ConfigError("AF102", "[limits].max_chars must be a positive integer")
    turn_memo = limits.get("turn_memo", 4096)
    if not isinstance(turn_memo, int) or isinstance(turn_memo, bool) or turn_memo < 0:
        raise ConfigError("AF102", "[limits].turn_memo must be an integer ≥ 0 (0 = off)")
    sections = config.get("components", {})
    if not isinstance(sections, dict) or not all(isinstance(v, dict) for v in sections.values()):
        raise ConfigError("AF102", "[components.\"name\"] sections must be tables")
