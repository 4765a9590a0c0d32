"""Pure ASGI middleware: body size and encoding limits, security headers with a CSP, and
request logging (the `anfu.server.access` logger, whose records pass the PII-masking filter).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any, Awaitable, Callable
from urllib.parse import unquote_plus

from .errors import ApiError, error_body, status_of

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

access_log = logging.getLogger("anfu.server.access")

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
       "form-action 'self'; frame-ancestors 'none'")


async def _send_error(send: Send, error: ApiError, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps(error_body(error.code, error.message), ensure_ascii=False).encode("utf-8")
    await send({"type": "http.response.start", "status": status_of(error),
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


# U+0000 as a form field or a page's query parameter carries it (percent-encoded or raw)
_NUL_FORMS = (b"%00", b"\x00")
FORM_TYPE = "application/x-www-form-urlencoded"
NUL_REFUSED = "a form field or query parameter holds U+0000 (NUL): remove it"


def _has_nul(raw: bytes) -> bool:
    return any(nul in raw for nul in _NUL_FORMS)


def _content_param(ctype: str, name: str) -> str | None:
    """A parameter of a Content-Type value (`charset`, `boundary`), or None."""
    return ctype.split(f"{name}=", 1)[1].split(";")[0].strip(' "') if f"{name}=" in ctype else None


def _multipart_field_has_nul(body: bytes, ctype: str) -> bool:
    """A NUL in a text field of a multipart form (`Form()` reads those too); a file part may
    hold any byte (an Excel upload does), so parts with a file name are not looked at."""
    boundary = _content_param(ctype, "boundary")
    if not boundary or b"\x00" not in body:
        return False
    for part in body.split(b"--" + boundary.encode("latin-1")):
        head, _, content = part.partition(b"\r\n\r\n")
        if b"\x00" in content and b"filename=" not in head.lower():
            return True
    return False


class BodyLimit:
    """Refuse bodies over the limit (AF432, 413) before the app reads them, and JSON bodies that
    are not UTF-8 (AF433, 400) or declare another charset. Uploads under `upload_prefix` get
    the larger `upload_limit`; their encoding is the channel adapter's business.

    The web pages' form posts and query strings with U+0000 are refused (AF505, 422): a NUL in
    a note was stored as is on SQLite and failed on PostgreSQL, which cannot store it in text.
    (The API's JSON schemas replace it with U+FFFD instead, `anfu.server.schemas._In`.)"""

    def __init__(self, app: ASGIApp, limit: int, upload_limit: int, upload_prefix: str,
                 page_error: Callable[[Scope, ApiError], Awaitable[ASGIApp | None]] | None = None) -> None:
        self.app = app
        self.limit = limit
        self.upload_limit = upload_limit
        self.upload_prefix = upload_prefix
        # a browser's page request gets the error page instead of the JSON body (the web layer's
        # `page_errors.refusal_page`, given by the app: this layer does not import the pages)
        self.page_error = page_error

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, error: ApiError) -> None:
        page = await self.page_error(scope, error) if self.page_error is not None else None
        if page is not None:
            await page(scope, receive, send)
        else:
            await _send_error(send, error)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and b"%00" in scope.get("query_string", b"") \
                and not scope["path"].startswith("/api/"):
            await self._refuse(scope, receive, send, ApiError("AF505", NUL_REFUSED, status=422, kind="request"))
            return
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self.upload_limit if scope["path"].startswith(self.upload_prefix) else self.limit
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._refuse(scope, receive, send, ApiError("AF432", status=413, limit=limit))
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(scope, receive, send, ApiError("AF432", status=413, limit=limit))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        ctype = (_header(scope, b"content-type") or "").lower()
        if (ctype.startswith(FORM_TYPE) and _has_nul(body)) or \
                (ctype.startswith("multipart/form-data") and _multipart_field_has_nul(body, ctype)):
            await self._refuse(scope, receive, send, ApiError("AF505", NUL_REFUSED, status=422, kind="form"))
            return
        if "json" in ctype and body:
            charset = _content_param(ctype, "charset")
            charset = "utf-8" if charset is None else charset
            if charset not in ("utf-8", "utf8"):
                await _send_error(send, ApiError("AF433", f"declared charset {charset}", status=415))
                return
            try:
                body.decode("utf-8")
            except UnicodeDecodeError as exc:
                await _send_error(send, ApiError("AF433", f"byte {exc.start}", status=400))
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class SecurityHeaders:
    """CSP and the usual hardening headers on every HTTP response; `no-store` on the API."""

    def __init__(self, app: ASGIApp, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = scope["path"].startswith("/api/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                extra = [(b"content-security-policy", CSP.encode()),
                         (b"x-content-type-options", b"nosniff"),
                         (b"x-frame-options", b"DENY"),
                         (b"referrer-policy", b"no-referrer"),
                         (b"cross-origin-opener-policy", b"same-origin"),
                         (b"cross-origin-resource-policy", b"same-origin"),
                         (b"permissions-policy", b"camera=(), microphone=(), geolocation=()")]
                if api:
                    extra.append((b"cache-control", b"no-store"))
                if self.hsts:
                    extra.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
                headers.extend((k, v) for k, v in extra if k not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


# Query parameters that carry credentials (the Chatwoot webhook's `token`, signed links) or free
# text: their values never reach the access log.
REDACTED_PARAMS = frozenset({"token", "access_token", "api_key", "apikey", "secret", "signature", "sig", "password",
                             # free text a user typed (a search for a customer's name or address): personal
                             # data no masking pattern recognises
                             "q"})


# Path segments that are capabilities (a survey link's signed token answers the survey without
# sign-in): the segment after these prefixes never reaches the access log.
SECRET_PATH_PREFIXES = ("/survey/", "/api/v1/survey/")


def _redacted_path(path: str) -> str:
    """`path` with a capability segment (a survey link's token) replaced by `***`."""
    for prefix in SECRET_PATH_PREFIXES:
        if path.startswith(prefix) and len(path) > len(prefix):
            rest = path[len(prefix):]
            _, slash, tail = rest.partition("/")
            return f"{prefix}***{slash}{tail}"
    return path


def _redacted(query: str) -> str:
    """`query` with the values of `REDACTED_PARAMS` (credentials, free text) replaced by `***`."""
    if not query:
        return query
    parts = []
    for part in query.split("&"):
        name, eq, _ = part.partition("=")
        parts.append(f"{name}=***" if eq and unquote_plus(name).lower() in REDACTED_PARAMS else part)
    return "&".join(parts)


class RequestLog:
    """One access-log line per request: method, path with query, status, duration. The logger
    carries the PII-masking filter, so a phone number in a query string is masked."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 0}

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            query = _redacted(scope.get("query_string", b"").decode("latin-1"))
            path = _redacted_path(scope["path"]) + (f"?{query}" if query else "")
            access_log.info("%s %s %s %.1fms", scope.get("method", "WS"), path,
                            status["code"] or "-", (time.perf_counter() - started) * 1000)
