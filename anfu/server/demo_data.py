"""Demo data for `anfu serve --demo`: a service centre's last two weeks.

* Teams and staff from anfu/demo/fortnight.yaml, plus a quality auditor (质检); the demo
  agent, supervisor and auditor get one-time passwords (printed once), the other staff accounts
  get unknown passwords that an admin resets.
* A fortnight of contacts ending now (anfu.demo.fortnight), stored with their own times and
  analysed by the real pipeline, then closed.
* The complaint tickets of the escalated contacts, worked through the real workflow up to
  now (anfu.demo.casework): SLA met and breached, 回访, 满意度 answers, 四个不漏 ledger.
* The bundled demo conversations, ingested live (today, open), so the console and the
  supervisor's alert list have content at once.

Seeding is idempotent: a tenant that already has the demo teams keeps its data.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Callable
from zoneinfo import ZoneInfo

from ..demo import demo_conversations
from ..demo.casework import work_ticket
from ..demo.fortnight import COMPLAINT_ARCS, DemoContact, generate_fortnight, load_templates
from ..security.passwords import generate_password, hash_password
from ..store import Principal, Store, WorkflowStore
from ..store.records import Tenant, User
from ..types import Conversation, Utterance
from ..workflow.csat import SurveyLinks
from ..workflow.ledger import Departments, Ledger
from ..workflow.sla import SlaPolicies
from .turns import TurnService

TZ = ZoneInfo("Asia/Shanghai")
DEMO_LOGINS = ("demo_agent", "demo_supervisor", "demo_auditor")   # accounts whose one-time password is printed
# the quality auditor (质检) the README promises: reads the whole tenant, changes nothing
DEMO_AUDITOR = {"username": "demo_auditor", "name": "演示质检员"}
PRIORITY_UP = {"low": "normal", "normal": "high", "high": "high", "urgent": "urgent"}


@dataclass
class DemoSeed:
    passwords: dict[str, str] = field(default_factory=dict)  # new demo accounts only
    conversations: int = 0
    messages: int = 0
    tickets: int = 0


@dataclass
class Staff:
    teams: dict[str, int]        # team name -> id
    users: dict[str, User]       # username -> user


def ensure_staff(store: Store, tenant: Tenant, seed: DemoSeed, templates: dict[str, Any]) -> tuple[Staff, bool]:
    """The demo teams and accounts (created once). Returns them and whether the teams are new."""
    existing = {t.name: t.id for t in store.list_teams(tenant.id)}
    fresh = not set(templates["teams"]) <= set(existing)
    teams: dict[str, int] = {}
    users: dict[str, User] = {}
    for name, team in templates["teams"].items():
        teams[name] = existing.get(name) or store.create_team(tenant.id, name).id
        members = [(team["supervisor"], "supervisor")] + [(a, "agent") for a in team["agents"]]
        for person, role in members:
            user = store.get_user_by_username(person["username"])
            if user is None:
                password = generate_password() if person["username"] in DEMO_LOGINS else secrets.token_urlsafe(24)
                user = store.create_user(tenant.id, person["username"], hash_password(password), role,
                                         team_id=teams[name], display_name=person["name"],
                                         must_change_password=True)
                store.audit(tenant.id, "system", "user.created", target=f"user:{user.id}", detail={"role": role})
                if person["username"] in DEMO_LOGINS:
                    seed.passwords[person["username"]] = password
            users[person["username"]] = user
    auditor = store.get_user_by_username(DEMO_AUDITOR["username"])
    if auditor is None:
        password = generate_password()
        auditor = store.create_user(tenant.id, DEMO_AUDITOR["username"], hash_password(password), "auditor",
                                    team_id=None, display_name=DEMO_AUDITOR["name"], must_change_password=True)
        store.audit(tenant.id, "system", "user.created", target=f"user:{auditor.id}", detail={"role": "auditor"})
        seed.passwords[DEMO_AUDITOR["username"]] = password
    users[DEMO_AUDITOR["username"]] = auditor
    return Staff(teams, users), fresh


def _at_clock(store: Any, cls: type, now: Callable[[], datetime]) -> Any:
    """A second repository on the same engine whose clock we set: history keeps its own times."""
    return cls(store.engine, mask_text=store.mask_text, clock=now)


def seed_fortnight(store: Store, analyzer: Any, tenant: Tenant, staff: Staff, *, now: datetime | None = None,
                   seed: int = 7, contacts: list[DemoContact] | None = None) -> DemoSeed:
    """Store and analyse a fortnight of contacts up to `now`, and work their complaint tickets."""
    now = (now or datetime.now(timezone.utc)).astimezone(TZ)
    contacts = contacts if contacts is not None else generate_fortnight(now, seed=seed)
    clock = [now]
    history = _at_clock(store, Store, lambda: clock[0])
    workflow = _at_clock(store, WorkflowStore, lambda: clock[0])
    out = DemoSeed()
    stored = []
    for contact in contacts:
        clock[0] = contact.started
        record = history.create_conversation(tenant.id, channel=contact.channel, team_id=staff.teams[contact.team],
                                             agent_id=staff.users[contact.agent].id, industry=contact.industry,
                                             external_ref=contact.ref)
        for turn in contact.turns:
            clock[0] = turn.at
            history.append_message(record.id, turn.speaker, turn.text, channel=contact.channel, sent_at=turn.at)
            out.messages += 1
        stored.append(record)
    docs = [Conversation(turns=tuple(Utterance(t.text, speaker=t.speaker, timestamp=t.at.timestamp(),
                                               channel=c.channel) for t in c.turns),
                         id=str(r.id), channel=c.channel, industry=c.industry) for c, r in zip(contacts, stored)]
    rng = random.Random(seed)
    policies, ledger = SlaPolicies.load(), Ledger(Departments.load())
    links = SurveyLinks(secrets.token_urlsafe(32))
    comments = {int(k): v for k, v in load_templates()["survey_comments"].items()}
    for contact, record, assessment in zip(contacts, stored, analyzer.pipe(docs)):
        clock[0] = contact.ended
        data = assessment.to_dict()
        history.save_assessment(record.id, data)
        history.update_conversation(record.id, status="closed")
        out.conversations += 1
        level = (data.get("escalation") or {}).get("level") or 0
        if contact.arc not in COMPLAINT_ARCS and level < 3:
            continue
        if level >= 3 and contact.arc in COMPLAINT_ARCS:
            contact = replace(contact, priority=PRIORITY_UP[contact.priority])
        clock[0] = contact.ended
        number = workflow.next_ticket_number(tenant.id, contact.ended)
        work = work_ticket(contact, number, now, rng, policies, ledger, comments, links)
        clock[0] = work.ticket.created_at
        owner = staff.users[contact.agent]
        ticket = workflow.create_ticket(tenant.id, work.ticket.to_dict(), conversation_id=record.id,
                                        team_id=staff.teams[contact.team], owner_id=owner.id)
        if work.followup is not None:
            workflow.save_followup(ticket.id, work.followup.to_dict(), work.followup.due_at)
        workflow.save_ledger_entry(ticket.id, ledger.entry(work.ticket.id).to_dict())
        out.tickets += 1
    return out


def seed_demo(store: Store, turns: TurnService, tenant: Tenant, *, now: datetime | None = None) -> DemoSeed:
    """Create the demo staff (once), a fortnight of history (once) and the live demo
    conversations (idempotent)."""
    seed = DemoSeed()
    templates = load_templates()
    staff, fresh = ensure_staff(store, tenant, seed, templates)
    if fresh:
        history = seed_fortnight(store, turns.analyzer, tenant, staff, now=now)
        seed.conversations, seed.messages, seed.tickets = history.conversations, history.messages, history.tickets
    agent = Principal.of_user(staff.users["demo_agent"])
    for conversation in demo_conversations():
        record = turns.resolve(agent, conversation_ref=f"demo:{conversation.id}",
                               channel=conversation.channel or "webchat", industry=conversation.industry)
        seed.conversations += 1
        for i, turn in enumerate(conversation.turns):
            result = turns.add_turn(agent, record, turn.speaker, turn.text,
                                    client_msg_id=f"demo:{conversation.id}:{i}", channel=record.channel)
            seed.messages += int(result.created)
    return seed
