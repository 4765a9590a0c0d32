"""Refusals and errors of the workspace's pages as pages: a signed-in agent who opens the
wallboard, or a ticket that is not theirs, sees the error page (zh-CN by default) with the code
and the way out, not the API's JSON body. The API, WebSockets and static files keep
`anfu.server.errors`' JSON; an HTMX request and any client that does not ask for HTML get it too.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from ...errors import AnfuError
from .. import errors as api_errors
from .common import is_htmx, render, signed_in

# paths that are never pages: the API, the live socket, assets, probes and the API docs
NOT_PAGES = ("/api/", "/ws", "/static/", "/metrics", "/healthz", "/readyz", "/docs", "/redoc", "/openapi")


def wants_page(request: Request) -> bool:
    """A browser navigating or posting a page form: HTML asked for, not the API, not HTMX."""
    path = request.url.path
    if path.startswith(NOT_PAGES) or is_htmx(request):
        return False
    return "text/html" in request.headers.get("accept", "")


def form_status(exc: AnfuError) -> int:
    """How a page answers a refused form: the API's status where it names a refusal, a missing
    object or a conflict (403, 404, 409), otherwise 422 (the form's input)."""
    status = api_errors.status_of(exc)
    return status if status in (403, 404, 409) else 422


def error_page(request: Request, code: str, message: str | None, status: int,
               headers: dict[str, str] | None = None) -> Response:
    try:
        user = signed_in(request)
    except Exception:  # the page must render even when the session store is what failed
        user = None
    where: dict[str, str] = {}
    if status == 404:
        # the path of a page that is not there is whatever was typed or pasted (a phone number,
        # a name): not repeated anywhere on the page, the language links included
        where = {"request_url": "/", "request_path": "/"}
    response = render(request, "error.html", user=user, code=code, message=message, status_code=status,
                      forbidden=status == 403, not_found=status == 404, not_allowed=status == 405, **where)
    for name, value in (headers or {}).items():
        response.headers.setdefault(name, value)
    return response


async def on_anfu_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AnfuError)
    if not wants_page(request):
        return api_errors.error_response(exc)
    headers = exc.headers if isinstance(exc, api_errors.ApiError) else None
    return error_page(request, exc.code, exc.message, api_errors.status_of(exc), headers)


async def on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404 and wants_page(request):
        return error_page(request, "AF434", None, 404)
    if exc.status_code == 405 and wants_page(request):
        # a form posted to a page that is only read (a bookmark replayed, a stale script): the
        # page in the browser's language with the code, not the API's JSON
        refused = api_errors.ApiError("AF435", request.method, status=405)
        return error_page(request, refused.code, refused.message, 405, exc.headers)
    return await api_errors.on_http(request, exc)


async def on_validation(request: Request, exc: Exception) -> Response:
    """A page path whose record id is no number (`/tickets/abc`, a link cut short) is the
    not-found page, like any unknown page path; a page's query or form the schema refuses is
    the error page with the API's code (AF431). Both were the API's JSON in the browser."""
    assert isinstance(exc, RequestValidationError)
    if not wants_page(request):
        return await api_errors.on_validation(request, exc)
    errors = list(exc.errors())
    if errors and all(tuple(e.get("loc", ()))[:1] == ("path",) for e in errors):
        return error_page(request, "AF434", None, 404)
    return error_page(request, "AF431", api_errors.describe(errors), 422)


async def refusal_page(scope: Any, error: AnfuError) -> Response | None:
    """The error page for a request the body guard (`anfu.server.middleware.BodyLimit`) refuses
    before any route runs — a NUL in a page's query or form, a form over the size limit — when a
    browser asks for the page; None for everything else (the API's JSON answers it)."""
    request = Request(scope)
    if not wants_page(request):
        return None
    return await run_in_threadpool(error_page, request, error.code, error.message, api_errors.status_of(error))


def install(app: FastAPI) -> None:
    """Replace the API's handlers of coded errors, unknown paths and schema violations with
    ones that answer a page request with the error page (and everything else as before)."""
    app.add_exception_handler(AnfuError, on_anfu_error)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)


__all__ = ["error_page", "form_status", "install", "refusal_page", "wants_page"]
