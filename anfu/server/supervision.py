"""Supervisor actions moved to the service layer (`anfu.service.supervision`)."""

from __future__ import annotations

from ..service.supervision import join, take_over

__all__ = ["join", "take_over"]
