"""Global search (全局搜索, issue 13): conversations by their messages' words, tickets and
customers, for the search box of every page and `GET /api/v1/search`.

The query is cut into words with jieba exactly as the index was (`anfu.text.segment`); a result
holds every word. What a principal finds is what they may open elsewhere (the store applies
`anfu.store.access` in the query: an agent finds their own conversations and tickets, a
supervisor their team's, admins and auditors their tenant's; never another tenant's). What they
read of it is masked as everywhere else: message text and ticket text through `anfu.pii.mask`,
and a customer's name, phone, e-mail and reference through `mask_identity`, for the roles that
do not handle cases (admins, auditors; `anfu.store.access.sees_identity`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

from ..errors import InputError
from ..pii import mask, mask_identity
from ..store import ConversationFilter, SearchStore, Store
from ..store.customers_repo import normalize_email, normalize_phone
from ..store.access import Principal, sees_identity
from ..store.search_repo import MAX_LIMIT, SearchHit
from ..text.normalize import normalize
from ..text.segment import query_terms

KINDS: tuple[str, ...] = ("conversation", "ticket", "customer")
_STORE_KIND = {"conversation": "message", "ticket": "ticket", "customer": "customer"}
MAX_QUERY = 100
SNIPPET = 80
BEFORE = 20


@dataclass(frozen=True)
class SearchResult:
    """One thing found: a conversation (through its best message), a ticket or a customer.
    `snippet` is masked for the asking role; `highlights` are [start, end) offsets of the query's
    words in it; `link` is the page that opens it (None when there is none to open)."""

    kind: str
    id: int
    title: str
    snippet: str
    highlights: list[tuple[int, int]]
    at: datetime
    link: str | None
    conversation_id: int | None = None
    message_id: int | None = None
    speaker: str | None = None
    status: str | None = None
    channel: str | None = None


@dataclass(frozen=True)
class SearchResults:
    query: str
    terms: list[str]
    kinds: tuple[str, ...]
    results: dict[str, list[SearchResult]]
    more: dict[str, bool]
    elapsed_ms: float
    masked: bool = False
    total: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "total", sum(len(v) for v in self.results.values()))


def parse_query(query: str | None) -> list[str]:
    """The query's words (AF680 when it has none, AF681 when it is too long)."""
    if query is None or not query.strip():
        raise InputError("AF680", "empty")
    if len(query) > MAX_QUERY:
        raise InputError("AF681", len(query), limit=MAX_QUERY)
    terms = query_terms(query)
    if not terms:
        raise InputError("AF680", "only punctuation or symbols")
    return terms


def parse_kinds(kind: str | None) -> tuple[str, ...]:
    """`kind` is one of KINDS, or None / "all" for every kind (AF682 otherwise)."""
    if kind is None or kind in ("", "all"):
        return KINDS
    if kind not in KINDS:
        raise InputError("AF682", repr(kind), kind="search kind", allowed=", ".join(("all",) + KINDS))
    return (kind,)


def snippet(text: str, terms: list[str], width: int = SNIPPET) -> tuple[str, list[tuple[int, int]]]:
    """A window of `text` around the first query word, with every word's spans in it. Offsets
    are found on the normalised text, which keeps the original's length (anfu.text.normalize)."""
    folded = normalize(text)
    spans = []
    for term in terms:
        start = folded.find(term)
        while start >= 0:
            spans.append((start, start + len(term)))
            start = folded.find(term, start + len(term))
    spans.sort()
    first = spans[0][0] if spans else 0
    begin = max(0, min(first - BEFORE, len(text) - width))
    end = min(len(text), begin + width)
    lead = "…" if begin > 0 else ""
    tail = "…" if end < len(text) else ""
    shift = len(lead) - begin
    inside = [(max(s, begin) + shift, min(e, end) + shift) for s, e in spans if s < end and e > begin]
    merged: list[tuple[int, int]] = []
    for s, e in inside:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return lead + text[begin:end] + tail, merged


