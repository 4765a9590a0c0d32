"""Label sets and their display names (zh-CN first, English available)."""

from __future__ import annotations

EMOTIONS: tuple[str, ...] = (
    "neutral", "satisfied", "anxious", "doubtful", "disappointed", "dissatisfied", "angry",
)

EMOTION_NAMES: dict[str, dict[str, str]] = {
    "neutral": {"zh_CN": "平静", "en": "Neutral"},
    "satisfied": {"zh_CN": "满意", "en": "Satisfied"},
    "anxious": {"zh_CN": "焦虑", "en": "Anxious"},
    "doubtful": {"zh_CN": "怀疑", "en": "Doubtful"},
    "disappointed": {"zh_CN": "失望", "en": "Disappointed"},
    "dissatisfied": {"zh_CN": "不满", "en": "Dissatisfied"},
    "angry": {"zh_CN": "愤怒", "en": "Angry"},
}

# Valence of each label, used to turn the score distribution into one number in -1..1.
EMOTION_VALENCE: dict[str, float] = {
    "neutral": 0.0, "satisfied": 0.8, "anxious": -0.35, "doubtful": -0.3,
    "disappointed": -0.55, "dissatisfied": -0.6, "angry": -0.95,
}

INTENSITY_NAMES: dict[int, dict[str, str]] = {
    0: {"zh_CN": "无", "en": "none"},
    1: {"zh_CN": "轻微", "en": "mild"},
    2: {"zh_CN": "中等", "en": "moderate"},
    3: {"zh_CN": "强烈", "en": "strong"},
    4: {"zh_CN": "极强", "en": "extreme"},
}

CAUSES: tuple[str, ...] = (
    "billing", "outage", "delay", "quality", "attitude", "refund", "repair", "installation",
    "delivery", "account", "fraud_security", "policy", "other",
)

CAUSE_NAMES: dict[str, dict[str, str]] = {
    "billing": {"zh_CN": "费用账单", "en": "Billing"},
    "outage": {"zh_CN": "停电断网", "en": "Outage"},
    "delay": {"zh_CN": "办理延误", "en": "Delay"},
    "quality": {"zh_CN": "质量问题", "en": "Quality"},
    "attitude": {"zh_CN": "服务态度", "en": "Attitude"},
    "refund": {"zh_CN": "退款赔偿", "en": "Refund"},
    "repair": {"zh_CN": "维修报修", "en": "Repair"},
    "installation": {"zh_CN": "报装开通", "en": "Installation"},
    "delivery": {"zh_CN": "物流配送", "en": "Delivery"},
    "account": {"zh_CN": "账户号码", "en": "Account"},
    "fraud_security": {"zh_CN": "安全隐私", "en": "Fraud/Security"},
    "policy": {"zh_CN": "规定政策", "en": "Policy"},
    "other": {"zh_CN": "其他", "en": "Other"},
}

INDUSTRIES: tuple[str, ...] = (
    "power", "telecom", "ecommerce", "after_sales", "logistics", "banking", "generic",
)

PERSONAS: tuple[str, ...] = (
    "刚强型", "神经质型", "内向型", "随和型", "虚荣型", "好斗型", "顽固型", "怀疑型", "沉默型",
)

SOP_STAGES: tuple[str, ...] = ("接收反馈", "确认问题", "提供方案", "执行方案", "跟进回访")

GUIDANCE_METHODS: tuple[str, ...] = ("说理诱导", "行为诱导", "利益诱导", "情感诱导", "前景诱导")


def display(label: str, table: dict[str, dict[str, str]], locale: str = "zh_CN") -> str:
    """Display name of a label; unknown labels are shown as themselves."""
    names = table.get(label)
    if not names:
        return label
    return names.get(locale) or names.get("en") or label
