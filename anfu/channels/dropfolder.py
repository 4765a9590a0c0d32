"""Mailbox drop folder (邮件投递目录): a mail server (or fetchmail/getmail) drops `.eml` files
into a folder; `poll_mailbox` ingests the new ones.

Each file is parsed with the e-mail adapter and handed to `handle(threads, path)`. A file that
was handled is deleted and leaves a receipt `processed/<name>.json` (the message ids and the time,
personal data masked): the store holds the message now, where erasure and masked storage reach it,
and a second clear copy of the customer's mail in the data folder would outlive both. One that
fails with a coded error moves to `failed/` next to a `<name>.error.json` holding `{"code",
"message"}` for the operator to fix, so nothing is read twice and nothing is lost. Files still
being written are skipped: only files older than `settle_s` seconds are read.
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime, timezone
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..errors import AnfuError, InputError
from ..pii import mask, mask_data
from .base import Thread
from .mail import Email

PROCESSED = "processed"
FAILED = "failed"


@dataclass
class PollReport:
    processed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # file name -> AF code

    def to_dict(self) -> dict[str, object]:
        return {"processed": self.processed, "failed": self.failed}


def _free_name(folder: Path, path_name: str) -> Path:
    """`folder/path_name`, or with .1, .2… before its suffix when that is taken."""
    target = folder / path_name
    n = 1
    while target.exists():
        stem, dot, suffix = path_name.rpartition(".")
        target = folder / (f"{stem}.{n}.{suffix}" if dot else f"{path_name}.{n}")
        n += 1
    return target


def _move(path: Path, folder: Path) -> Path:
    """Move `path` into `folder` under its name with personal information masked (a mail
    server may name a file after the sender's phone number or address)."""
    folder.mkdir(exist_ok=True)
    target = _free_name(folder, mask(path.name))
    os.replace(path, target)
    return target


def _done(path: Path, folder: Path, threads: list[Thread]) -> Path:
    """Replace a handled mail by its receipt in `folder` (written first: a crash in between
    leaves the mail, read again and stored once by its Message-ID)."""
    folder.mkdir(exist_ok=True)
    target = _free_name(folder, mask(path.name) + ".json")
    receipt = {"file": mask(path.name), "processed_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "messages": [mask(u.id or "") for t in threads for u in t.utterances]}
    partial = target.with_name(target.name + ".part")
    partial.write_text(json.dumps(receipt, ensure_ascii=False), encoding="utf-8")
    os.replace(partial, target)
    path.unlink()
    return target


def poll_mailbox(folder: str | Path, handle: Callable[[list[Thread], Path], None],
                 adapter: Email | None = None, settle_s: float = 0.0, limit: int = 500) -> PollReport:
    """Ingest up to `limit` new `.eml` files of `folder` (oldest first); see the module doc."""
    root = Path(folder)
    if not root.is_dir():
        raise InputError("AF011", f"{root} (not a folder)")
    adapter = adapter or Email()
    report = PollReport()
    now = time.time()
    candidates = sorted((p for p in root.iterdir() if p.is_file() and p.suffix.lower() == ".eml"),
                        key=lambda p: (p.stat().st_mtime, p.name))
    for path in candidates[:limit]:
        if now - path.stat().st_mtime < settle_s:
            continue
        try:
            threads = adapter.read(path.read_bytes(), source=path.name)
            handle(threads, path)
        except AnfuError as exc:
            target = _move(path, root / FAILED)
            target.with_name(target.name + ".error.json").write_text(
                json.dumps(mask_data(exc.to_dict()), ensure_ascii=False), encoding="utf-8")
            report.failed[target.name] = exc.code
            continue
        _done(path, root / PROCESSED, threads)
        report.processed.append(mask(path.name))
    return report
