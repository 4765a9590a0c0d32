"""The latest messages of the conversations this process is serving (issue 15).

A live turn analyses a window of the conversation's latest messages. The process that stored
a conversation's previous turn already holds that window, so `Store.open_turn` asks
`RecentWindows` first and reads the messages table only on a miss. An entry is used only when
it provably equals the table: it names the conversation by id and creation time (SQLite may
give a deleted conversation's id to a new one) and the sequence number of its newest message,
and `open_turn` compares that number with the conversation's `last_seq` read under the row
lock, after every other writer (another thread, another server process, an import through
`append_message`) has finished. Messages are never changed once stored (an erasure deletes the
whole conversation), so equal numbers mean equal messages. An entry is written after its turn
committed; a turn that rolled back leaves `last_seq` where it was, which no entry can match.
Bounded (`size` conversations, least recently used dropped), thread-safe.
"""

from __future__ import annotations

from datetime import datetime
from typing import Sequence

from ..lru import Lru
from .records import MessageRecord

RECENT_CONVERSATIONS = 1024


class RecentWindows:
    def __init__(self, size: int = RECENT_CONVERSATIONS) -> None:
        self.size = size
        self._entries: Lru[tuple[int, datetime], tuple[int, tuple[MessageRecord, ...]]] = Lru(size)

    def get(self, conversation_id: int, created_at: datetime, last_seq: int,
            need: int) -> tuple[MessageRecord, ...] | None:
        """The latest `need` messages (fewer when the conversation has fewer) of a conversation
        whose newest message is `last_seq`, or None when they are not known here."""
        entry = self._entries.get((conversation_id, created_at))
        if entry is None or entry[0] != last_seq or len(entry[1]) < min(need, last_seq):
            return None
        messages = entry[1]
        return messages[-need:] if need > 0 else ()

    def put(self, conversation_id: int, created_at: datetime, messages: Sequence[MessageRecord], keep: int) -> None:
        """Remember the conversation's latest messages (in order, its newest last; all of its
        latest `keep` messages, or all of its messages when it has fewer)."""
        if not messages or keep <= 0:
            return
        self._entries.put((conversation_id, created_at), (messages[-1].seq, tuple(messages[-keep:])))
