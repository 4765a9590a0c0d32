"""The turn service moved to the service layer (`anfu.service.turns`); this name stays for
existing imports."""

from __future__ import annotations

from ..service.turns import LIVE_WINDOW, ConnectionCache, TurnResult, TurnService, hold_level, ladder_level, live_view, utc

__all__ = ["LIVE_WINDOW", "ConnectionCache", "TurnResult", "TurnService", "hold_level", "ladder_level", "live_view",
           "utc"]
