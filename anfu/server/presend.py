"""The pre-send check moved to the service layer (`anfu.service.presend`)."""

from __future__ import annotations

from ..service.presend import check_draft, reply_context, run_presend

__all__ = ["check_draft", "reply_context", "run_presend"]
