"""Quality assurance of agent replies: the pre-send check (服务忌语) and compliant rewrites.

    >>> from anfu.qa import check_reply
    >>> check_reply("这是我们公司的规定。").violation
    True
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Mapping

from .checker import CONTEXT_KEYS, DEFAULT_MODEL, ReplyCheck, ReplyChecker, sentence_units

__all__ = ["CONTEXT_KEYS", "DEFAULT_MODEL", "ReplyCheck", "ReplyChecker", "check_reply", "default_checker",
           "sentence_units"]


@lru_cache(maxsize=8)
def default_checker(locale: str = "zh_CN", rules_dir: str | None = None,
                    model: str | None = DEFAULT_MODEL) -> ReplyChecker:
    """The shared checker over the shipped packs and reply model (built once per process).

    `model` is "default" (the shipped weights), a weights path, or "none" for the rules alone.
    """
    return ReplyChecker(locale=locale, rules_dir=rules_dir, model=model)


def check_reply(text: str, context: Mapping[str, Any] | None = None) -> ReplyCheck:
    """Check an agent reply before it is sent.

    `context` may carry "cause", "emotion", "customer_text", "what", "when" (and "agent",
    the agent's name) to fill the rewrite. Raises `InputError` (AF003/AF004/AF013) on bad input.
    """
    return default_checker().check(text, context)
