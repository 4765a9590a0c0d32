"""Private notes (内部备注) on conversations and tickets: what staff write down for each other
(e.g. 客户下午三点后方便接电话；已报抢修单 QX-1123).

Who may read a note is who may see its conversation or ticket, and only staff signed in as
themselves: an integration's API token (a web-chat gateway, a helpdesk connector, the channel
that talks to the customer) never reads or writes notes (AF417). Writing needs the right to
work on the conversation or ticket (auditors read only). Admins and auditors read personal
data in a note masked, as everywhere else. Notes are not part of a ticket's history, so they
never reach webhooks, exports or the customer's survey page. Each new note is audited (who,
when, where; not its text)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..errors import AuthError, InputError
from ..pii import mask
from ..store import Note, NoteStore, Store, WorkflowStore
from ..store.access import Principal, can, sees_identity

MAX_NOTE = 2000
KINDS = ("conversation", "ticket")


@dataclass(frozen=True)
class NoteTarget:
    """Where a note belongs: one conversation or one ticket."""

    kind: str
    id: int

    @property
    def ref(self) -> str:
        return f"{self.kind}:{self.id}"


class Notes:
    def __init__(self, store: Store, workflow: WorkflowStore, notes: NoteStore) -> None:
        self.store = store
        self.workflow = workflow
        self.notes = notes

    @staticmethod
    def _staff(principal: Principal) -> None:
        if principal.user_id is None:
            raise AuthError("AF417", "read or write private notes with an API token (staff accounts only)")

    def _target(self, principal: Principal, target: NoteTarget, *, write: bool) -> None:
        """The conversation or ticket, as `principal` may see it (AF503 when invisible), and,
        for a write, the right to work on it (AF417)."""
        if target.kind == "conversation":
            conversation = self.store.get_conversation(target.id, visible_to=principal)
            if write and not can(principal, "conversation.write", conversation):
                raise AuthError("AF417", "add a note to this conversation")
        elif target.kind == "ticket":
            self.workflow.get_ticket(target.id, visible_to=principal)
            if write and principal.role == "auditor":
                raise AuthError("AF417", "add a note to a ticket (auditors read only)")
        else:
            raise InputError("AF505", repr(target.kind), kind="note target (conversation or ticket)")

    @staticmethod
    def _seen(principal: Principal, note: Note) -> Note:
        return note if sees_identity(principal) else replace(note, text=mask(note.text))

    def list(self, principal: Principal, target: NoteTarget) -> list[Note]:
        """The notes of a conversation or ticket, oldest first."""
        self._staff(principal)
        self._target(principal, target, write=False)
        found = self.notes.list_notes(principal.tenant_id, **{f"{target.kind}_id": target.id})
        return [self._seen(principal, n) for n in found]

    def add(self, principal: Principal, target: NoteTarget, text: str, *, ip: str | None = None) -> Note:
        """Write a note (1 to 2,000 characters) with its author and time."""
        self._staff(principal)
        self._target(principal, target, write=True)
        body = (text or "").strip()
        if not body or len(body) > MAX_NOTE:
            raise InputError("AF505", f"{len(body)} characters", kind=f"note (1 to {MAX_NOTE} characters)")
        note = self.notes.add_note(principal.tenant_id, text=body, author=principal.name,
                                   author_id=principal.user_id, **{f"{target.kind}_id": target.id})
        self.store.audit(principal.tenant_id, principal.actor, "note.added", target=target.ref,
                         detail={"note_id": note.id}, ip=ip)
        return self._seen(principal, note)
