"""What the wellbeing and training pages and API share: load per shift from the store, the
pending after-contact prompt, replaying a simulator session, cases from closed conversations.

Everything reads the store as the asking principal, so the store's access rules decide what is
seen: an agent their own contacts, a supervisor their team's, an admin their tenant's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from functools import cached_property
from typing import Any

from ..errors import AnfuError, NotFoundError, RulePackError
from ..simulator import Scenario, Simulator, build_scenario, get_scenario, load_scenarios
from ..simulator.cases import build_case, case_title, name_map
from ..store import CareStore, ConversationFilter, WorkflowStore
from ..store.access import Principal
from ..store.contact_facts_repo import ContactFactsStore
from ..types import Conversation
from ..wellbeing import (ContactFacts, ShiftLoad, is_hard, load_wellbeing_rules, rotation_suggestions, shift_load,
                         shift_of, shifts)
from .context import AppContext

log = logging.getLogger(__name__)
PROMPT_WINDOW = timedelta(hours=2)


@dataclass
class Care:
    """Per-request helper over the app context."""

    ctx: AppContext

    @cached_property
    def store(self) -> CareStore:
        return CareStore(self.ctx.store.engine, mask_text=self.ctx.store.mask_text)

    @cached_property
    def workflow(self) -> WorkflowStore:
        return WorkflowStore(self.ctx.store.engine, mask_text=self.ctx.store.mask_text)

    # wellbeing -----------------------------------------------------------------------------
    def now(self) -> datetime:
        return self.ctx.store.clock()

    def contacts(self, principal: Principal, *, since: datetime, agent_id: int | None = None) -> list[ContactFacts]:
        """Contact facts of the conversations `principal` may see, active since `since`: summed in
        SQL from the per-message facts (`ContactFactsStore`), plus each one's lowest CSAT."""
        rules = load_wellbeing_rules()
        facts = ContactFactsStore(self.ctx.store.engine).contacts(principal, since=since, rules=rules,
                                                                  agent_id=agent_id)
        facts = [f for f in facts if f.started_at >= since - timedelta(days=1)]
        scores = self._csat_of(principal, [int(f.contact_id) for f in facts])
        return [replace(f, csat=scores[int(f.contact_id)]) if int(f.contact_id) in scores else f for f in facts]

    def _csat_of(self, principal: Principal, conversation_ids: list[int]) -> dict[int, int]:
        """The lowest CSAT score of each conversation's tickets (those that have one)."""
        try:
            tickets = self.workflow.tickets_of_conversations(principal, conversation_ids)
        except AnfuError:  # a role without ticket access simply has no CSAT to add
            return {}
        out: dict[int, int] = {}
        for t in tickets:
            score = t.data.get("csat_score")
            if isinstance(score, int) and t.conversation_id is not None:
                out[t.conversation_id] = min(score, out.get(t.conversation_id, score))
        return out

    def my_shifts(self, principal: Principal, days: int = 14) -> list[ShiftLoad]:
        since = self.now() - timedelta(days=days)
        return [s for s in shifts(self.contacts(principal, since=since, agent_id=principal.user_id))
                if s.agent_id == principal.user_id]

    def team(self, principal: Principal, day: date | None = None) -> dict[str, Any]:
        """Team load of one shift (default: today) and rotation suggestions; no private data."""
        rules = load_wellbeing_rules()
        day = day or shift_of(self.now(), rules)
        start = datetime.combine(day, datetime.min.time(), tzinfo=rules.tz).astimezone(timezone.utc)
        facts = [c for c in self.contacts(principal, since=start) if shift_of(c.started_at, rules) == day]
        members = [u for u in self.ctx.store.list_users(principal.tenant_id) if u.role == "agent" and u.active
                   and (principal.role == "admin" or (principal.team_id is not None and u.team_id == principal.team_id))]
        loads = [shift_load([c for c in facts if c.agent_id == u.id], rules, agent_id=u.id, shift=day) for u in members]
        return {"shift": day, "members": members, "loads": loads, "rotation": rotation_suggestions(loads, rules),
                "requests": self.store.support_requests(principal, limit=50),
                "users": {u.id: u for u in self.ctx.store.list_users(principal.tenant_id)}}

    def pending_prompt(self, principal: Principal) -> ContactFacts | None:
        """The agent's latest hard contact of the last two hours that is over (closed, or quiet for
        prompt.after_idle_minutes) and not yet answered by a check-in."""
        if principal.role != "agent" or principal.user_id is None:
            return None
        now = self.now()
        since = now - PROMPT_WINDOW
        answered = self.store.acknowledged_contacts(principal, since - PROMPT_WINDOW)
        rules = load_wellbeing_rules()
        quiet = timedelta(minutes=float(rules["prompt"]["after_idle_minutes"]))
        recent = self.ctx.store.list_conversations(principal, ConversationFilter(agent_id=principal.user_id,
                                                                                 updated_since=since), page_size=200)
        status = {str(c.id): c.status for c in recent.items}
        hard = [c for c in self.contacts(principal, since=since, agent_id=principal.user_id)
                if is_hard(c, rules) and int(c.contact_id) not in answered and c.ended_at >= since
                and (status.get(c.contact_id) != "open" or now - c.ended_at >= quiet)]
        return max(hard, key=lambda c: c.ended_at) if hard else None

    # training ------------------------------------------------------------------------------
    def scenarios(self, principal: Principal) -> list[Scenario]:
        """The shipped (or ANFU_SCENARIOS_DIR) scenarios plus the tenant's own."""
        return list(load_scenarios(self.ctx.settings.scenarios_dir)) + self._own_scenarios(principal)

    def scenario(self, principal: Principal, scenario_id: str) -> Scenario:
        own = [s for s in self._own_scenarios(principal, scenario_id) if s.id == scenario_id]
        return get_scenario(scenario_id, self.ctx.settings.scenarios_dir, extra=own)

    def _own_scenarios(self, principal: Principal, scenario_id: str | None = None) -> list[Scenario]:
        """The tenant's own scenarios that still pass the validator. One saved before a rule was
        added (a regex that backtracks exponentially) is left out and logged, not run: as if it
        did not exist (AF702 when asked for), instead of failing every training page."""
        own = []
        for record in self.store.list_scenarios(principal.tenant_id):
            if scenario_id is not None and record.scenario_id != scenario_id:
                continue
            try:
                own.append(build_scenario(record.data, where=f"scenario {record.scenario_id}"))
            except RulePackError as exc:
                log.warning("tenant %s scenario %s no longer validates, left out: %s", principal.tenant_id,
                            record.scenario_id, exc.code)
        return own

    def replay(self, principal: Principal, record: Any) -> Simulator:
        """The session's simulator, rebuilt from its seed and replies (deterministic)."""
        sim = Simulator(self.scenario(principal, record.scenario_id), record.seed, analyzer=self.ctx.analyzer)
        sim.start()
        for text in record.replies:
            sim.reply(text)
        return sim

    def make_case(self, principal: Principal, conversation_id: int) -> Any:
        """An anonymised case of a closed conversation `principal` may see."""
        store = self.ctx.store
        conversation = store.get_conversation(conversation_id, visible_to=principal)
        if conversation.status != "closed":
            raise NotFoundError("AF503", conversation_id, kind="closed conversation")
        messages = store.list_messages(conversation_id, visible_to=principal, limit=10_000)
        analysis = self.ctx.analyzer(Conversation.from_texts([(m.speaker, m.text) for m in messages],
                                                             industry=conversation.industry)).to_dict()
        users = store.list_users(principal.tenant_id)
        customer_names: list[str] = []
        if conversation.customer_id is not None:
            try:
                customer = store.get_customer(conversation.customer_id, visible_to=principal)
                customer_names = [customer.display_name]
            except NotFoundError:
                customer_names = []
        names = name_map(customer_names, [n for u in users for n in (u.display_name, u.username)])
        data = build_case([{"speaker": m.speaker, "text": m.text} for m in messages], analysis, names=names,
                          industry=conversation.industry)
        return self.store.save_case(principal, title=case_title(data), data=data, source_conversation_id=conversation_id,
                                    industry=conversation.industry, cause=data.get("cause"), persona=data.get("persona"))


