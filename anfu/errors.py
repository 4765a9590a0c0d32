"""Coded errors. Every error a user can meet has a stable code and says how to fix it.

Codes are grouped: AF0xx input, AF1xx configuration and registries, AF2xx models and
training, AF3xx rule packs, AF4xx service/API, AF5xx store.
"""

from __future__ import annotations

from typing import Any

MESSAGES: dict[str, str] = {
    # input
    "AF001": "Input line is not valid JSON ({detail}). Write one JSON object per line, e.g. "
             '{{"id": "u1", "text": "电费怎么这么高"}}.',
    "AF002": "Input object needs \"text\" (an utterance) or \"turns\" (a conversation); got keys {detail}.",
    "AF003": "\"text\" must be a string, got {detail}. Quote the message text.",
    "AF004": "\"text\" is empty. Send the customer's words; drop empty messages before analysis.",
    "AF005": "Text is {detail} characters; the limit is {limit}. Split long transcripts into turns.",
    "AF006": "Input is not valid UTF-8 ({detail}). Re-save the file as UTF-8 "
             "(e.g. iconv -f GB18030 -t UTF-8 in.jsonl > out.jsonl).",
    "AF007": "Unknown speaker {detail}. Use \"customer\" or \"agent\".",
    "AF008": "\"turns\" must be a non-empty list of {{\"speaker\", \"text\"}} objects ({detail}).",
    "AF009": "Input line must be a JSON object, got {detail}.",
    "AF010": "Unknown label {detail}. Allowed: {allowed}.",
    "AF011": "Cannot read input file {detail}. Check the path and permissions.",
    "AF012": "Unsupported format {detail}. Use one of: {allowed}.",
    # configuration and registries
    "AF101": "No {registry} is registered as {detail}. Registered: {allowed}.",
    "AF102": "Bad pipeline configuration: {detail}. See anfu/default_config.toml for every key.",
    "AF103": "Cannot read configuration file {detail}: it must be valid TOML.",
    # models and training
    "AF201": "Model weights not found at {detail}. Reinstall anfu or run `anfu train` to create them.",
    "AF202": "Training data {detail} has no usable rows. Each row needs \"text\" and \"emotion\".",
    "AF203": "Training data row {detail}: fix or remove that row.",
    "AF204": "Model file {detail} is damaged or from an incompatible version; retrain with `anfu train`.",
    # rule packs
    "AF301": "Rule pack {detail} is invalid: {reason}. Run `anfu check-rules` for all problems.",
    "AF302": "Rule pack {detail} not found. Packs live in anfu/rules/zh_CN/ or a folder given by --rules.",
}


class AnfuError(Exception):
    """An error with a stable code (`AF###`) and a message that says how to fix it."""

    def __init__(self, code: str, detail: Any = "", **fields: Any) -> None:
        self.code = code
        self.detail = detail
        template = MESSAGES.get(code, "{detail}")
        try:
            message = template.format(detail=detail, **fields)
        except (KeyError, IndexError):
            message = f"{template} ({detail})"
        self.message = message
        super().__init__(f"{code}: {message}")

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class InputError(AnfuError, ValueError):
    """Bad user input (AF0xx)."""


class ConfigError(AnfuError, ValueError):
    """Bad configuration or an unknown registered name (AF1xx)."""


class ModelError(AnfuError, RuntimeError):
    """Missing or damaged model weights, unusable training data (AF2xx)."""


class RulePackError(AnfuError, ValueError):
    """A rule pack that fails validation (AF3xx)."""
