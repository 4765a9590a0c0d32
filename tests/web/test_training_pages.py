"""Training pages: a whole session through the forms (start, replies, finish, feedback), the
trainer view (assign, progress per agent and skill), trainers' scenarios validated like packs,
the anonymised case library, and who may see what."""

from __future__ import annotations

import re

import yaml

from anfu.rules import RULES_ROOT

REPLIES = [
    "您好，非常抱歉让您等了这么久，换作是我也会着急，您慢慢说，我在听。",
    "这是我们公司的规定。",
    "请问家里有没有老人或者特殊情况？停电对您影响大吗？",
    "我马上为您派抢修人员，2小时内到达现场，工单号我短信发给您。",
]


def _session(response) -> int:  # noqa: ANN001
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/training/sessions/(\d+)", response.headers["location"])
    assert match, response.headers["location"]
    return int(match.group(1))


def test_a_whole_session_through_the_pages(web) -> None:
    li = web.client("li")
    page = li.get("/training")
    assert page.status_code == 200 and "小区停电三天无人抢修" in page.text
    assert len(re.findall(r'id="start-', page.text)) >= 36
    session_id = _session(li.post("/training/sessions", data={"scenario_id": "power_outage_elderly"}))
    chat = li.get(f"/training/sessions/{session_id}")
    assert chat.status_code == 200 and 'id="send-reply"' in chat.text
    for text in REPLIES:
        sent = li.post(f"/training/sessions/{session_id}/reply", data={"text": text})
        assert sent.status_code == 303
    chat = li.get(f"/training/sessions/{session_id}").text
    assert chat.count('class="sim-turn customer"') == 5 and chat.count('class="sim-turn agent"') == 4
    assert '<mark class="forbidden">这是我们公司的规定</mark>' in chat
    done = li.post(f"/training/sessions/{session_id}/finish")
    assert done.status_code == 303 and done.headers["location"].endswith("/feedback")
    feedback = li.get(f"/training/sessions/{session_id}/feedback")
    assert feedback.status_code == 200
    assert 'id="score"' in feedback.text and "更好的说法" in feedback.text and "服务忌语" in feedback.text
    # finished: no more replies, and the chat page sends to the feedback
    again = li.post(f"/training/sessions/{session_id}/reply", data={"text": "还有吗？"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "AF704"
    assert li.get(f"/training/sessions/{session_id}").status_code == 303
    # the team's supervisor sees it, another agent does not
    assert web.client("wang").get(f"/training/sessions/{session_id}/feedback").status_code == 200
    assert web.client("zhao").get(f"/training/sessions/{session_id}/feedback").status_code == 404
    english = web.client("li", lang="en").get(f"/training/sessions/{session_id}/feedback").text
    assert "A better reply:" in english and "Skills" in english


def test_trainer_assigns_and_sees_progress_per_skill(web) -> None:
    wang = web.client("wang")
    assert web.client("li").get("/training/trainer").status_code == 403
    response = wang.post("/training/assignments", data={"agent_id": str(web.users["zhao"].id),
                                                        "scenario_id": "telecom_signal_weak"})
    assert response.status_code == 303
    zhao = web.client("zhao")
    page = zhao.get("/training").text
    assignment = re.search(r'name="assignment_id" value="(\d+)"', page)
    assert assignment and "家里手机信号差" in page
    session_id = _session(zhao.post("/training/sessions", data={"assignment_id": assignment.group(1),
                                                                "scenario_id": "telecom_signal_weak"}))
    for text in ("您好，非常抱歉给您带来不便，您说说具体情况，我在听。", "请问您住在哪个小区，几楼？",
                 "我马上为您安排工程师上门做信号测试，明天上午10点前联系您。"):
        zhao.post(f"/training/sessions/{session_id}/reply", data={"text": text})
    zhao.post(f"/training/sessions/{session_id}/finish")
    trainer = wang.get("/training/trainer").text
    row = re.search(r"<tr><td[^>]*>赵敏</td>(.*?)</tr>", trainer, re.S)
    assert row and "<td>1</td>" in row.group(1) and "%" in row.group(1)
    assert "telecom_signal_weak" in trainer and "未完成" not in trainer.split('id="assigned"')[1].split("赵敏")[1][:200]
    # a supervisor cannot assign outside the team
    bad = wang.post("/training/assignments", data={"agent_id": "999999", "scenario_id": "telecom_signal_weak"})
    assert bad.status_code == 404


def test_trainers_write_scenarios_validated_like_packs(web) -> None:
    wang = web.client("wang")
    editor = wang.get("/training/scenarios/new")
    assert editor.status_code == 200 and "my_new_scenario" in editor.text
    data = yaml.safe_load((RULES_ROOT / "zh_CN" / "scenarios" / "power_bill_spike.yaml").read_text(encoding="utf-8"))
    broken = {**data, "id": "centre_bill", "persona": "暴躁型"}
    refused = wang.post("/training/scenarios", data={"yaml": yaml.safe_dump(broken, allow_unicode=True)})
    assert refused.status_code == 422 and "AF301" in refused.text and "persona must be one of" in refused.text
    assert wang.post("/training/scenarios", data={"yaml": "id: [unclosed"}).status_code == 422
    good = {**data, "id": "centre_bill", "title": "本中心情景：阶梯电价争议"}
    saved = wang.post("/training/scenarios", data={"yaml": yaml.safe_dump(good, allow_unicode=True)})
    assert saved.status_code == 303
    assert "本中心情景：阶梯电价争议" in web.client("li").get("/training").text
    duplicate = wang.post("/training/scenarios", data={"yaml": yaml.safe_dump(good, allow_unicode=True)})
    assert duplicate.status_code == 409 and "AF707" in duplicate.text and "already exists" in duplicate.text
    shipped_id = wang.post("/training/scenarios", data={"yaml": yaml.safe_dump(data, allow_unicode=True)})
    assert shipped_id.status_code == 409
    assert web.client("li").post("/training/scenarios", data={"yaml": "x"}).status_code == 403
    session_id = _session(web.client("li").post("/training/sessions", data={"scenario_id": "centre_bill"}))
    assert "本中心情景" in web.client("li").get(f"/training/sessions/{session_id}").text


def _exchange(web, customer: str, agent: str, follow_up: str) -> int:
    """A customer turn, li's reply and the customer's next turn; the conversation's id."""
    conversation_id = web.customer_says(customer)["conversation"]["id"]
    reply = web.client("li").post("/api/v1/messages", json={"conversation_id": conversation_id,
                                                            "speaker": "agent", "text": agent})
    assert reply.status_code == 201, reply.text
    web.customer_says(follow_up, conversation_id)
    return conversation_id


def test_case_library_from_a_closed_conversation(web) -> None:
    conversation_id = _exchange(web, "我叫张伟，手机13912345678，电费怎么突然翻倍了？你们是不是搞错了！",
                                "张先生您好，非常抱歉让您着急了，我是李强，我马上为您核对电表读数，今天下午5点前回复您。",
                                "好的，谢谢，那我等你电话。")
    li = web.client("li")
    wang = web.client("wang")
    open_case = wang.post("/training/cases", data={"conversation_id": str(conversation_id)})
    assert open_case.status_code == 404  # only closed conversations become cases
    assert li.patch(f"/api/v1/conversations/{conversation_id}", json={"status": "closed"}).status_code == 200
    assert f"#{conversation_id}" in wang.get("/training/cases").text
    made = wang.post("/training/cases", data={"conversation_id": str(conversation_id)})
    assert made.status_code == 303
    case = li.get(made.headers["location"])
    assert case.status_code == 200
    body = case.text.split("</header>", 1)[1]  # the header names the signed-in user
    for secret in ("13912345678", "张伟", "李强", "张先生"):
        assert secret not in body
    assert "[手机号]" in body and "某先生" in body and "有效的做法" in body
    assert "电费怎么突然翻倍" in body
    assert li.post("/training/cases", data={"conversation_id": str(conversation_id)}).status_code == 403


def test_progress_per_agent_and_skill_over_time() -> None:
    from datetime import datetime, timedelta, timezone
    from types import SimpleNamespace

    from anfu.server.care import progress

    t0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
    sessions = [SimpleNamespace(agent_id=1, status="finished", score=score, finished_at=t0 + timedelta(days=i),
                                scenario_id="s", skills={"empathy": emp, "compliance": 1.0})
                for i, (score, emp) in enumerate([(30, 0.0), (50, 0.5), (70, 0.5), (90, 1.0)])]
    sessions.append(SimpleNamespace(agent_id=1, status="active", score=None, finished_at=None, scenario_id="s", skills=None))
    sessions.append(SimpleNamespace(agent_id=2, status="finished", score=60, finished_at=t0, scenario_id="s",
                                    skills={"empathy": 1.0}))
    out = progress(sessions)
    assert out[1]["sessions"] == 4 and out[1]["mean"] == 60 and out[1]["trend"] == 40
    assert out[1]["skills"] == {"empathy": 0.5, "compliance": 1.0}
    assert [row[2] for row in out[1]["timeline"]] == [30, 50, 70, 90]
    assert out[2]["trend"] == 0 and out[2]["skills"] == {"empathy": 1.0}


def test_a_case_page_in_english_shows_the_findings_in_english(web) -> None:
    conversation_id = _exchange(web, "停电三天了！报修两次都没人来，你们到底管不管？", "这不归我们管，你自己去找物业。",
                                "你们这是什么态度？我要投诉！")
    li = web.client("li")
    assert li.patch(f"/api/v1/conversations/{conversation_id}", json={"status": "closed"}).status_code == 200
    made = web.client("wang").post("/training/cases", data={"conversation_id": str(conversation_id)})
    assert made.status_code == 303
    hurt_zh = li.get(made.headers["location"]).text.split('id="hurt"', 1)[1].split("</ul>", 1)[0]
    assert "这不归我们管" in hurt_zh and "<small>" in hurt_zh  # the reply and why it hurt
    hurt_en = web.client("li", lang="en").get(made.headers["location"]).text.split('id="hurt"', 1)[1]
    why_en = hurt_en.split("</ul>", 1)[0].split("<small>", 1)[1].split("</small>", 1)[0]
    # the agent's own words stay quoted; the frame and the advice are English
    assert "属于服务忌语" not in why_en and "is a forbidden phrase" in why_en, why_en
    assert not re.search(r"[\u4e00-\u9fff]", why_en.rsplit("”", 1)[-1]), why_en
