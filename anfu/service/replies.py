"""The canned-reply library (话术库) of a tenant: agents read it, supervisors and admins
write it. Each entry names the scenario it is for (`category`, e.g. 停电抢修), and may name the
customer emotion and customer type (persona, 客户画像) it suits. Every entry passes the
pre-send check (`anfu.service.presend.check_draft`, the composer's own check) when it is saved:
a reply with a forbidden phrase or behaviour is refused with its findings and the compliant
rewrite (AF670), so the library never teaches what the check would stop.

`pick` is the composer's 话术 search: the entries matching the words typed, those suited to the
current customer's emotion and persona first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..errors import AnfuError, AuthError, InputError
from ..glossary import EMOTIONS, PERSONAS
from ..store import CannedReply, IntegrationStore
from ..store.access import Principal
from ..text.names import display_name
from .presend import check_draft

WRITERS = frozenset({"supervisor", "admin"})
MAX_PICK = 50


@dataclass(frozen=True)
class PickedReply:
    """A canned reply found for the composer, and whether it suits the current customer."""

    reply: CannedReply
    fits_emotion: bool
    fits_persona: bool

    @property
    def fits(self) -> bool:
        return self.fits_emotion or self.fits_persona


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
        """The composer's pre-send check, for a customer in `emotion` when the entry names one."""
        data = {"turns": [{"speaker": "customer", "emotion": emotion}]} if emotion else None
        result = check_draft(text, data, None)
        if result["violation"]:
            raise ReplyRejected(result["findings"], result["rewrite"])

    def list(self, principal: Principal, *, category: str | None = None, emotion: str | None = None,
             include_inactive: bool = False, persona: str | None = None) -> list[CannedReply]:
        self._emotion(emotion)  # an unknown label is AF010, not an empty list
        self._persona(persona)
        active = None if include_inactive and principal.role in WRITERS else True
        return self.store.list_replies(principal.tenant_id, category=category, emotion=emotion, active=active,
                                       persona=persona)

    def pick(self, principal: Principal, query: str = "", *, category: str | None = None,
             emotion: str | None = None, persona: str | None = None, customer_emotion: str | None = None,
             customer_persona: str | None = None, limit: int = MAX_PICK) -> list[PickedReply]:
        """Active entries whose title, text or scenario contain every word of `query` (and match
        the filters), those that suit the customer's emotion and persona first, then by title."""
        self._emotion(emotion)
        self._persona(persona)
        words = [w for w in (query or "").lower().split() if w]
        found = []
        for reply in self.list(principal, category=category, emotion=emotion, persona=persona):
            hay = f"{reply.title} {reply.text} {reply.category or ''}".lower()
            if all(w in hay for w in words):
                found.append(PickedReply(reply, bool(customer_emotion) and reply.emotion == customer_emotion,
                                         bool(customer_persona) and reply.persona == customer_persona))
        found.sort(key=lambda p: (-(p.fits_emotion + p.fits_persona), p.reply.title, p.reply.id))
        return found[:limit]

    def categories(self, principal: Principal) -> list[str]:
        """The scenarios the tenant's library names, for filters."""
        return sorted({r.category for r in self.list(principal, include_inactive=True) if r.category})

    def get(self, principal: Principal, reply_id: int) -> CannedReply:
        return self.store.get_reply(reply_id, principal.tenant_id)

    def create(self, principal: Principal, *, title: str, text: str, category: str | None = None,
               emotion: str | None = None, persona: str | None = None) -> CannedReply:
        self._writer(principal)
        title = display_name(title, "reply")  # a visible title, as team and queue names
        self._emotion(emotion)
        self._persona(persona)
        self.check(text, emotion)
        return self.store.create_reply(principal.tenant_id, title=title, text=text, category=category,
                                       emotion=emotion, persona=persona, by=principal.actor)

    def update(self, principal: Principal, reply_id: int, *, expected_updated_at: datetime | None = None,
               **changes: Any) -> CannedReply:
        """Change a 话术; a new text or emotion is checked again. `expected_updated_at`: the
        version the caller read (the edit form); one changed since is AF673 and nothing changes."""
        self._writer(principal)
        current = self.store.get_reply(reply_id, principal.tenant_id)
        changes = {k: v for k, v in changes.items() if v is not None}
        if "title" in changes:
            changes["title"] = display_name(changes["title"], "reply")
        self._emotion(changes.get("emotion"))
        self._persona(changes.get("persona"))
        if "text" in changes or "emotion" in changes:
            self.check(changes.get("text", current.text), changes.get("emotion", current.emotion))
        return self.store.update_reply(reply_id, principal.tenant_id, by=principal.actor,
                                       expected_updated_at=expected_updated_at, **changes)

    @staticmethod
    def _emotion(emotion: str | None) -> None:
        if emotion is not None and emotion not in EMOTIONS:
            raise InputError("AF010", repr(emotion), allowed=", ".join(EMOTIONS))

    @staticmethod
    def _persona(persona: str | None) -> None:
        if persona is not None and persona not in PERSONAS:
            raise InputError("AF010", repr(persona), allowed=", ".join(PERSONAS))
