"""`anfu serve --demo` seeds a coherent fortnight: every dashboard figure is plausible."""

from __future__ import annotations

import random
import secrets
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from anfu.analytics import build_report
from anfu.demo.casework import work_ticket
from anfu.demo.fortnight import generate_fortnight, load_templates
from anfu.server import create_app
from anfu.server.demo_data import seed_demo
from anfu.settings import get_settings
from anfu.store import ConversationFilter, Principal, WorkflowStore, upgrade
from anfu.workflow.ledger import Departments, Ledger
from anfu.workflow.sla import SlaPolicies
from anfu.workflow.tickets import Ticket

NOW = datetime.now(timezone.utc)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, analyzer):
    settings = get_settings(environment="test", data_dir=tmp_path_factory.mktemp("demo"),
                            secret_key=secrets.token_urlsafe(48))
    upgrade(settings)
    app = create_app(settings, analyzer=analyzer)
    store = app.state.ctx.store
    tenant = store.create_tenant("demo", "演示服务中心")
    started = time.monotonic()
    seed = seed_demo(store, app.state.ctx.turns, tenant, now=NOW)
    return store, tenant, seed, time.monotonic() - started


def _all(store, principal, filters):
    out, page = [], 1
    while True:
        batch = store.list_conversations(principal, filters, page=page, page_size=200)
        out += batch.items
        if page >= batch.pages:
            return out
        page += 1


def _report(store, tenant):
    auditor = Principal(tenant_id=tenant.id, role="auditor", name="qa")
    teams = {t.id: t.name for t in store.list_teams(tenant.id)}
    items = []
    for c in _all(store, auditor, ConversationFilter()):
        data = dict(store.latest_assessment(c.id).data)
        data.update(id=str(c.id), date=c.created_at.isoformat(), channel=c.channel, team=teams.get(c.team_id),
                    agent=str(c.agent_id))
        items.append(data)
    tickets = [Ticket.from_dict(r.data) for r in WorkflowStore(store.engine).all_tickets(auditor)]
    return build_report(items, tickets, now=NOW).to_dict(), tickets


def test_demo_seed_prints_only_the_demo_logins(seeded) -> None:
    # how long seeding takes is measured by bench/bench_demo_seed.py, not asserted here
    store, tenant, seed, _ = seeded
    assert set(seed.passwords) == {"demo_agent", "demo_supervisor", "demo_auditor"}
    assert 250 <= seed.conversations <= 600 and seed.tickets >= 10


def test_every_dashboard_figure_is_plausible(seeded) -> None:
    store, tenant, _, _ = seeded
    report, tickets = _report(store, tenant)
    days = [row for row in report["emotion_trend"]]
    assert len(days) == 14  # a fortnight, ending today
    assert 1_000 <= report["complaint_rate"]["per_100k"] <= 12_000  # a few complaints per hundred contacts
    calming = report["calming"]["value"]
    assert 0.3 < calming < 0.95  # 安抚成功率: most, not all, strong emotions were calmed
    assert 0.03 < report["escalation"]["value"] < 0.3
    assert report["csat"]["responses"] >= 5 and 3.5 <= report["csat"]["average"] <= 4.9
    sla = report["sla"]
    assert 0.5 < sla["response"]["value"] < 1 and 0.5 < sla["resolution"]["value"] <= 1
    assert len(report["teams"]) == len(load_templates()["teams"])
    states = Counter(t.status for t in tickets)
    assert states["closed"] >= 1 and states["resolved"] >= 1 and states["open"] + states["reopened"] >= 1
    assert all(t.created_at >= NOW - timedelta(days=15) for t in tickets)


def test_history_keeps_its_own_times_and_live_demo_conversations_stay_open(seeded) -> None:
    store, tenant, _, _ = seeded
    auditor = Principal(tenant_id=tenant.id, role="auditor", name="qa")
    closed = _all(store, auditor, ConversationFilter(status="closed"))
    opened = _all(store, auditor, ConversationFilter(status="open"))
    assert len(opened) == 5 and len(closed) >= 250
    assert min(c.created_at for c in closed) < NOW - timedelta(days=12)


def test_seeding_again_adds_nothing(seeded, analyzer) -> None:
    store, tenant, _, _ = seeded
    app_turns = __import__("anfu.server.turns", fromlist=["TurnService"])
    again = seed_demo(store, app_turns.TurnService(store, analyzer, _Hub()), tenant, now=NOW)
    assert again.passwords == {} and again.messages == 0 and again.tickets == 0 and again.conversations == 5


class _Hub:
    """No live subscribers while seeding again."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def test_a_ticket_is_worked_only_up_to_now() -> None:
    contacts = [c for c in generate_fortnight(NOW) if c.arc == "escalated"]
    policies, ledger = SlaPolicies.load(), Ledger(Departments.load())
    comments = {int(k): v for k, v in load_templates()["survey_comments"].items()}
    rng = random.Random(3)
    for i, contact in enumerate(contacts):
        work = work_ticket(contact, f"TS-T-{i:04d}", NOW, rng, policies, ledger, comments)
        assert work.ticket.last_change_at <= NOW
        if work.ticket.status == "closed":
            assert work.ledger.rechecked_at is not None and work.followup.state == "done"
    fresh = work_ticket(contacts[-1], "TS-T-9999", contacts[-1].ended, rng, policies, ledger, comments)
    assert fresh.ticket.status == "open" and fresh.ticket.first_response_at is None
