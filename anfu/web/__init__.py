"""The web workspace's templates, static files and translations (no web framework here:
`anfu.server.web` serves them). `render.Renderer` renders pages and HTMX fragments in the
user's language; `i18n` negotiates it (zh_CN by default, en available)."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"
LOCALE_DIR = HERE / "locale"
