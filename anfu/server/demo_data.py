"""Demo data for `anfu serve --demo`: a team with a demo agent and supervisor (one-time
passwords, printed once) and the bundled demo conversations, ingested and analysed like live
traffic so the supervisor's alert list and the conversation views have content at once."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..demo import demo_conversations
from ..security.passwords import generate_password, hash_password
from ..store import Principal, Store
from ..store.records import Tenant
from .turns import TurnService

DEMO_TEAM = "演示班组"
DEMO_USERS = (("demo_agent", "演示坐席", "agent"), ("demo_supervisor", "演示班长", "supervisor"))


@dataclass
class DemoSeed:
    passwords: dict[str, str] = field(default_factory=dict)  # new accounts only
    conversations: int = 0
    messages: int = 0


def seed_demo(store: Store, turns: TurnService, tenant: Tenant) -> DemoSeed:
    """Create the demo accounts (once) and ingest the demo conversations (idempotent)."""
    seed = DemoSeed()
    team = next((t for t in store.list_teams(tenant.id) if t.name == DEMO_TEAM), None) \
        or store.create_team(tenant.id, DEMO_TEAM)
    users = {}
    for username, display, role in DEMO_USERS:
        user = store.get_user_by_username(username)
        if user is None:
            password = generate_password()
            user = store.create_user(tenant.id, username, hash_password(password), role, team_id=team.id,
                                     display_name=display, must_change_password=True)
            store.audit(tenant.id, "system", "user.created", target=f"user:{user.id}", detail={"role": role})
            seed.passwords[username] = password
        users[role] = user
    agent = Principal.of_user(users["agent"])
    for conversation in demo_conversations():
        record = turns.resolve(agent, conversation_ref=f"demo:{conversation.id}",
                               channel=conversation.channel or "webchat", industry=conversation.industry)
        seed.conversations += 1
        for i, turn in enumerate(conversation.turns):
            result = turns.add_turn(agent, record, turn.speaker, turn.text,
                                    client_msg_id=f"demo:{conversation.id}:{i}", channel=record.channel)
            seed.messages += int(result.created)
    return seed
