"""The live hub moved to the service layer (`anfu.service.live`); this name stays for
existing imports."""

from __future__ import annotations

from ..service.live import QUEUE_LIMIT, Hub, Subscriber

__all__ = ["QUEUE_LIMIT", "Hub", "Subscriber"]
