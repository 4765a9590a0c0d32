"""A component refuses a rule pack that its validator rejects, with a coded error (AF301)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from anfu.components.escalation import Escalation
from anfu.components.persona import Persona
from anfu.errors import RulePackError
from anfu.rules import load_pack
from anfu.rules.checked import load_checked


def test_broken_pack_gives_af301(tmp_path: Path) -> None:
    pack = load_pack("personas")
    pack = {**pack, "types": {k: v for k, v in pack["types"].items() if k != "沉默型"}}
    (tmp_path / "personas.yaml").write_text(yaml.safe_dump(pack, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RulePackError) as info:
        Persona(rules_dir=str(tmp_path))
    assert info.value.code == "AF301"
    assert "沉默型" in info.value.message


def test_missing_pack_gives_af302(tmp_path: Path) -> None:
    with pytest.raises(RulePackError) as info:
        Escalation(rules_dir=str(tmp_path))
    assert info.value.code == "AF302"


def test_valid_pack_loads() -> None:
    assert "types" in load_checked("personas")
