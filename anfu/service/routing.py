"""Routing (路由分配): the one owner of who handles a conversation.

- A new conversation (API, channel upload, mail, helpdesk connector: everything that goes
  through `TurnService.resolve`) lands in the queue whose industry and channel match it best
  (`match_queue`: a queue naming the industry beats one naming the channel, which beats a
  catch-all; ties by the oldest queue). The queue belongs to a team.
- When that team has auto-assignment on, the conversation goes to the agent with the fewest
  open conversations among the team's active agents who are available (示闲), have the skills
  (industry and channel; no skill of a kind set means any) and are under their cap; ties go to
  the agent idle the longest, then the lowest id (`pick_agent`). With nobody free it stays
  queued, unassigned, and is highlighted on the wallboard; it is handed out when an agent of
  the team becomes available, closes a conversation or gets a higher cap (`drain`). An agent
  who signs out (签出) hands their open conversations back to the queue (`hand_back`).
- Supervisors and admins assign, transfer and claim by hand; agents claim an unassigned
  conversation of their team (first come, first served).

Every assignment, manual or automatic, is written to the audit log and the conversation's
events and announced on the live hub. The choice is deterministic: the same queues, profiles
and loads give the same agent. Concurrent arrivals are serialised per team by the store
(`RoutingStore.dispatch` holds the team's row lock while it reads the loads and assigns), so
a cap holds under load.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable

from ..errors import AuthError, NotFoundError
from ..store import ConversationRecord, Store
from ..store.access import Principal, require
from ..store.records import Team
from ..store.routing_repo import AgentProfile, Queue, QueueFigures, RoutingStore
from .live import Hub

SYSTEM_ACTOR = "system:routing"
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class RouteResult:
    """What routing did with a conversation: the queue it landed in (None: no queue matched)
    and the agent it was given to (None: it waits in the queue)."""

    conversation: ConversationRecord
    queue: Queue | None
    agent_id: int | None
    load: int | None = None      # the chosen agent's open conversations before this one


# the decisions (pure) ---------------------------------------------------------------------
def match_queue(queues: Iterable[Queue], *, industry: str | None, channel: str | None,
                team_id: int | None = None) -> Queue | None:
    """The queue a conversation of this industry and channel belongs to (only `team_id`'s
    queues when given). A queue's industry or channel that is set must equal the
    conversation's; the most specific queue wins (industry > channel > catch-all), then the oldest."""
    best: tuple[tuple[int, int], Queue] | None = None
    for queue in queues:
        if team_id is not None and queue.team_id != team_id:
            continue
        if queue.industry is not None and queue.industry != industry:
            continue
        if queue.channel is not None and queue.channel != channel:
            continue
        rank = (-(2 * (queue.industry is not None) + (queue.channel is not None)), queue.id)
        if best is None or rank < best[0]:
            best = (rank, queue)
    return None if best is None else best[1]


def can_take(agent: AgentProfile, conversation: ConversationRecord) -> bool:
    """Is the agent free for this conversation: active, available, skilled, under the cap?"""
    return (agent.active and agent.presence == "available" and agent.open_count < agent.max_open
            and (not agent.industries or conversation.industry in agent.industries)
            and (not agent.channels or conversation.channel in agent.channels))


def pick_agent(candidates: Iterable[AgentProfile], conversation: ConversationRecord) -> AgentProfile | None:
    """The agent to give the conversation to: fewest open conversations, then idle longest,
    then lowest id; None when nobody can take it."""
    free = [a for a in candidates if can_take(a, conversation)]
    if not free:
        return None
    return min(free, key=lambda a: (a.open_count, a.idle_since or _EPOCH, a.user_id))


