"""The gettext catalogues: every message has an English translation, the compiled .mo files
match their .po files, and the renderer's helpers behave."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from anfu.web import LOCALE_DIR
from anfu.web.i18n import pick_locale, translations
from anfu.web.render import duration, highlight, local_time, to_json


def test_every_message_is_translated_to_english():
    with open(LOCALE_DIR / "en" / "LC_MESSAGES" / "messages.po", "rb") as f:
        catalog = read_po(f, locale="en")
    untranslated = [m.id for m in catalog if m.id and not m.string]
    assert not untranslated, untranslated
    assert not [m.id for m in catalog if m.id and m.fuzzy]


def test_compiled_catalogues_match_sources():
    for locale in ("zh_CN", "en"):
        folder = LOCALE_DIR / locale / "LC_MESSAGES"
        with open(folder / "messages.po", "rb") as f:
            po = {m.id: m.string for m in read_po(f, locale=locale) if m.id and m.string}
        with open(folder / "messages.mo", "rb") as f:
            mo = {m.id: m.string for m in read_mo(f) if m.id}
        assert po == mo, f"run pybabel compile -d anfu/web/locale ({locale})"


def test_translations_and_locale_choice():
    assert translations("en").gettext("坐席工作台") == "Agent console"
    assert translations("zh_CN").gettext("坐席工作台") == "坐席工作台"
    assert pick_locale(None, "en-US,en;q=0.9") == "zh_CN"  # Chinese first, whatever the browser says
    assert pick_locale("en") == "en" and pick_locale("fr") == "zh_CN"


def test_highlight_escapes_and_marks():
    html = str(highlight("这是我们公司的规定<b>", [(0, 9)]))
    assert html == '<mark class="forbidden">这是我们公司的规定</mark>&lt;b&gt;'


def test_json_block_cannot_close_its_script_element():
    assert "</script>" not in str(to_json({"text": "</script><script>alert(1)</script>"}))


def test_duration_and_local_time():
    assert duration(3 * 3600 + 12 * 60) == "3小时12分"
    assert duration(-(26 * 3600), "en") == "-1d 2h"
    assert local_time(datetime(2025, 7, 8, 1, 30, tzinfo=timezone.utc)) == "07-08 09:30"
    assert duration(timedelta(minutes=45)) == "45分"


def test_consider_hints_are_not_marked_as_forbidden() -> None:
    from anfu.web.render import spans

    findings = [{"start": 0, "end": 4, "level": "must_fix"}, {"start": 5, "end": 9, "level": "consider"},
                {"start": 10, "end": 12}]  # rule findings from before levels existed
    assert spans(findings) == [(0, 4), (10, 12)]
    assert str(highlight("这不归我们管，您再等等。", [(0, 6)])).startswith('<mark class="forbidden">')


def test_gettext_of_data_is_escaped_text() -> None:
    """`_(x)` is trusted markup in stock Jinja, so `_(team.name)` ran a team named "<script>…"
    (found by tests/security/test_probe_web.py). The workspace's `_` and `ngettext` escape every
    message, in both languages, and still translate and format."""
    from anfu.web.render import Renderer

    environments = Renderer().environments
    for locale, env in environments.items():
        page = env.from_string('<p>{{ _(name) }}</p><p>{{ _("班组") }}</p>'
                               '<p>{{ ngettext("%(num)s 条", "%(num)s 条", 2) }}</p>')
        html = page.render(name='<img src=x onerror="alert(1)">客服一组')
        assert "<img" not in html and '&lt;img src=x onerror=&#34;alert(1)&#34;&gt;客服一组' in html, locale
        assert ("<p>Team</p>" if locale == "en" else "<p>班组</p>") in html
        assert "<p>2 条</p>" in html
