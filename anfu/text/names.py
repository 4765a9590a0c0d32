"""`display_name`: the one rule for the names people give things a centre's staff read in lists —
tenants, teams, queues, 话术 titles. Whitespace runs collapse to one space; a name must have
visible characters, at most `limit` of them, and no invisible or control characters (zero-width
spaces, bidi overrides that reorder what a list shows, NUL): two teams called "一组" and
"一\u200b组" would look the same on every page."""

from __future__ import annotations

from ..errors import StoreError

MAX_NAME = 200


def display_name(value: str | None, kind: str, limit: int = MAX_NAME) -> str:
    """`value` tidied for display; AF505 (`kind` names the object) when nothing visible is left,
    it is too long, or it holds a character that does not print."""
    name = " ".join((value or "").split())
    if not name or len(name) > limit or any(not ch.isprintable() for ch in name):
        raise StoreError("AF505", f"name {name[:40]!r}: 1 to {limit} printable characters, no invisible ones",
                         kind=kind)
    return name
