"""Jinja2 rendering of the web workspace: one environment per language (gettext installed
with `jinja2.ext.i18n`), whole pages or single blocks as HTMX fragments (jinja2-fragments).

Templates never contain inline scripts or styles (the CSP allows only our own files); data
for charts travels in `<script type="application/json">` blocks that are never executed.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any, Callable
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from jinja2_fragments import render_block
from markupsafe import Markup, escape

from . import TEMPLATES_DIR, labels, pack_labels
from .i18n import CHART_LOCALE, HTML_LANG, LOCALES, translations

DISPLAY_TZ = ZoneInfo("Asia/Shanghai")


def local_time(value: datetime | str | None, fmt: str = "%m-%d %H:%M") -> str:
    """A UTC time shown in Beijing time (the service centre's clock)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(DISPLAY_TZ).strftime(fmt)


def duration(seconds: float | timedelta | None, locale: str = "zh_CN") -> str:
    """A signed duration as 1天3小时 / 3小时12分 / 45分 (or 1d 3h / 3h 12m / 45m)."""
    if seconds is None:
        return "—"
    if isinstance(seconds, timedelta):
        seconds = seconds.total_seconds()
    sign = "-" if seconds < 0 else ""
    minutes = int(abs(seconds) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    zh = locale == "zh_CN"
    units = ("天", "小时", "分") if zh else ("d ", "h ", "m")
    if days:
        text = f"{days}{units[0]}{hours}{units[1]}"
    elif hours:
        text = f"{hours}{units[1]}{mins}{units[2]}"
    else:
        text = f"{mins}{units[2]}"
    return sign + text.strip()


def highlight(text: str, spans: list[tuple[int, int]]) -> Markup:
    """`text` escaped, with the [start, end) spans wrapped in <mark> (overlaps merged)."""
    out: list[str] = []
    pos = 0
    for start, end in sorted(spans):
        start, end = max(start, pos), min(end, len(text))
        if end <= start:
            continue
        out.append(str(escape(text[pos:start])))
        out.append(f'<mark class="forbidden">{escape(text[start:end])}</mark>')
        pos = end
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))


def spans(findings: list[dict[str, Any]] | None) -> list[tuple[int, int]]:
    """(start, end) of each finding or trigger that has offsets; a "consider" hint of the
    in-context check is advice, not a forbidden phrase, so it is not marked."""
    return [(f["start"], f["end"]) for f in findings or []
            if isinstance(f.get("start"), int) and isinstance(f.get("end"), int) and f.get("level") != "consider"]


def to_json(value: Any) -> Markup:
    """JSON for a `<script type="application/json">` block: `<`, `>` and `&` escaped so the
    data can never close the element."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


class Renderer:
    """`Renderer().page("console.html", "zh_CN", **context)` or `.fragment(..., block=...)`."""

    def __init__(self, templates_dir: str | None = None) -> None:
        self.templates_dir = str(templates_dir or TEMPLATES_DIR)

    @cached_property
    def environments(self) -> dict[str, Environment]:
        return {locale: self._environment(locale) for locale in LOCALES}

    def _environment(self, locale: str) -> Environment:
        env = Environment(loader=FileSystemLoader(self.templates_dir), autoescape=select_autoescape(["html"]),
                          extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
        env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
        # `_(x)` is trusted markup in Jinja: `_(team.name)` with a team named "<script>…" ran it
        # (stored XSS). Our messages hold no markup, so every message is escaped before the
        # variables are put in (which Markup escapes too): `_()` of anything is text.
        env.globals.update(gettext=_escaping_gettext(translations(locale).gettext),
                           ngettext=_escaping_ngettext(translations(locale).ngettext))
        env.globals["_"] = env.globals["gettext"]
        env.globals.update(
            locale=locale, html_lang=HTML_LANG[locale], chart_locale=CHART_LOCALE[locale], labels=labels,
            locales=LOCALES,
            emotion_name=lambda label: labels.emotion_name(label, locale),
            cause_name=lambda label: labels.cause_name(label, locale),
            intensity_name=lambda level: labels.intensity_name(level, locale),
            tone=lambda label: labels.EMOTION_TONE.get(label or "", "none"),
            # punctuation between a label and its value or between list items, in the page's language
            colon="：" if locale == "zh_CN" else ": ", list_sep="、" if locale == "zh_CN" else ", ",
            sop_action=lambda name: pack_labels.sop_action(name, locale),
            playbook_item=lambda text: pack_labels.playbook_item(text, locale),
            rubric_finding=lambda message: pack_labels.rubric_finding(message, locale),
            ladder_label=lambda level, stored=None: pack_labels.ladder_label(level, stored, locale),
            reason_text=lambda reason: pack_labels.reason_text(reason, locale),
            persona_evidence=lambda persona: pack_labels.persona_evidence(persona, locale),
            suggestion_why=lambda suggestion: pack_labels.suggestion_why(suggestion, locale),
            finding_text=lambda message: pack_labels.finding_text(message, locale),
        )
        env.filters.update(
            local_time=local_time, to_json=to_json, highlight=highlight, spans=spans,
            duration=lambda seconds: duration(seconds, locale),
        )
        return env

    def page(self, template: str, locale: str, **context: Any) -> str:
        return self.environments[locale].get_template(template).render(**context)

    def fragment(self, template: str, block: str, locale: str, **context: Any) -> str:
        return render_block(self.environments[locale], template, block, **context)


def _escaping_gettext(func: Callable[[str], str]) -> Callable[..., Markup]:
    def gettext(__string: str, **variables: Any) -> Markup:
        return escape(func(str(__string))) % variables

    return gettext


def _escaping_ngettext(func: Callable[[str, str, int], str]) -> Callable[..., Markup]:
    def ngettext(__singular: str, __plural: str, __num: int, **variables: Any) -> Markup:
        variables.setdefault("num", __num)
        return escape(func(str(__singular), str(__plural), __num)) % variables

    return ngettext
