"""The canned-reply library (话术库) of a tenant: agents read it, supervisors and admins
write it. Every entry passes the pre-send check (`anfu.qa.check_reply`) when it is saved:
a reply with a forbidden phrase or behaviour is refused with its findings and the
compliant rewrite (AF670), so the library never teaches what the check would stop."""

from __future__ import annotations

from typing import Any

from ..errors import AnfuError, AuthError
from ..glossary import EMOTIONS
from ..qa import check_reply
from ..store import CannedReply, IntegrationStore
from ..store.access import Principal

WRITERS = frozenset({"supervisor", "admin"})


class ReplyRejected(AnfuError):
    """AF670 with the pre-send check's findings and rewrite attached."""

    def __init__(self, findings: list[dict[str, Any]], rewrite: str | None) -> None:
        reasons = "; ".join(f"{f['category']}: {f['message']}" for f in findings[:3]) or "flagged"
        super().__init__("AF670", reasons, rewrite=rewrite or "（无）")
        self.findings = findings
        self.rewrite = rewrite


class ReplyLibrary:
    def __init__(self, store: IntegrationStore) -> None:
        self.store = store

    @staticmethod
    def _writer(principal: Principal) -> None:
        if principal.role not in WRITERS:
            raise AuthError("AF417", "edit the canned-reply library (supervisors and admins)")

    @staticmethod
    def check(text: str, emotion: str | None = None) -> None:
        result = check_reply(text, {"emotion": emotion} if emotion else None)
        if result.violation:
            raise ReplyRejected(result.to_dict()["findings"], result.rewrite)

    def list(self, principal: Principal, *, category: str | None = None, emotion: str | None = None,
             include_inactive: bool = False) -> list[CannedReply]:
        active = None if include_inactive and principal.role in WRITERS else True
        return self.store.list_replies(principal.tenant_id, category=category, emotion=emotion, active=active)

    def get(self, principal: Principal, reply_id: int) -> CannedReply:
        return self.store.get_reply(reply_id, principal.tenant_id)

    def create(self, principal: Principal, *, title: str, text: str, category: str | None = None,
               emotion: str | None = None) -> CannedReply:
        self._writer(principal)
        self._emotion(emotion)
        self.check(text, emotion)
        return self.store.create_reply(principal.tenant_id, title=title, text=text, category=category,
                                       emotion=emotion, by=principal.actor)

    def update(self, principal: Principal, reply_id: int, **changes: Any) -> CannedReply:
        self._writer(principal)
        current = self.store.get_reply(reply_id, principal.tenant_id)
        changes = {k: v for k, v in changes.items() if v is not None}
        self._emotion(changes.get("emotion"))
        if "text" in changes or "emotion" in changes:
            self.check(changes.get("text", current.text), changes.get("emotion", current.emotion))
        return self.store.update_reply(reply_id, principal.tenant_id, by=principal.actor, **changes)

    @staticmethod
    def _emotion(emotion: str | None) -> None:
        if emotion is not None and emotion not in EMOTIONS:
            from ..errors import InputError

            raise InputError("AF010", repr(emotion), allowed=", ".join(EMOTIONS))
