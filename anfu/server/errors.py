"""Every error leaves the API as `{"error": {"code": "AF…", "message": …}}` with a 4xx status:
coded `AnfuError`s, schema violations, malformed JSON, unknown routes. Only a real bug is a 500
(AF440, with a reference to find it in the log), and never with a traceback in the body.
"""

from __future__ import annotations

import logging
import re
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import AnfuError, ConflictError, PreconditionFailed

log = logging.getLogger("anfu.server")


class ApiError(AnfuError):
    """An API-level coded error (AF43x) with its HTTP status."""

    def __init__(self, code: str, detail: Any = "", status: int = 400, headers: dict[str, str] | None = None,
                 **fields: Any) -> None:
        super().__init__(code, detail, **fields)
        self.status = status
        self.headers = headers


# Status for codes whose meaning fixes it; otherwise the class decides (see status_of).
STATUS: dict[str, int] = {
    "AF001": 400, "AF006": 400, "AF031": 400, "AF009": 422,
    "AF101": 404,
    "AF410": 401, "AF411": 423, "AF412": 429, "AF413": 401, "AF414": 401, "AF415": 401,
    "AF416": 422, "AF417": 403, "AF418": 422, "AF419": 409,
    "AF445": 409, "AF446": 409,
    "AF501": 503, "AF502": 503, "AF503": 404, "AF504": 409, "AF505": 422,
    "AF630": 404, "AF631": 404, "AF633": 409, "AF638": 409,  # the survey link: bad, expired, answered, superseded
    "AF675": 404, "AF676": 401,
    "AF801": 422, "AF802": 409, "AF803": 422, "AF804": 422,
}


def status_of(error: AnfuError) -> int:
    if isinstance(error, ApiError):
        return error.status
    if isinstance(error, PreconditionFailed):  # an API If-Match naming a version no longer current
        return 412
    if isinstance(error, ConflictError):  # saved by someone else since the writer read it
        return 409
    if error.code in STATUS:
        return STATUS[error.code]
    prefix = error.code[:3]
    if prefix == "AF0":
        return 422
    if prefix == "AF6":
        return 409 if error.code in ("AF602", "AF603", "AF605", "AF607", "AF608", "AF620", "AF621") else 422
    if prefix == "AF7":  # training simulator and wellbeing
        return 404 if error.code == "AF702" else 409 if error.code in ("AF704", "AF707") else 422
    return 400


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def error_response(error: AnfuError) -> JSONResponse:
    headers = error.headers if isinstance(error, ApiError) else None
    return JSONResponse(error_body(error.code, error.message), status_code=status_of(error), headers=headers)


def describe(errors: list[dict[str, Any]]) -> str:
    """Pydantic errors without the offending values (they may hold personal information)."""
    parts = []
    for err in errors[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        kind = err.get("type", "")
        msg = "unknown field (not allowed)" if kind == "extra_forbidden" else err.get("msg", "invalid")
        parts.append(f"{loc}: {msg}")
    more = f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""
    return "; ".join(parts) + more


async def _on_anfu_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AnfuError)
    return error_response(exc)


async def on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    bad_json = [e for e in errors if e.get("type") == "json_invalid"]
    if bad_json:
        where = bad_json[0].get("ctx", {}).get("error", "syntax error")
        return error_response(ApiError("AF430", where, status=400))
    return error_response(ApiError("AF431", describe(errors), status=422))


async def on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        return error_response(ApiError("AF434", request.url.path, status=404))
    if exc.status_code == 405:
        # Allow names every method of the path (RFC 9110 §15.5.6), not only those of the first
        # route whose path matched (`PUT /replies/1`: GET and PATCH are two routes)
        allowed = _allowed_methods(request)
        headers = {**(exc.headers or {}), **({"Allow": ", ".join(allowed)} if allowed else {})}
        return error_response(ApiError("AF435", request.method, status=405, headers=headers))
    # e.g. a malformed multipart body rejected by Starlette's form parser
    return error_response(ApiError("AF431", str(exc.detail), status=exc.status_code, headers=exc.headers))


_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


def _allowed_methods(request: Request) -> list[str]:
    """The methods of every API operation whose path template matches the request's path, from
    the app's OpenAPI document (compiled once per app); empty for a path it does not describe."""
    table = getattr(request.app.state, "allowed_methods", None)
    if table is None:
        table = []
        for path, item in (request.app.openapi().get("paths") or {}).items():
            rx = re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$")
            table.append((rx, {m.upper() for m in item if m in _HTTP_METHODS}))
        request.app.state.allowed_methods = table
    path = request.url.path
    return sorted({m for rx, methods in table if rx.match(path) for m in methods})


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, OverflowError):
        # a number out of range that no schema bounded (an id ≥ 2^63 in some path): the
        # client's value, not a bug of ours
        return error_response(AnfuError("AF505", "a number or date is out of range", kind="value"))
    ref = uuid.uuid4().hex[:12]
    log.error("unhandled error ref=%s on %s %s: %r", ref, request.method, request.url.path, exc,
              exc_info=exc)
    return error_response(ApiError("AF440", ref, status=500))


def install(app: FastAPI) -> None:
    app.add_exception_handler(AnfuError, _on_anfu_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, _on_unexpected)