class Search:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.index = SearchStore(store.engine, mask_text=store.mask_text, clock=store.clock)

    def search(self, principal: Principal, query: str | None, kind: str | None = None, *,
               limit: int = 20) -> SearchResults:
        """Search what `principal` may see; `limit` (1–50) results per kind, best first."""
        started = time.perf_counter()
        terms = parse_query(query)
        kinds = parse_kinds(kind)
        if not 1 <= limit <= MAX_LIMIT:
            raise InputError("AF505", f"limit={limit} (1 ≤ limit ≤ {MAX_LIMIT})", kind="search")
        store_kinds = tuple(_STORE_KIND[k] for k in kinds)
        # the store gives one message per conversation (the newest matching), `limit` + 1 of them
        hits = self.index.search(principal, terms, kinds=store_kinds, limit=limit, digests=self._digests(query or ""))
        masked = not sees_identity(principal)
        results: dict[str, list[SearchResult]] = {}
        more: dict[str, bool] = {}
        for kind_name in kinds:
            found = hits.get(_STORE_KIND[kind_name], [])
            if kind_name == "conversation":
                rows = self._conversations(principal, found, terms, masked)
                more[kind_name] = len(rows) > limit
            else:
                rows = [self._one(principal, hit, terms, masked) for hit in found]
                more[kind_name] = len(rows) > limit
            results[kind_name] = rows[:limit]
        return SearchResults(query=query or "", terms=terms, kinds=kinds, results=results, more=more,
                             elapsed_ms=round((time.perf_counter() - started) * 1000, 1), masked=masked)

    def _digests(self, query: str) -> list[str]:
        """The query as a phone number and as an e-mail address, digested the way customers are
        matched (`Store.pii_digest`), so any spelling of a number finds its customer."""
        out = []
        phone = normalize_phone(query) if 7 <= sum(ch.isdigit() for ch in query) <= 16 else None
        email = normalize_email(query) if "@" in query else None
        for value in (phone, email):
            digest = self.store.pii_digest(value) if value and " " not in value else None
            if digest:
                out.append(digest)
        return out

    def _conversations(self, principal: Principal, hits: list[SearchHit], terms: list[str],
                       masked: bool) -> list[SearchResult]:
        seen: set[int] = set()
        out = []
        link = "/review/{}" if principal.role == "auditor" else "/console/{}"
        for hit in hits:
            if hit.conversation_id is None or hit.conversation_id in seen:
                continue
            seen.add(hit.conversation_id)
            text, spans = snippet(mask(hit.text) if masked else hit.text, terms)
            out.append(SearchResult("conversation", hit.conversation_id, f"#{hit.conversation_id}", text, spans,
                                    hit.at, link.format(hit.conversation_id), conversation_id=hit.conversation_id,
                                    message_id=hit.id, speaker=hit.speaker, status=hit.status, channel=hit.channel))
        return out

    def _one(self, principal: Principal, hit: SearchHit, terms: list[str], masked: bool) -> SearchResult:
        if hit.kind == "ticket":
            text, spans = snippet(mask(hit.text) if masked else hit.text, terms)
            return SearchResult("ticket", hit.id, hit.title, text, spans, hit.at, f"/tickets/{hit.id}",
                                conversation_id=hit.conversation_id, status=hit.status, channel=hit.channel)
        customer = hit.customer
        assert customer is not None
        identity = {k: getattr(customer, k) or "" for k in ("display_name", "external_ref", "email", "phone")}
        if masked:
            identity = {k: mask_identity(k, v) if v else v for k, v in identity.items()}
        text, spans = snippet(" · ".join(v for v in identity.values() if v), terms)
        latest = self.store.list_conversations(principal, ConversationFilter(customer_id=customer.id),
                                               page_size=1).items
        conversation_id = latest[0].id if latest else None
        link = None if conversation_id is None else (
            f"/review/{conversation_id}" if principal.role == "auditor" else f"/console/{conversation_id}")
        return SearchResult("customer", customer.id, identity["display_name"] or identity["external_ref"] or
                            f"#{customer.id}", text, spans, hit.at, link, conversation_id=conversation_id)


__all__ = ["KINDS", "MAX_QUERY", "Search", "SearchResult", "SearchResults", "parse_kinds", "parse_query", "snippet"]
