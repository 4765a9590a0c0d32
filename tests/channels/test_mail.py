from __future__ import annotations

from email.header import Header
from email.message import EmailMessage

import pytest

from anfu import registry
from anfu.channels.mail import html_to_text, strip_quotes_and_signature
from anfu.errors import InputError


def adapter(**kw):
    return registry.channels.get("email.v1")(**kw)


def eml(body: str, subtype: str = "plain", charset: str = "utf-8", **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = headers.pop("From", "张先生 <zhang.wei@example.com>")
    msg["To"] = "kefu@power.example.cn"
    msg["Subject"] = headers.pop("Subject", "投诉：电费异常")
    msg["Date"] = "Wed, 01 May 2024 09:30:00 +0800"
    msg["Message-ID"] = headers.pop("Message_ID", "<m2@mail.example.com>")
    for key, value in headers.items():
        msg[key.replace("_", "-")] = value
    msg.set_content(body, subtype=subtype, charset=charset)
    return msg.as_bytes()


QQ_REPLY = """你们说三个工作日内退款，今天已经第五天了，钱还是没到账！
再不处理我就打12315投诉。

张伟
-- 
张伟 | 某某科技有限公司
电话：010-12345678

------------------ 原始邮件 ------------------
发件人: "客服中心"<kefu@power.example.cn>;
发送时间: 2024年4月26日(星期五) 上午10:00
主题: 回复：退款申请

您好，您的退款将在三个工作日内原路退回。
"""


def test_plain_reply_strips_quote_and_signature() -> None:
    [thread] = adapter().read(eml(QQ_REPLY, In_Reply_To="<m1@power.example.cn>",
                                  References="<m0@mail.example.com> <m1@power.example.cn>"))
    [u] = thread.utterances
    assert u.text.startswith("你们说三个工作日内退款") and u.text.endswith("张伟")
    assert "原始邮件" not in u.text and "某某科技" not in u.text and "原路退回" not in u.text
    assert u.speaker == "customer" and u.channel == "email" and u.id == "<m2@mail.example.com>"
    assert thread.key == "<m0@mail.example.com>"  # the thread root
    assert thread.customer.email == "zhang.wei@example.com" and thread.customer.name == "张先生"
    assert thread.subject == "投诉：电费异常"
    assert u.timestamp == 1714527000.0


@pytest.mark.parametrize("tail", [
    "\n\n在 2024年4月26日 10:00，客服中心 <kefu@power.example.cn> 写道：\n> 您好，已受理。\n",
    "\n\nOn Fri, Apr 26, 2024 at 10:00 AM Kefu <kefu@power.example.cn> wrote:\n> Accepted.\n",
    "\n\n发件人: 客服中心\n发送时间: 2024年4月26日 10:00\n收件人: 张伟\n主题: 已受理\n",
    "\n\n-----原始邮件-----\n您好，已受理。\n",
    "\n\n发自我的iPhone\n",
])
def test_reply_markers(tail: str) -> None:
    text = strip_quotes_and_signature("停电两天了，请尽快派人来修。" + tail)
    assert text == "停电两天了，请尽快派人来修。"


def test_html_body_is_sanitised() -> None:
    body = ("<html><head><style>p{color:red}</style><title>t</title></head><body>"
            "<p>我家上个月电费<b>680元</b>，比往年翻了一倍&amp;没人解释！</p>"
            "<script>alert('x')</script><div>请给个说法。</div>"
            "<blockquote>您好，您的工单已受理。</blockquote></body></html>")
    [u] = adapter().parse(eml(body, subtype="html"))
    assert u.text == "我家上个月电费680元，比往年翻了一倍&没人解释！\n请给个说法。"
    assert "<" not in u.text and "alert" not in u.text and "已受理" not in u.text
    assert html_to_text("<img src=x onerror=alert(1)>你好") == "你好"


def test_gb2312_declared_charset_is_read() -> None:
    name = Header("李先生", "gb2312").encode()
    raw = (f"From: {name} <li@example.cn>\r\nSubject: test\r\n"
           "Content-Type: text/plain; charset=gb2312\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
           ).encode("ascii") + "宽带又断网了，这个月第三次了！镕".encode("gb18030")
    [thread] = adapter().read(raw)
    assert thread.utterances[0].text == "宽带又断网了，这个月第三次了！镕"
    assert thread.customer.name == "李先生"


def test_agent_domain_reply_is_agent() -> None:
    raw = eml("您好，已为您加急处理。", From="客服中心 <kefu@power.example.cn>")
    [thread] = adapter(agent_domains=("power.example.cn",)).read(raw)
    assert thread.utterances[0].speaker == "agent" and thread.customer.is_empty()


@pytest.mark.parametrize("raw, code", [
    (b"", "AF035"),
    (b"this is not an e-mail at all", "AF030"),
    (None, "AF035"),
])
def test_malformed_mail_is_coded(raw, code) -> None:
    with pytest.raises(InputError) as info:
        adapter().read(raw)
    assert info.value.code == code


def test_mail_without_text_is_af034() -> None:
    with pytest.raises(InputError) as info:
        adapter().read(eml("> 只有引用\n> 没有正文\n"))
    assert info.value.code == "AF034"


def test_wrongly_declared_charset_is_af031() -> None:
    raw = (b"From: a@example.cn\r\nSubject: x\r\nContent-Type: text/plain; charset=utf-8\r\n"
           b"Content-Transfer-Encoding: 8bit\r\n\r\n") + "停电了".encode("gb18030")
    with pytest.raises(InputError) as info:
        adapter().read(raw)
    assert info.value.code == "AF031"


def test_raw_8bit_headers_are_repaired() -> None:
    for encoding in ("utf-8", "gb18030"):
        raw = ("From: 周先生 <zhou@example.com>\r\nSubject: 回复：水费异常\r\n"
               "Content-Type: text/plain; charset=utf-8\r\n\r\n").encode(encoding) + "水费多了一倍！".encode("utf-8")
        [thread] = adapter().read(raw)
        assert thread.customer.name == "周先生"
        if encoding == "utf-8":
            assert thread.subject == "水费异常"