SKILL_NAMES = {
    "empathy": ("共情安抚", "Empathy"), "discovery": ("问清情况", "Finding the facts"),
    "solution": ("方案与时限", "Solution with a time"), "compliance": ("无服务忌语", "No forbidden phrases"),
    "persona": ("因人而异", "Fitting the persona"), "calming": ("情绪平复", "Calming"),
}


def progress(sessions: list[Any]) -> dict[int, dict[str, Any]]:
    """Per agent: sessions, mean score, mean of each skill, and the scores over time."""
    out: dict[int, dict[str, Any]] = {}
    for s in sessions:
        if s.status != "finished":
            continue
        row = out.setdefault(s.agent_id, {"sessions": 0, "scores": [], "skills": {}, "timeline": []})
        row["sessions"] += 1
        row["scores"].append(s.score or 0)
        row["timeline"].append((s.finished_at, s.scenario_id, s.score, dict(s.skills or {})))
        for skill, value in (s.skills or {}).items():
            row["skills"].setdefault(skill, []).append(float(value))
    for row in out.values():
        row["mean"] = round(sum(row["scores"]) / len(row["scores"]))
        row["skills"] = {k: round(sum(v) / len(v), 2) for k, v in row["skills"].items()}
        half = len(row["scores"]) // 2
        row["trend"] = (round(sum(row["scores"][half:]) / len(row["scores"][half:]) - sum(row["scores"][:half]) / half)
                        if half else 0)
    return out
