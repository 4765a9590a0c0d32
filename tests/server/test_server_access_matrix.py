"""Every role against every owner's objects through the new API routes (issue 11): tickets
(read, list, note, ledger, follow-up, survey link) and alerts (list, acknowledge). What a
viewer may not see answers exactly like a missing object (404 AF503); what they see but may
not change answers 403 AF417 and writes nothing."""

from __future__ import annotations

from typing import Any

import pytest

OWNERS = ("agent_a1", "agent_a2", "agent_b1")
VISIBLE = {
    "agent_a1": {"agent_a1"}, "agent_a1b": set(), "agent_a2": {"agent_a2"},
    "sup_a1": {"agent_a1"}, "sup_a2": {"agent_a2"}, "admin_a": {"agent_a1", "agent_a2"},
    "auditor_a": {"agent_a1", "agent_a2"}, "agent_b1": {"agent_b1"}, "sup_b1": {"agent_b1"},
    "admin_b": {"agent_b1"},
}
WRITERS = {"agent", "supervisor", "admin"}
SUPERVISORS = {"supervisor", "admin"}


@pytest.fixture(scope="module")
def seeded(make_world: Any) -> Any:
    world = make_world()
    world.conv, world.ticket, world.alert = {}, {}, {}
    for owner in OWNERS:
        client = world.client(owner)
        r = client.post("/api/v1/messages", json={"conversation_ref": f"matrix-{owner}",
                                                  "text": "停电三天了还没人来修！再不来我就打12345投诉！"})
        assert r.status_code == 201, r.text
        conv = r.json()["conversation"]["id"]
        world.conv[owner] = conv
        world.ticket[owner] = client.post("/api/v1/tickets", json={"conversation_id": conv}).json()["id"]
        alerts = world.client("admin_" + owner.split("_")[1][0]).get(
            "/api/v1/alerts", params={"conversation_id": conv}).json()["items"]
        world.alert[owner] = alerts[0]["id"]
    return world


@pytest.mark.parametrize("viewer", sorted(VISIBLE))
def test_tickets_and_alerts_follow_the_rules(seeded: Any, viewer: str) -> None:
    world = seeded
    client = world.client(viewer)
    role = world.users[viewer].role
    listed = {t["id"] for t in client.get("/api/v1/tickets", params={"page_size": 200}).json()["items"]}
    assert listed == {world.ticket[o] for o in VISIBLE[viewer]}
    for owner in OWNERS:
        tid, cid, aid = world.ticket[owner], world.conv[owner], world.alert[owner]
        url = f"/api/v1/tickets/{tid}"
        reads = [client.get(url), client.get(f"{url}/ledger")]
        before = world.client(f"admin_{owner.split('_')[1][0]}").get(url).json()["history"]
        note = client.post(f"{url}/notes", json={"note": f"{viewer} 的处理记录"})
        ack = client.post(f"/api/v1/alerts/{aid}/acknowledge", json={})
        alerts = client.get("/api/v1/alerts", params={"conversation_id": cid}).json()["items"]
        if owner not in VISIBLE[viewer]:
            for r in (*reads, note, ack, client.get(f"{url}/followup"), client.get(f"{url}/survey-link")):
                assert r.status_code == 404 and r.json()["error"]["code"] == "AF503", (viewer, owner, r.text)
            assert alerts == []
            continue
        assert all(r.status_code == 200 for r in reads)
        assert [a["id"] for a in alerts] == [aid]
        assert client.get(f"{url}/followup").json()["error"]["code"] == "AF621"
        assert client.get(f"{url}/survey-link").json()["error"]["code"] == "AF608"
        if role in WRITERS:
            assert note.status_code == 201, (viewer, owner, note.text)
        else:
            assert note.status_code == 403 and note.json()["error"]["code"] == "AF417"
            after = world.client(f"admin_{owner.split('_')[1][0]}").get(url).json()["history"]
            assert after == before  # a refused write writes nothing
        if role in SUPERVISORS:
            assert ack.status_code == 200 and ack.json()["state"] == "acknowledged"
        else:
            assert ack.status_code == 403 and ack.json()["error"]["code"] == "AF417"
