"""Staff accounts and teams for admins (and the lists supervisors and auditors read):
deactivate and reactivate a user (their sessions end at once), move a user to a team,
create teams. Creating users, roles and tokens stay with `anfu.security.Authenticator`."""

from __future__ import annotations

from typing import Any

from ..errors import AuthError, NotFoundError
from ..store import Store, Team, User
from ..store.access import Principal, require
from ..text.names import display_name
from .routing import Routing


class Staff:
    def __init__(self, store: Store, routing: Routing | None = None) -> None:
        self.store = store
        self.routing = routing  # hands a leaving agent's open chats back (`Routing.withdraw`)

    def users(self, principal: Principal, *, team_id: int | None = None, role: str | None = None,
              active: bool | None = None) -> list[User]:
        """Admins and auditors list the tenant; supervisors their own team; agents nobody."""
        if principal.role == "supervisor":
            team_id = principal.team_id if team_id in (None, principal.team_id) else -1
        elif principal.role not in ("admin", "auditor"):
            raise AuthError("AF417", "list staff accounts")
        out = self.store.list_users(principal.tenant_id)
        return [u for u in out if (team_id is None or u.team_id == team_id) and (role is None or u.role == role)
                and (active is None or u.active == active)]

    def _user(self, principal: Principal, user_id: int) -> User:
        try:
            user = self.store.get_user(user_id)
        except NotFoundError:
            user = None
        if user is None or user.tenant_id != principal.tenant_id:
            raise NotFoundError("AF503", user_id, kind="user")
        return user

    def update(self, principal: Principal, user_id: int, *, active: bool | None = None,
               team_id: Any = ..., display_name: str | None = None, ip: str | None = None) -> User:
        """Change a user (admins). Deactivating ends their sessions; nobody deactivates themself."""
        require(principal, "users.manage")
        user = self._user(principal, user_id)
        changes: dict[str, Any] = {}
        if active is not None and active != user.active:
            if not active and user.id == principal.user_id:
                raise AuthError("AF417", "deactivate your own account")
            changes["active"] = active
        if team_id is not ... and team_id != user.team_id:
            if team_id is not None and self.store.get_team(team_id).tenant_id != principal.tenant_id:
                raise NotFoundError("AF503", team_id, kind="team")
            changes["team_id"] = team_id
        if display_name is not None and display_name != user.display_name:
            changes["display_name"] = display_name
        if not changes:
            return user
        updated = self.store.update_user(user.id, **changes)
        if "active" in changes or "team_id" in changes:
            self.store.revoke_user_sessions(user.id)  # new team or no access: from the next request on
        leaving = changes.get("active") is False or "team_id" in changes
        if leaving and user.role == "agent" and self.routing is not None:
            # their open chats must not wait for someone who no longer takes them
            self.routing.withdraw(principal.tenant_id, user.id, user.team_id,
                                  "agent_deactivated" if changes.get("active") is False else "agent_moved")
        self.store.audit(principal.tenant_id, principal.actor, "user.updated", target=f"user:{user.id}",
                         detail={k: v for k, v in changes.items()}, ip=ip)
        return updated

    def teams(self, principal: Principal) -> list[Team]:
        return self.store.list_teams(principal.tenant_id)

    def create_team(self, principal: Principal, name: str, ip: str | None = None) -> Team:
        require(principal, "users.manage")
        name = display_name(name, "team")
        team = self.store.create_team(principal.tenant_id, name)
        self.store.audit(principal.tenant_id, principal.actor, "team.created", target=f"team:{team.id}",
                         detail={"name": name}, ip=ip)
        return team
