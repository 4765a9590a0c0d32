"""The app factory (anfu/server/app.py) mounts every REST route module: a module under
anfu/server/routes/ whose router is left out of `create_app` would answer AF434 ("no such
endpoint") for all its paths rather than fail, so this test names the module that is missing."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import anfu.server.routes as routes_package
from anfu.server.app import API_PREFIX


def _mounted(app: Any) -> set[tuple[str, str]]:
    from tests.test_docs import route_entries  # the walk that sees FastAPI's wrapped routers too

    return {tuple(entry.split(" ", 1)) for entry in route_entries(app)}  # type: ignore[misc]


def test_every_route_module_is_mounted(world: Any) -> None:
    mounted = _mounted(world.app)
    modules = [info.name for info in pkgutil.iter_modules(routes_package.__path__)]
    assert len(modules) >= 20
    missing: dict[str, list[str]] = {}
    for name in modules:
        module = importlib.import_module(f"{routes_package.__name__}.{name}")
        router = getattr(module, "router", None)
        assert router is not None, f"anfu/server/routes/{name}.py has no `router`"
        wanted = {(method, API_PREFIX + route.path) for route in router.routes
                  for method in route.methods if method != "HEAD"}
        assert wanted, f"anfu/server/routes/{name}.py defines no route"
        if wanted - mounted:
            missing[name] = sorted(f"{m} {p}" for m, p in wanted - mounted)
    assert not missing, f"route modules not mounted by create_app: {missing}"


def test_inspection_endpoints_answer(world: Any) -> None:
    """The quality-inspection routes are mounted and masked for auditors (views.seen_by)."""
    client = world.client("admin_a")
    response = client.get("/api/v1/inspection/scorecards")
    assert response.status_code == 200, response.text
    assert any(card["name"] == "default" for card in response.json())
