"""The settings page of the admin console: what is in force for the admin's tenant.

Most settings belong to the server (`anfu.settings.Settings`, `ANFU_*` variables, the same for
every tenant); they are shown read-only with their effective values, secrets never shown (set
or not). What each tenant owns is edited here: the tenant's display name. The helpdesk
connectors, per tenant too, have their own page (`anfu.service.helpdesks`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..store import Store, Tenant
from ..store.access import Principal, require
from ..text.names import display_name

# server settings a tenant's admin needs to know (sign-in rules, limits, privacy, jobs);
# paths, addresses, the database URL and other tenants' connector settings stay out of view
SHOWN = ("environment", "session_ttl_minutes", "login_max_attempts", "lockout_minutes", "login_ip_max_attempts",
         "store_masked_text", "rate_limit_per_minute", "rate_limit_ip_per_minute",
         "rate_limit_auth_failures_per_minute", "scheduler_interval_s", "webhook_allow_private", "mailbox_poll_s",
         "secret_key")


@dataclass(frozen=True)
class SettingValue:
    name: str  # the ANFU_* variable
    value: str  # the effective value; for a secret only "set" or "unset"
    secret: bool = False
    default: bool = True  # equal to the built-in default


@dataclass(frozen=True)
class TenantSettingsView:
    tenant: Tenant
    server: list[SettingValue]


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def server_settings(settings: Any) -> list[SettingValue]:
    """The effective values of the SHOWN settings of `settings` (an `anfu.settings.Settings`)."""
    fields = type(settings).model_fields
    out = []
    for name in SHOWN:
        if name not in fields:
            continue
        value = getattr(settings, name)
        default = fields[name].get_default(call_default_factory=True)
        if hasattr(value, "get_secret_value"):
            out.append(SettingValue(f"ANFU_{name.upper()}", "set" if value.get_secret_value() else "unset",
                                    secret=True, default=False))
        else:
            out.append(SettingValue(f"ANFU_{name.upper()}", _shown(value), default=value == default))
    return out


class TenantSettings:
    def __init__(self, store: Store) -> None:
        self.store = store

    def view(self, principal: Principal, settings: Any) -> TenantSettingsView:
        require(principal, "users.manage")
        return TenantSettingsView(tenant=self.store.get_tenant(principal.tenant_id), server=server_settings(settings))

    def rename(self, principal: Principal, name: str, *, ip: str | None = None) -> Tenant:
        """Change the tenant's display name (audited `tenant.renamed`)."""
        require(principal, "users.manage")
        name = display_name(name, "tenant")
        before = self.store.get_tenant(principal.tenant_id)
        if before.name == name:
            return before
        tenant = self.store.rename_tenant(principal.tenant_id, name)
        self.store.audit(principal.tenant_id, principal.actor, "tenant.renamed", target=f"tenant:{tenant.id}",
                         detail={"from": before.name, "to": name}, ip=ip)
        return tenant
