from __future__ import annotations

from pathlib import Path

import pytest

import anfu
from anfu.config import load_config
from anfu.errors import ConfigError


def test_default_config_is_valid_and_every_component_registered() -> None:
    from anfu import registry

    cfg = load_config()
    for name in cfg["pipeline"]["components"]:
        assert name in registry.components


@pytest.mark.parametrize("text, code", [
    ("[pipeline]\ncomponents = []\n", "AF102"),
    ("[limits]\nmax_chars = -1\n", "AF102"),
    ("[pipeline\n", "AF103"),
])
def test_bad_config_gets_a_coded_error(tmp_path: Path, text: str, code: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.code == code


def test_unknown_component_names_the_registered_ones() -> None:
    with pytest.raises(ConfigError) as info:
        anfu.load({"pipeline": {"components": ["anfu.normalize.v1", "anfu.nope.v9"]}})
    assert info.value.code == "AF101" and "anfu.normalize.v1" in info.value.message


def test_user_config_overrides_limits(tmp_path: Path) -> None:
    path = tmp_path / "small.toml"
    path.write_text("[limits]\nmax_chars = 10\n", encoding="utf-8")
    analyzer = anfu.load(path)
    with pytest.raises(anfu.AnfuError) as info:
        analyzer("这条消息超过了十个字符的限制，应该被拒绝")
    assert info.value.code == "AF005"
