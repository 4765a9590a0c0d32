"""The mailbox drop folder (邮件投递目录) as a background task of the service.

`anfu serve` watches `settings.mailbox_dir` (default `<data dir>/mailbox`): every
`settings.mailbox_poll_s` seconds (default 5; 0 = off) the `.eml` files that a mail server (or fetchmail/getmail) dropped
there are ingested through `anfu.channels.dropfolder.poll_mailbox`, like an e-mail upload:
each becomes messages on the customer's one timeline, the last one analysed. Handled files
are deleted and leave a receipt in `processed/`, refused ones move to `failed/` with their AF code.

Files go to the tenant `default` (the one the first run creates), or to the only tenant; a
sub-folder named after a tenant's slug feeds that tenant. The ingestion acts as the system
(an admin principal of the tenant without a user), so conversations it opens are unassigned.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from ..channels.dropfolder import FAILED, PROCESSED, PollReport, poll_mailbox
from ..errors import AnfuError
from ..security.bootstrap import DEFAULT_TENANT_SLUG
from ..store.access import Principal

MAILBOX_POLL_S = 5.0
SETTLE_S = 1.0  # a file younger than this may still be being written
log = logging.getLogger("anfu.server.mailbox")


def _system(tenant: Any) -> Principal:
    return Principal(tenant_id=tenant.id, role="admin", user_id=None, team_id=None, name="mailbox")


def _folders(ctx: Any, root: Path) -> list[tuple[Path, Any]]:
    """(folder, tenant) pairs to poll: the root for the default tenant, sub-folders by slug."""
    store = ctx.store
    tenants = store.list_tenants()
    default = store.get_tenant_by_slug(DEFAULT_TENANT_SLUG) or (tenants[0] if len(tenants) == 1 else None)
    out = [(root, default)] if default is not None else []
    by_slug = {t.slug: t for t in tenants}
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and p.name not in (PROCESSED, FAILED)):
        if sub.name in by_slug:
            out.append((sub, by_slug[sub.name]))
    return out


def poll_once(ctx: Any, root: Path, settle_s: float = SETTLE_S) -> PollReport:
    """One pass over the drop folder (and its tenant sub-folders)."""
    root.mkdir(parents=True, exist_ok=True)
    total = PollReport()
    for folder, tenant in _folders(ctx, root):
        principal = _system(tenant)

        def handle(threads: list[Any], _path: Path, principal: Principal = principal) -> None:
            for thread in threads:
                ctx.turns.ingest_thread(principal, thread)

        report = poll_mailbox(folder, handle, settle_s=settle_s)
        total.processed += report.processed
        total.failed.update(report.failed)
    return total


async def watch(ctx: Any, root: Path, interval_s: float = MAILBOX_POLL_S, settle_s: float = SETTLE_S) -> None:
    """Poll until cancelled; a failing pass is logged and retried at the next interval."""
    while True:
        try:
            report = await asyncio.to_thread(poll_once, ctx, root, settle_s)
            if report.processed or report.failed:
                log.info("mailbox: %d processed, %d failed", len(report.processed), len(report.failed))
        except AnfuError as exc:
            log.warning("mailbox: %s %s", exc.code, exc.message)
        except Exception:  # keep watching: one bad pass must not stop the service's intake
            log.exception("mailbox: pass failed")
        await asyncio.sleep(interval_s)