# the service ------------------------------------------------------------------------------
class Routing:
    def __init__(self, store: Store, hub: Hub, routes: RoutingStore | None = None) -> None:
        self.store = store
        self.hub = hub
        self.routes = routes or RoutingStore(store.engine, mask_text=store.mask_text, clock=store.clock)

    def _done(self, actor: str, tenant_id: int, record: ConversationRecord, action: str, ip: str | None,
              **detail: Any) -> ConversationRecord:
        self.store.audit(tenant_id, actor, f"conversation.{action}", target=f"conversation:{record.id}",
                         detail=detail, ip=ip)
        self.store.add_event(record.tenant_id, f"conversation.{action}", {"by": actor, **detail},
                             conversation_id=record.id)
        self.hub.publish_control(record, {"type": action, "conversation_id": record.id, "by": actor,
                                          "conversation": record.to_dict()})
        return record

    # by hand ----------------------------------------------------------------------------
    def assign(self, principal: Principal, conversation_id: int, agent_id: int,
               ip: str | None = None) -> ConversationRecord:
        """Give the conversation to an agent (supervisors: agents of their team; admins: any)."""
        before = self.store.get_conversation(conversation_id, visible_to=principal)
        record = self.store.update_conversation(conversation_id, by=principal, agent_id=agent_id)
        self._done(principal.actor, principal.tenant_id, record, "assigned", ip, agent_id=agent_id,
                   previous_agent_id=before.agent_id, how="manual")
        self._freed(before)
        return record

    def transfer(self, principal: Principal, conversation_id: int, team_id: int, agent_id: int | None = None,
                 ip: str | None = None) -> ConversationRecord:
        """Move the conversation to another team (admins), optionally to one of its agents; it
        joins the new team's matching queue and, without an agent, is routed there."""
        if principal.role != "admin":
            raise AuthError("AF417", "transfer a conversation to another team (admins)")
        before = self.store.get_conversation(conversation_id, visible_to=principal)
        record = self.store.update_conversation(conversation_id, by=principal, team_id=team_id, agent_id=agent_id)
        queue = match_queue(self.routes.list_queues(record.tenant_id), industry=record.industry,
                            channel=record.channel, team_id=team_id)
        record = self.routes.place(record.id, team_id=team_id, queue_id=queue.id if queue else None)
        self._done(principal.actor, principal.tenant_id, record, "transferred", ip, team_id=team_id,
                   agent_id=agent_id, queue_id=record.queue_id)
        self._freed(before)
        if agent_id is None:
            record = self.dispatch(record.id).conversation
        return record

    def claim(self, principal: Principal, conversation_id: int, ip: str | None = None) -> ConversationRecord:
        """Become the conversation's handler: an agent takes an unassigned conversation of their
        team (first come, first served); supervisors (their team) and admins any."""
        if principal.user_id is None:
            raise AuthError("AF417", "claim a conversation with an API token (it is nobody to hand it to)")
        if principal.role == "agent":
            record = self.store.claim_unassigned(conversation_id, by=principal)
        else:
            require(principal, "supervise")
            record = self.store.update_conversation(conversation_id, by=principal, agent_id=principal.user_id)
        return self._done(principal.actor, principal.tenant_id, record, "claimed", ip, agent_id=principal.user_id)

    def unassigned(self, principal: Principal, limit: int = 100) -> list[ConversationRecord]:
        """Open conversations nobody handles yet: the team's (agents, supervisors) or the
        tenant's (admins, auditors), oldest first."""
        return self.store.unassigned_conversations(principal, limit=limit)

    def close(self, principal: Principal, conversation_id: int, ip: str | None = None) -> ConversationRecord:
        record = self.store.update_conversation(conversation_id, by=principal, status="closed")
        self._done(principal.actor, principal.tenant_id, record, "closed", ip)
        self._freed(record)
        return record

    # automatic --------------------------------------------------------------------------
    def route_new(self, principal: Principal, conversation: ConversationRecord) -> ConversationRecord:
        """A conversation was just created without an agent: put it in its queue and, when its
        team auto-assigns, give it to the least-loaded free agent (`TurnService` calls this).
        A conversation created by a supervisor stays in their team (their team's queues only)."""
        return self.route(conversation, restrict_team=conversation.team_id).conversation

    def route(self, conversation: ConversationRecord, *, restrict_team: int | None = None) -> RouteResult:
        queue = match_queue(self.routes.list_queues(conversation.tenant_id), industry=conversation.industry,
                            channel=conversation.channel, team_id=restrict_team)
        if queue is None:
            return RouteResult(conversation, None, None)
        record = self.routes.place(conversation.id, team_id=queue.team_id, queue_id=queue.id)
        self.store.audit(record.tenant_id, SYSTEM_ACTOR, "conversation.queued", target=f"conversation:{record.id}",
                         detail={"queue_id": queue.id, "team_id": queue.team_id, "industry": record.industry,
                                 "channel": record.channel})
        result = self.dispatch(record.id)
        return RouteResult(result.conversation, queue, result.agent_id, result.load)

    def dispatch(self, conversation_id: int) -> RouteResult:
        """Give a queued conversation to the least-loaded free agent of its team when the team
        auto-assigns; otherwise (or with nobody free) it stays where it is."""
        record = self.store.get_conversation(conversation_id)
        if record.team_id is None or record.agent_id is not None or not self.store.get_team(record.team_id).auto_assign:
            return RouteResult(record, None, None)
        chosen: AgentProfile | None = None
        with self.routes.dispatch(conversation_id) as job:
            if job is not None:
                chosen = pick_agent(job.candidates, job.conversation)
                if chosen is not None:
                    record = job.assign(chosen.user_id)
        if chosen is None:
            return RouteResult(record, None, None)
        self._done(SYSTEM_ACTOR, record.tenant_id, record, "assigned", None, agent_id=chosen.user_id,
                   how="auto", queue_id=record.queue_id, load=chosen.open_count)
        return RouteResult(record, None, chosen.user_id, chosen.open_count)

    def drain(self, tenant_id: int, team_id: int) -> list[RouteResult]:
        """Hand out the team's queued conversations, oldest first, while agents are free."""
        if not self.store.get_team(team_id).auto_assign:
            return []
        out = []
        for waiting in self.routes.queued(tenant_id, team_id):
            result = self.dispatch(waiting.id)
            if result.agent_id is not None:
                out.append(result)
        return out

    def _freed(self, record: ConversationRecord) -> None:
        """A slot may have freed in the record's team: hand out what waits there."""
        if record.team_id is not None:
            self.drain(record.tenant_id, record.team_id)

    # presence, teams, queues, profiles --------------------------------------------------
    def set_presence(self, principal: Principal, presence: str, ip: str | None = None) -> AgentProfile:
        """An agent signs in to routing (`available`, 示闲), pauses (`busy`, 示忙) or signs out
        (`offline`); becoming available hands them what waits in their team's queues."""
        if principal.role != "agent" or principal.user_id is None:
            raise AuthError("AF417", "set routing presence (agents, for themselves)")
        profile = self.routes.set_presence(principal.tenant_id, principal.user_id, presence)
        self.store.audit(principal.tenant_id, principal.actor, "routing.presence", target=f"user:{principal.user_id}",
                         detail={"presence": presence}, ip=ip)
        if presence == "available" and profile.team_id is not None:
            self.drain(principal.tenant_id, profile.team_id)
            profile = self.routes.agent_profile(principal.tenant_id, principal.user_id)
        elif presence == "offline" and profile.team_id is not None:
            self.hand_back(principal.tenant_id, principal.user_id, profile.team_id)
            profile = self.routes.agent_profile(principal.tenant_id, principal.user_id)
        return profile

    def hand_back(self, tenant_id: int, agent_id: int, team_id: int) -> list[RouteResult]:
        """An agent signed out (签出) of an auto-assigning team: their open conversations (not
        those a supervisor took over) go back to the queue and on to free colleagues; what
        nobody can take waits, highlighted on the wallboard. Each is audited."""
        if not self.store.get_team(team_id).auto_assign:
            return []
        return [self.dispatch(released.id) for released in self._release_all(tenant_id, agent_id, "agent_offline")]

    def _release_all(self, tenant_id: int, agent_id: int, how: str) -> list[ConversationRecord]:
        """The agent's open conversations released (not those a supervisor took over), each audited."""
        out = []
        for conversation in self.routes.assigned_open(tenant_id, agent_id):
            released = self.routes.release(conversation.id, agent_id)
            if released is not None:
                out.append(self._done(SYSTEM_ACTOR, tenant_id, released, "unassigned", None,
                                      previous_agent_id=agent_id, how=how))
        return out

    def withdraw(self, tenant_id: int, agent_id: int, team_id: int | None, how: str) -> None:
        """An agent leaves (deactivated, 离职) or moves to another team: signed out of routing, and
        their open conversations handed back as at sign-out; in a team that assigns by hand they
        are released to the team's unassigned list, for the team lead to give out. Each is
        audited with `how`."""
        self.routes.set_presence(tenant_id, agent_id, "offline")
        released = self._release_all(tenant_id, agent_id, how)
        if team_id is not None and self.store.get_team(team_id).auto_assign:
            for record in released:
                self.dispatch(record.id)

    def profiles(self, principal: Principal, *, team_id: int | None = None) -> list[AgentProfile]:
        """Agents' routing profiles: admins and auditors the tenant's, supervisors their team's,
        an agent their own."""
        if principal.role == "agent":
            if principal.user_id is None:
                raise AuthError("AF417", "read routing profiles")
            return [self.routes.agent_profile(principal.tenant_id, principal.user_id)]
        if principal.role == "supervisor":
            if principal.team_id is None or team_id not in (None, principal.team_id):
                return []
            team_id = principal.team_id
        return self.routes.agent_profiles(principal.tenant_id, team_id=team_id)

    def agent(self, principal: Principal, user_id: int) -> AgentProfile:
        """One agent's routing profile (admins); AF503 for anyone who is not an agent of the tenant.
        A change that touches the agent elsewhere (a team move) asks here first, so that a refused
        change writes nothing."""
        require(principal, "users.manage")
        return self.routes.agent_profile(principal.tenant_id, user_id)

    def set_profile(self, principal: Principal, user_id: int, *, industries: list[str] | None = None,
                    channels: list[str] | None = None, max_open: int | None = None,
                    ip: str | None = None) -> AgentProfile:
        """Set an agent's skills and cap (admins; audited); a raised cap hands out waiting work."""
        require(principal, "users.manage")
        before = self.routes.agent_profile(principal.tenant_id, user_id)
        profile = self.routes.set_profile(principal.tenant_id, user_id, industries=industries, channels=channels,
                                          max_open=max_open)
        changes = {k: getattr(profile, k) for k in ("industries", "channels", "max_open")
                   if getattr(profile, k) != getattr(before, k)}
        if changes:
            self.store.audit(principal.tenant_id, principal.actor, "routing.profile", target=f"user:{user_id}",
                             detail=changes, ip=ip)
            if profile.team_id is not None:
                self.drain(principal.tenant_id, profile.team_id)
                profile = self.routes.agent_profile(principal.tenant_id, user_id)
        return profile

    def update_team(self, principal: Principal, team_id: int, *, name: str | None = None,
                    auto_assign: bool | None = None, ip: str | None = None) -> Team:
        """Rename a team or switch its auto-assignment (admins; audited). Switching it on hands
        out what already waits."""
        require(principal, "users.manage")
        before = self.store.get_team(team_id)
        if before.tenant_id != principal.tenant_id:
            raise NotFoundError("AF503", team_id, kind="team")
        team = self.routes.update_team(principal.tenant_id, team_id, name=name, auto_assign=auto_assign)
        changes = {k: getattr(team, k) for k in ("name", "auto_assign") if getattr(team, k) != getattr(before, k)}
        if changes:
            self.store.audit(principal.tenant_id, principal.actor, "team.updated", target=f"team:{team.id}",
                             detail=changes, ip=ip)
        if changes.get("auto_assign"):
            self.drain(principal.tenant_id, team.id)
        return team

    def queues(self, principal: Principal) -> list[Queue]:
        """The tenant's queues (staff); supervisors and agents see their team's."""
        if principal.role in ("admin", "auditor"):
            return self.routes.list_queues(principal.tenant_id)
        if principal.team_id is None:
            return []
        return self.routes.list_queues(principal.tenant_id, team_id=principal.team_id)

    def create_queue(self, principal: Principal, team_id: int, name: str, *, industry: str | None = None,
                     channel: str | None = None, ip: str | None = None) -> Queue:
        require(principal, "users.manage")
        queue = self.routes.create_queue(principal.tenant_id, team_id, name, industry=industry, channel=channel)
        self.store.audit(principal.tenant_id, principal.actor, "routing.queue_created", target=f"queue:{queue.id}",
                         detail={"name": queue.name, "team_id": team_id, "industry": queue.industry,
                                 "channel": queue.channel}, ip=ip)
        return queue

    def update_queue(self, principal: Principal, queue_id: int, ip: str | None = None, **changes: Any) -> Queue:
        require(principal, "users.manage")
        queue = self.routes.update_queue(principal.tenant_id, queue_id, **changes)
        self.store.audit(principal.tenant_id, principal.actor, "routing.queue_updated", target=f"queue:{queue.id}",
                         detail=dict(changes), ip=ip)
        return queue

    def delete_queue(self, principal: Principal, queue_id: int, ip: str | None = None) -> Queue:
        require(principal, "users.manage")
        queue = self.routes.delete_queue(principal.tenant_id, queue_id)
        self.store.audit(principal.tenant_id, principal.actor, "routing.queue_deleted", target=f"queue:{queue.id}",
                         detail={"name": queue.name}, ip=ip)
        return queue

    def figures(self, principal: Principal) -> list[QueueFigures]:
        """Open, unassigned and waiting conversations per queue (supervisors: their team;
        admins and auditors: the tenant)."""
        if principal.role not in ("supervisor", "admin", "auditor"):
            raise AuthError("AF417", "read the queue figures (supervisors, admins, auditors)")
        return self.routes.queue_figures(principal)


__all__ = ["RouteResult", "Routing", "can_take", "match_queue", "pick_agent"]
