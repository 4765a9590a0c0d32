"""`Idempotency-Key` on the API's creating requests (`POST /api/v1/notes`, `POST /api/v1/webhooks`).

A client that sends a key makes its retries safe: the same key from the same user (or API token)
of the same tenant, on the same endpoint, with the same body gets the first request's result
again — the same record, answered as the first time with `Idempotent-Replayed: true` — and
nothing is written twice. The same key with another body is AF445 (409) and nothing is written;
so is a retry while the first request is still running. A request that fails leaves its key
unused. Keys are 1 to 255 visible ASCII characters (a UUID is a good key) and are kept for 24
hours (`anfu.store.idempotency_repo`)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Response
from pydantic import BaseModel

from ..errors import InputError
from ..store import IdempotencyStore
from ..store.access import Principal

T = TypeVar("T")
MAX_KEY = 255
_KEY = re.compile(r"[\x21-\x7e]{1,%d}" % MAX_KEY)
REPLAYED = "Idempotent-Replayed"


def idempotency_key(value: Annotated[str | None, Header(
        alias="Idempotency-Key",
        description="makes a retry safe: the same key with the same body returns the first result "
                    "(`Idempotent-Replayed: true`) instead of creating a second record; with another body it "
                    "is AF445 (409). 1 to 255 visible ASCII characters, e.g. a UUID; kept 24 hours")] = None
                    ) -> str | None:
    """The request's Idempotency-Key (None: none sent); AF505 for a malformed one."""
    if value is None:
        return None
    if not _KEY.fullmatch(value):
        raise InputError("AF505", f"Idempotency-Key of {len(value)} characters: use 1 to {MAX_KEY} visible ASCII "
                         "characters without spaces, e.g. a UUID such as 0b6f6a52-4c1e-4d8e-9a57-3f3c1f2a9d10",
                         kind="Idempotency-Key")
    return value


IdempotencyKey = Annotated[str | None, Depends(idempotency_key)]


def owner_of(principal: Principal) -> str:
    """Whose keys: a user's own, or an API token's (by name, within its tenant)."""
    return f"user:{principal.user_id}" if principal.user_id is not None else f"token:{principal.name}"[:200]


def digest_of(body: BaseModel) -> str:
    """SHA-256 of the body as parsed (key order and spacing of the JSON do not matter)."""
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def once(keys: IdempotencyStore, principal: Principal, scope: str, key: str | None, body: BaseModel,
         response: Response, create: Callable[[], T], replay: Callable[[int], T], id_of: Callable[[T], int]) -> T:
    """`create()` once per key: without a key simply `create()`; with one, `replay(id)` of the
    record the key's first request created, or `create()` under the claimed key."""
    if key is None:
        return create()
    claim = keys.claim(principal.tenant_id, owner_of(principal), scope, key, digest_of(body))
    if claim.resource_id is not None:
        response.headers[REPLAYED] = "true"
        return replay(claim.resource_id)
    try:
        result = create()
    except BaseException:
        keys.release(claim)
        raise
    keys.complete(claim, id_of(result))
    return result


__all__: list[Any] = ["IdempotencyKey", "REPLAYED", "digest_of", "idempotency_key", "once", "owner_of"]
