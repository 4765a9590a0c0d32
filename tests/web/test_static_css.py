"""The workspace stylesheet (anfu/web/static/css/anfu.css) read as text: colours that only show
when the data calls for them — a ticket's priority — meet WCAG AA contrast (4.5:1 for their 12 px
text) on the page and the panel backgrounds. The browser walk (test_accessibility.py) checks what
today's demo data happens to show; an urgent ticket on the page background failed it at 4.42:1
only on the runs whose walk opened one."""

from __future__ import annotations

import re
from pathlib import Path

CSS = Path(__file__).resolve().parents[2] / "anfu" / "web" / "static" / "css" / "anfu.css"


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_contrast_formula() -> None:
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast("#dc2626", "#f3f5f8"), 2) == 4.42  # the colour that failed


def test_priority_colours_meet_aa_on_page_and_panel() -> None:
    css = CSS.read_text(encoding="utf-8")
    variables = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", css))
    found = dict(re.findall(r"\.prio-(\w+)\s*\{\s*color:\s*([^;}]+)", css))
    assert set(found) == {"urgent", "high", "normal", "low"}, found
    for level, value in found.items():
        value = value.strip()
        colour = variables[value[6:-1]] if value.startswith("var(--") else value
        for background in ("bg", "panel"):
            ratio = contrast(colour, variables[background])
            assert ratio >= 4.5, f".prio-{level} {colour} on --{background} {variables[background]}: {ratio:.2f}"
