"""Search results page (搜索): the navigation's search box lands here. Conversations, tickets and
customers in sections, each result linking to the page that opens it, the query's words marked,
personal data masked for the roles that do not handle cases (`anfu.service.search`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup, escape

from ...errors import AnfuError
from ...service.search import KINDS
from .common import WebUser, render, web_user

router = APIRouter()


def marked(text: str, spans: list[tuple[int, int]]) -> Markup:
    """`text` escaped with the query's words in <mark class="hit">."""
    out, pos = [], 0
    for start, end in spans:
        out.append(str(escape(text[pos:start])))
        out.append(f'<mark class="hit">{escape(text[start:end])}</mark>')
        pos = end
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))


@router.get("/search", include_in_schema=False)
def search_page(request: Request, q: str | None = None, kind: str | None = None,
                user: WebUser = Depends(web_user)) -> HTMLResponse:
    found, error = None, None
    if q is not None and q.strip():
        try:
            found = request.app.state.ctx.services.search.search(user.principal, q, kind or None)
        except AnfuError as exc:
            error = exc
    return render(request, "search.html", user=user, search_query=q or "", kind=kind or "", kinds=KINDS,
                  found=found, error=error, marked=marked, status_code=422 if error else 200)
