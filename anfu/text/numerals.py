"""Numbers written in Chinese or Arabic digits, as customers write them (三天, 两个小时,
第3次, 十几次, 好几次, 半天)."""

from __future__ import annotations

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4, "五": 5,
           "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
# vague amounts: "几次", "好几次", "多次" read as a small plural
_VAGUE = {"几": 3, "好几": 3, "多": 3, "好多": 5, "无数": 5, "N": 3, "n": 3}


def parse_number(text: str) -> float | None:
    """`"三"` → 3, `"十二"` → 12, `"二十"` → 20, `"3"` → 3, `"半"` → 0.5, `"十几"` → 13,
    `"好几"` → 3; None when `text` is not a number."""
    text = text.strip()
    if not text:
        return None
    if text.isdigit():
        return float(int(text))
    if text == "半":
        return 0.5
    if text in _VAGUE:
        return float(_VAGUE[text])
    if text.endswith("几") and len(text) > 1:  # 十几 → a bit over ten
        base = parse_number(text[:-1])
        return None if base is None else base + 3
    total, current = 0, 0
    for ch in text:
        if ch in _DIGITS:
            current = _DIGITS[ch]
        elif ch in _UNITS:
            total += (current or 1) * _UNITS[ch]
            current = 0
        else:
            return None
    return float(total + current)
