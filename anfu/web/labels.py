"""Display names of labels the engine reports in Chinese (SOP stages, personas, guidance
methods, ticket states…), marked for the gettext catalogues. `N_` only marks a string for
extraction; templates translate with `_()` at render time."""

from __future__ import annotations

from ..glossary import CAUSE_NAMES, EMOTION_NAMES, INTENSITY_NAMES, display


def N_(text: str) -> str:
    return text


SOP_STAGES = (N_("接收反馈"), N_("确认问题"), N_("提供方案"), N_("执行方案"), N_("跟进回访"))
PERSONAS = (N_("刚强型"), N_("神经质型"), N_("内向型"), N_("随和型"), N_("虚荣型"), N_("好斗型"),
            N_("顽固型"), N_("怀疑型"), N_("沉默型"))
METHODS = (N_("说理诱导"), N_("行为诱导"), N_("利益诱导"), N_("情感诱导"), N_("前景诱导"))
TICKET_STATUSES = {"open": N_("处理中"), "waiting_customer": N_("等待客户"), "resolved": N_("已解决"),
                   "closed": N_("已关闭"), "reopened": N_("已重开")}
PRIORITIES = {"low": N_("低"), "normal": N_("普通"), "high": N_("高"), "urgent": N_("紧急")}
LEDGER_STEPS = {"recorded": N_("一个不漏地记录"), "handled": N_("一个不漏地处理"),
                "rechecked": N_("一个不漏地复查"), "fed_back": N_("一个不漏地反映")}
FEEDBACK_STATES = {"pending": N_("待反馈"), "sent": N_("已反馈"), "acknowledged": N_("已确认"),
                   "actioned": N_("已整改"), "rejected": N_("已驳回")}
FOLLOWUP_STATES = {"scheduled": N_("待回访"), "done": N_("已回访"), "cancelled": N_("已取消")}
CONVERSATION_STATUSES = {"open": N_("进行中"), "pending": N_("待处理"), "closed": N_("已结束")}
LADDER = (N_("坐席自行处理"), N_("通知班长"), N_("班长介入或接管"), N_("转投诉专席或值班经理"))
TRENDS = {"rising": N_("上升"), "falling": N_("回落"), "flat": N_("平稳")}
ROLES = {"agent": N_("坐席"), "supervisor": N_("班长"), "admin": N_("管理员"), "auditor": N_("质检")}
CHANNELS = {"webchat": N_("在线客服"), "call": N_("电话"), "email": N_("邮件"), "app": N_("App"),
            "sms": N_("短信"), "import": N_("导入")}
HISTORY_VALUES = {"responded": N_("已响应")}
HISTORY_KINDS = {"created": N_("创建"), "status": N_("状态"), "stage": N_("环节"), "owner": N_("负责人"),
                 "priority": N_("优先级"), "responded": N_("首次响应"), "csat": N_("满意度")}

# Colour of each emotion (CSS custom property suffix); heat grows with intensity.
EMOTION_TONE = {"neutral": "calm", "satisfied": "good", "anxious": "warn", "doubtful": "doubt",
                "disappointed": "sad", "dissatisfied": "hot", "angry": "fire"}


def emotion_name(label: str | None, locale: str) -> str:
    return display(label, EMOTION_NAMES, locale) if label else "—"


def cause_name(label: str | None, locale: str) -> str:
    return display(label, CAUSE_NAMES, locale) if label else "—"


def intensity_name(level: int | None, locale: str) -> str:
    if level is None:
        return "—"
    return INTENSITY_NAMES.get(int(level), {}).get(locale, str(level))
