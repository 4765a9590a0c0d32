from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from anfu.channels.dropfolder import poll_mailbox
from anfu.store import Principal

EML = ("From: 周先生 <zhou@example.com>\r\nSubject: 水费异常\r\nMessage-ID: <w1@example.com>\r\n"
       "Date: Wed, 01 May 2024 09:30:00 +0800\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
       "这个月水费比上个月多了一倍，家里也没人住，你们是不是抄错表了？\r\n\r\n发自我的iPhone\r\n").encode("utf-8")
SRT = ("1\n00:00:00,000 --> 00:00:02,000\n坐席：您好，请问有什么可以帮您？\n\n"
       "2\n00:00:02,500 --> 00:00:06,000\n客户：我的宽带三天没网了，你们到底修不修？\n")
CSV = ("会话ID,角色,内容,时间,客户\nIMP-1,客户,快递显示签收了但我根本没收到！,2024-05-01 10:00:00,zhou@example.com\n"
       "IMP-1,客服,非常抱歉，我马上联系快递员核实。,2024-05-01 10:01:00,\n")


def test_uploads_land_on_one_customer_timeline(world: Any) -> None:
    client = world.client("sup_a2")
    mail = client.post("/api/v1/intake/email", files={"file": ("w1.eml", EML, "message/rfc822")})
    assert mail.status_code == 201, mail.text
    assert mail.json()["messages"] == 1 and mail.json()["created"] == 1
    again = client.post("/api/v1/intake/email", files={"file": ("w1.eml", EML, "message/rfc822")})
    assert again.json()["created"] == 0  # the same e-mail twice is one message
    table = client.post("/api/v1/intake/table", files={"file": ("hist.csv", CSV.encode("gb18030"))},
                        params={"encoding": "gb18030"})
    assert table.status_code == 201 and table.json()["messages"] == 2, table.text
    call = client.post("/api/v1/intake/transcript", data={"call_id": "call-77", "phone": "13512345678"},
                       files={"file": ("call.srt", SRT.encode("utf-8"))})
    assert call.status_code == 201 and call.json()["created"] == 2
    conv = client.get(f"/api/v1/conversations/{table.json()['conversation_ids'][0]}").json()
    customer_id = conv["conversation"]["customer_id"]
    timeline = client.get(f"/api/v1/customers/{customer_id}/timeline").json()
    # the e-mail and the import share the address zhou@example.com: one customer, one timeline
    assert [i["channel"] for i in timeline["items"]][:1] == ["email"]
    assert {i["channel"] for i in timeline["items"]} == {"email", "import"}
    assert conv["assessments"], "the import's last message is analysed"


def test_mailbox_drop_folder_feeds_the_service(world: Any, tmp_path: Path) -> None:
    (tmp_path / "m1.eml").write_bytes(EML.replace(b"w1@example.com", b"w2@example.com"))
    (tmp_path / "broken.eml").write_bytes(b"\x00\x01 not mail")
    principal = Principal.of_user(world.users["sup_a1"])
    report = poll_mailbox(tmp_path, lambda threads, path: [
        world.ctx.turns.ingest_thread(principal, t) for t in threads])
    assert report.processed == ["m1.eml"] and list(report.failed) == ["broken.eml"]
    error = json.loads((tmp_path / "failed" / "broken.eml.error.json").read_text(encoding="utf-8"))
    assert error["code"].startswith("AF0")


def test_the_service_watches_the_mailbox_folder(world: Any) -> None:
    """With `mailbox_poll_s` (as `anfu serve` passes it), the running app ingests `.eml` files
    dropped in `settings.mailbox_dir`; a sub-folder named after a tenant's slug feeds it."""
    import time

    from fastapi.testclient import TestClient

    from anfu.server import create_app

    folder = world.settings.mailbox_dir / "tenant-a"
    folder.mkdir(parents=True, exist_ok=True)
    mail = EML.replace(b"w1@example.com", b"drop-1@example.com").replace(
        "家里也没人住".encode(), "楼里还停水三天了".encode())
    (folder / "drop-1.eml").write_bytes(mail)
    (folder / "junk.eml").write_bytes(b"\xff\xfe not a mail at all")
    app = create_app(world.settings, analyzer=world.ctx.analyzer, store=world.store, mailbox_poll_s=0.05)
    with TestClient(app):  # runs the lifespan: the watcher starts, and stops on exit
        deadline = time.monotonic() + 20
        while not ((folder / "processed" / "drop-1.eml.json").exists() and (folder / "failed" / "junk.eml").exists()) \
                and time.monotonic() < deadline:
            time.sleep(0.05)
    assert (folder / "processed" / "drop-1.eml.json").exists()
    assert (folder / "failed" / "junk.eml").exists()
    admin = Principal.of_user(world.users["admin_a"])
    convs = world.store.list_conversations(admin).items
    mailed = [c for c in convs if c.channel == "email" and c.customer_id is not None]
    timelines = [world.store.customer_timeline(c.customer_id, admin).items for c in mailed]
    assert any("楼里还停水三天了" in item.message.text for items in timelines for item in items)
    assert world.store.get_customer(mailed[0].customer_id, admin).tenant_id == world.tenants["a"].id
