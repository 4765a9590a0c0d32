"""The angry-chat scenario through the web workspace without a browser: the pre-send check,
a flagged reply that needs (and records) a confirmation, escalation to a ticket, the
supervisor's whisper and take-over, the ticket along the SOP with its SLA clock, follow-up,
the signed CSAT link, closing, and the 四个不漏 ledger."""

from __future__ import annotations

import re

import pytest

ANGRY = "我们小区停电都三天了！！！报了两次修都没人来，你们到底管不管？"
THREAT = "排队排三天？今天再不来人我就打12345投诉，还要发抖音让大家看看你们的服务！"

FORBIDDEN = "这是我们公司的规定，抢修要排队，您再等等吧。"


@pytest.fixture(scope="module")
def chat(web) -> int:
    cid = web.customer_says(ANGRY)["conversation"]["id"]
    web.customer_says(THREAT, cid)
    return cid


def test_presend_highlights_forbidden_phrase_and_offers_rewrite(web, chat):
    html = web.client("li").post(f"/console/{chat}/check", data={"draft": FORBIDDEN}).text
    assert '<mark class="forbidden">这是我们公司的规定</mark>' in html
    assert 'id="use-rewrite"' in html and "建议改写" in html


def test_clean_draft_passes(web, chat):
    html = web.client("li").post(f"/console/{chat}/check",
                                 data={"draft": "非常抱歉让您久等了，我马上为您加急处理，30分钟内回电。"}).text
    assert "发送前检查通过" in html and "<mark" not in html


def test_flagged_reply_needs_confirmation_which_is_recorded(web, chat):
    client = web.client("li")
    before = len(web.store.list_messages(chat))
    first = client.post(f"/console/{chat}/send", data={"draft": FORBIDDEN})
    assert 'id="confirm"' in first.text
    assert len(web.store.list_messages(chat)) == before  # not sent
    second = client.post(f"/console/{chat}/send", data={"draft": FORBIDDEN, "confirm": "yes"})
    assert 'id="sent-ok"' in second.text
    assert len(web.store.list_messages(chat)) == before + 1
    events = web.store.list_events(_principal(web, "li"), name="reply.flagged_sent", conversation_id=chat)
    assert events and "fp.policy_wall" in events[0].payload["rules"]


def _principal(web, who):
    from anfu.store import Principal

    return Principal.of_user(web.users[who])


def test_escalation_alert_reaches_the_wallboard(web, chat):
    wall = web.client("wang").get("/wallboard").text
    assert f'data-conversation="{chat}"' in wall
    assert "客户表示要投诉或向外部反映" in wall  # the ladder's reason is shown


def test_whisper_and_take_over(web, chat):
    sup = web.client("wang")
    sup.post(f"/wallboard/{chat}/whisper", data={"hint": "先道歉，再承诺30分钟内抢修人员回电"})
    assert "先道歉，再承诺30分钟内抢修人员回电" in web.client("li").get(f"/console/{chat}").text
    board = sup.post(f"/wallboard/{chat}/take-over").text
    assert "交还" in board
    agent_view = web.client("li").get(f"/console/{chat}").text
    assert 'id="takeover-state"' in agent_view and 'id="send"' not in agent_view
    # the supervisor now answers as the agent
    sent = sup.post(f"/console/{chat}/send", data={"draft": "您好，我是值班班长王丽，抢修人员30分钟内给您回电。"})
    assert 'id="sent-ok"' in sent.text


