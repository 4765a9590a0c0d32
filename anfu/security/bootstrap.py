"""First run: create the first admin with a one-time password (no default credentials).

The server and `anfu` CLI call `bootstrap_admin(store)` at start-up. On an empty database it
creates the tenant and an admin whose random password is returned once — the caller prints
it to the operator's terminal (never to a log); only its hash is stored. At first sign-in the
admin must change it and enrol TOTP. On any later run it returns None.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import StoreError
from ..store import Store
from ..store.records import Tenant, User
from .passwords import generate_password, hash_password

DEFAULT_TENANT_SLUG = "default"
DEFAULT_TENANT_NAME = "默认租户"
DEFAULT_ADMIN = "admin"


@dataclass(frozen=True)
class OneTimeCredentials:
    tenant: Tenant
    user: User
    password: str

    def message(self, url: str | None = None) -> str:
        """What to print once on the operator's terminal."""
        lines = ["首次启动：已创建管理员账号 (first run: admin account created)",
                 f"  用户名 user name: {self.user.username}",
                 f"  一次性密码 one-time password: {self.password}",
                 "  此密码只显示这一次；首次登录后须修改密码并绑定动态口令 (TOTP)。",
                 "  This password is shown only once; change it and enrol TOTP at first sign-in."]
        if url:
            lines.insert(1, f"  地址 URL: {url}")
        return "\n".join(lines)


def bootstrap_admin(store: Store, *, tenant_slug: str = DEFAULT_TENANT_SLUG,
                    tenant_name: str = DEFAULT_TENANT_NAME, username: str = DEFAULT_ADMIN) -> OneTimeCredentials | None:
    """Create the first admin when the database has no user yet; else None."""
    if store.count_users():
        return None
    tenant = store.get_tenant_by_slug(tenant_slug)
    try:
        if tenant is None:
            tenant = store.create_tenant(tenant_slug, tenant_name)
        password = generate_password()
        user = store.create_user(tenant.id, username, hash_password(password), "admin",
                                 display_name="管理员", must_change_password=True)
    except StoreError as exc:
        if exc.code == "AF504":  # another process bootstrapped at the same moment
            return None
        raise
    store.audit(tenant.id, "system", "user.bootstrap_admin", target=f"user:{user.id}")
    return OneTimeCredentials(tenant, user, password)
