"""Languages of the web workspace: gettext catalogues compiled by Babel under
`anfu/web/locale/<locale>/LC_MESSAGES/messages.mo`. Simplified Chinese is the source
language (the msgids), English is a translation. The choice is kept in a cookie.

Refresh the catalogues after changing templates::

    pybabel extract -F anfu/web/babel.cfg -k N_ -o anfu/web/locale/messages.pot anfu/web anfu/server/web
    pybabel update -i anfu/web/locale/messages.pot -d anfu/web/locale
    pybabel compile -d anfu/web/locale
"""

from __future__ import annotations

from functools import lru_cache

from babel.support import NullTranslations, Translations

from . import LOCALE_DIR

LOCALES: tuple[str, ...] = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
LANG_COOKIE = "anfu_lang"
# <html lang> and ECharts locale of each
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}
CHART_LOCALE = {"zh_CN": "ZH", "en": "EN"}


def pick_locale(cookie: str | None, accept_language: str | None = None) -> str:
    """The cookie's choice when it names a known locale; else zh_CN (the service's default,
    whatever the browser says: the staff of a Chinese service centre read Chinese)."""
    if cookie in LOCALES:
        return cookie  # type: ignore[return-value]
    return DEFAULT_LOCALE


@lru_cache(maxsize=None)
def translations(locale: str) -> NullTranslations:
    """The compiled catalogue of `locale` (the source locale gets its own catalogue too, so
    plural forms and context work the same)."""
    if locale not in LOCALES:
        raise ValueError(f"unknown locale {locale!r}; known: {', '.join(LOCALES)}")
    return Translations.load(str(LOCALE_DIR), [locale], domain="messages")