def test_ticket_from_escalation_through_survey_to_closed(web, chat):
    sup = web.client("wang")
    panel = sup.post(f"/console/{chat}/escalate").text
    number = re.search(r'id="ticket-link">(TS-\d{8}-\d{4})<', panel).group(1)
    from anfu.store import WorkflowStore

    workflow = WorkflowStore(web.store.engine)
    record = workflow.get_ticket_by_number(number, web.store.get_conversation(chat).tenant_id)
    ticket_id = record.id
    assert record.priority in ("high", "urgent", "normal") and record.cause in ("outage", "delay", "repair")
    page = sup.get(f"/tickets/{ticket_id}").text
    assert 'id="sla-clock"' in page and "剩余" in page and "接收反馈" in page
    assert "按自然小时计时" in page  # a web-chat complaint: 24 clock hours to answer, not business hours
    for action, data in (("respond", {}), ("advance", {"to": "确认问题"}), ("advance", {"to": "提供方案"}),
                         ("advance", {"to": "执行方案"}), ("resolve", {"note": "已恢复供电"})):
        response = sup.post(f"/tickets/{ticket_id}/{action}", data=data, headers={"HX-Request": "true"})
        assert response.status_code == 200 and 'id="ticket-error"' not in response.text, (action, response.text[:300])
    page = sup.get(f"/tickets/{ticket_id}").text
    assert "已解决" in page and "待回访" in page
    url = re.search(r'id="survey-url" readonly value="([^"]+)"', page).group(1)
    path = url.split("testserver", 1)[1]
    public = web.client()  # the customer: no sign-in
    form = public.get(path)
    assert form.status_code == 200 and 'name="score"' in form.text
    thanks = public.post(path, data={"score": "5", "comment": "抢修很及时，谢谢"})
    assert 'id="survey-thanks"' in thanks.text
    again = public.post(path, data={"score": "1"})
    assert again.status_code == 422  # one answer per ticket
    sup.post(f"/tickets/{ticket_id}/followup", data={"reached": "yes", "solved": "yes", "note": "客户确认已来电"})
    closed = sup.post(f"/tickets/{ticket_id}/close", data={"note": "回访满意"}).text
    assert 'id="ticket-status">已关闭<' in closed and "5/5" in closed
    feedback = sup.post(f"/tickets/{ticket_id}/feed_back", data={"note": "线路老化，建议改造"}).text
    assert "已反馈" in feedback
    ledger = sup.get("/ledger").text
    assert number in ledger


def test_low_score_reopens_and_alerts(web):
    cid = web.customer_says("宽带又断了，第三次了，你们到底能不能修好？我要投诉！")["conversation"]["id"]
    sup = web.client("wang")
    sup.post(f"/console/{cid}/escalate")
    from anfu.store import WorkflowStore

    record = WorkflowStore(web.store.engine).list_tickets(_principal(web, "wang"), conversation_id=cid).items[0]
    for action, data in (("advance", {"to": "确认问题"}), ("advance", {"to": "提供方案"}),
                         ("advance", {"to": "执行方案"}), ("resolve", {})):
        sup.post(f"/tickets/{record.id}/{action}", data=data)
    page = sup.get(f"/tickets/{record.id}").text
    path = re.search(r'id="survey-url" readonly value="([^"]+)"', page).group(1).split("testserver", 1)[1]
    answer = web.client().post(path, data={"score": "1", "comment": "根本没修好"})
    assert "班长会尽快与您联系" in answer.text
    page = sup.get(f"/tickets/{record.id}").text
    assert 'id="ticket-status">已重开<' in page
    assert "低分回访告警" in sup.get("/wallboard").text


def test_forged_survey_link_is_refused(web):
    response = web.client().get("/survey/not-a-real-token")
    assert response.status_code == 404 and "调查链接无效" in response.text


def test_auditor_reads_but_cannot_change_tickets(web):
    from anfu.store import WorkflowStore

    record = WorkflowStore(web.store.engine).all_tickets(_principal(web, "qa"))[0]
    auditor = web.client("qa")
    assert auditor.get(f"/tickets/{record.id}").status_code == 200
    assert auditor.post(f"/tickets/{record.id}/respond").status_code == 403


def test_exports_download_the_report(web):
    sup = web.client("wang")
    xlsx = sup.get("/analytics-export/report.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    agent = web.client("li")
    assert agent.get("/analytics-export/report.xlsx").status_code == 403
