"""The complaint desk moved to the service layer (`anfu.service.desk`); the pages use the
app's one desk, `ctx.desk`."""

from __future__ import annotations

from ...service.desk import ACTIONS, PRIORITY_OF_LEVEL, TicketDesk, followup, ledger_entry

__all__ = ["ACTIONS", "PRIORITY_OF_LEVEL", "TicketDesk", "followup", "ledger_entry"]
