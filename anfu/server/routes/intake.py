"""Channel uploads: e-mail (.eml), call transcripts (JSON or SRT) and CSV/Excel imports.
Each file becomes messages on the customers' timelines through the channel adapters."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Query, UploadFile
from starlette.concurrency import run_in_threadpool

from ... import registry
from ...channels.base import CustomerHints, check_times
from ...errors import InputError
from ...rules import check_industry
from ..deps import Authed, Ctx
from ..errors import ApiError
from ..schemas import IntakePublic

router = APIRouter(prefix="/intake", tags=["intake"])

Encoding = Literal["utf-8", "gb18030", "gbk", "big5"]


async def _read(file: UploadFile | None) -> bytes:
    data = await file.read() if file is not None else b""
    if not data:
        raise ApiError("AF442", status=422)
    return data


def _store(ctx, auth, threads, industry: str | None) -> IntakePublic:  # noqa: ANN001
    check_times(threads)
    ids: list[int] = []
    messages = created = 0
    for thread in threads:
        conversation, new = ctx.turns.ingest_thread(auth.principal, thread, industry=industry)
        ids.append(conversation.id)
        messages += len(thread.utterances)
        created += new
    return IntakePublic(threads=len(threads), messages=messages, created=created,
                        conversation_ids=list(dict.fromkeys(ids)))


@router.post("/email", response_model=IntakePublic, status_code=201)
async def intake_email(ctx: Ctx, auth: Authed, file: Annotated[UploadFile | None, File()] = None,
                       industry: Annotated[str | None, Form(max_length=200)] = None) -> IntakePublic:
    """Upload one `.eml` file (the customer's e-mail)."""
    check_industry(industry)  # an identifier from a fixed set, never a path (AF014)
    data = await _read(file)
    threads = registry.channels.get("email.v1")().read(data, source=file.filename or "upload")  # type: ignore[union-attr]
    return await run_in_threadpool(_store, ctx, auth, threads, industry)


@router.post("/transcript", response_model=IntakePublic, status_code=201)
async def intake_transcript(ctx: Ctx, auth: Authed, file: Annotated[UploadFile | None, File()] = None,
                            format: Annotated[Literal["json", "srt"] | None, Form()] = None,
                            call_id: Annotated[str | None, Form(max_length=200)] = None,
                            phone: Annotated[str | None, Form(max_length=32)] = None,
                            industry: Annotated[str | None, Form(max_length=200)] = None,
                            encoding: Annotated[Encoding, Query()] = "utf-8") -> IntakePublic:
    """Upload a call transcript: JSON (`call_json.v1`) or SRT with 客户：/坐席： prefixes."""
    check_industry(industry)  # an identifier from a fixed set, never a path (AF014)
    data = await _read(file)
    kind = format or ("srt" if (file.filename or "").lower().endswith(".srt") else "json")  # type: ignore[union-attr]
    if kind == "srt":
        threads = registry.channels.get("call_srt.v1")().read(
            data, call_id=call_id, customer=CustomerHints(phone=phone) if phone else None, encoding=encoding)
    else:
        threads = registry.channels.get("call_json.v1")().read(data, encoding=encoding)
    return await run_in_threadpool(_store, ctx, auth, threads, industry)


@router.post("/table", response_model=IntakePublic, status_code=201)
async def intake_table(ctx: Ctx, auth: Authed, file: Annotated[UploadFile | None, File()] = None,
                       industry: Annotated[str | None, Form(max_length=200)] = None,
                       encoding: Annotated[Encoding, Query()] = "utf-8") -> IntakePublic:
    """Import a CSV or Excel (.xlsx) file: conversation_id, speaker, text[, timestamp, customer]."""
    check_industry(industry)  # an identifier from a fixed set, never a path (AF014)
    data = await _read(file)
    name = (file.filename or "").lower()  # type: ignore[union-attr]
    if name.endswith(".xlsx") or data[:2] == b"PK":
        threads = registry.channels.get("xlsx.v1")().read(data)
    elif name.endswith((".csv", ".tsv", ".txt")) or not name:
        threads = registry.channels.get("csv.v1")().read(data, encoding=encoding)
    else:
        raise InputError("AF012", repr(name.rsplit(".", 1)[-1]), allowed=".csv, .tsv, .xlsx")
    return await run_in_threadpool(_store, ctx, auth, threads, industry)
