"""Bundled demo conversations (written by the Anfu developers) and the zh-CN demo report."""

from __future__ import annotations

import json
from pathlib import Path

from ..intake import parse_record
from ..types import Conversation

DEMO_FILE = Path(__file__).with_name("conversations.jsonl")


def demo_conversations() -> list[Conversation]:
    rows = [json.loads(line) for line in DEMO_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [parse_record(row) for row in rows]  # type: ignore[misc]
