"""Recognisers for personal information (个人信息) in Chinese service text.

Kinds:
- `phone`: mainland mobile numbers (手机号) `1[3-9]` + 9 digits, with an optional `+86`/`0086`
  prefix and space or hyphen separators (138-1234-5678, +86 138 1234 5678) — unless the words
  before it call it an account number (户号、账号、订单号… and no 手机/电话/联系方式 after them).
- `id_card`: resident identity numbers (身份证号): 18 digits with a valid birth date and a valid
  ISO 7064 MOD 11-2 check digit, or the old 15-digit form with a valid birth date.
- `bank_card`: 16–19 digit card numbers (银行卡号) that pass the Luhn check.
- `email`: e-mail addresses.
- `address`: street addresses (地址) with a house number, building, unit or room
  (省/市/区/县/路/街/号/小区/栋/单元/室).

Numbers are found as "numeric chunks" (digit groups joined by single spaces or hyphens); every
run of consecutive groups is checked, longest first, so `卡号6222 0212 3456 7890` and two
numbers written side by side are both handled. Full-width digits (１３８…) count as digits.
Offsets are character offsets into the original text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

# Same-length mapping of full-width forms, so offsets into the scan text are offsets into the input.
# Letters too: an IME in full-width mode types a whole e-mail address as ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ.
_FULLWIDTH = str.maketrans({**{chr(0xFF10 + i): str(i) for i in range(10)},
                            **{chr(0xFF21 + i): chr(0x41 + i) for i in range(26)},
                            **{chr(0xFF41 + i): chr(0x61 + i) for i in range(26)},
                            "＋": "+", "－": "-", "＠": "@", "．": ".", "＿": "_", "％": "%", "\u3000": " "})

KINDS: tuple[str, ...] = ("id_card", "bank_card", "phone", "email", "address")


@dataclass(frozen=True)
class Span:
    """One piece of personal information: `text[start:end]`, of `kind`.

    `keep_prefix` characters at the start are kept by masking (the `+86` of a phone number,
    the province and city of an address).
    """

    kind: str
    start: int
    end: int
    text: str
    keep_prefix: int = 0


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_check_digit(first17: str) -> str:
    """The check character (0-9 or X) of an 18-digit identity number."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS))
    return _ID_CHECK[total % 11]


def _valid_date(year: int, month: int, day: int) -> bool:
    try:
        born = date(year, month, day)
    except ValueError:
        return False
    return date(1900, 1, 1) <= born <= date.today()


def is_id_card(number: str) -> bool:
    """A valid 18-digit (with check digit) or 15-digit resident identity number."""
    number = number.upper()
    if len(number) == 18 and number[:17].isdigit() and number[0] != "0":
        return (_valid_date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
                and id_check_digit(number[:17]) == number[17])
    if len(number) == 15 and number.isdigit() and number[0] != "0":
        return _valid_date(1900 + int(number[6:8]), int(number[8:10]), int(number[10:12]))
    return False


def luhn_valid(number: str) -> bool:
    if not number.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def is_bank_card(number: str) -> bool:
    return 16 <= len(number) <= 19 and number[0] != "0" and luhn_valid(number)


def phone_national_start(number: str) -> int | None:
    """Where the 11-digit national number starts in `number` (after 86/0086), or None."""
    for prefix in ("", "86", "0086"):
        if len(number) == len(prefix) + 11 and number.startswith(prefix):
            national = number[len(prefix):]
            if national[0] == "1" and national[1] in "3456789":
                return len(prefix)
    return None


_CHUNK = re.compile(r"(?<![0-9])[0-9]+[Xx]?(?:[ \-][0-9]+[Xx]?)*(?![0-9])")
_GROUP = re.compile(r"[0-9]+[Xx]?")
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]*@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}")


def _number_spans(scan: str, text: str) -> list[Span]:
    spans: list[Span] = []
    for chunk in _CHUNK.finditer(scan):
        groups = [(m.start() + chunk.start(), m.end() + chunk.start(), m.group())
                  for m in _GROUP.finditer(chunk.group())]
        candidates = []
        for i in range(len(groups)):
            for j in range(i, len(groups)):
                digits = "".join(g[2] for g in groups[i:j + 1])
                if len(digits) > 19:
                    break
                if "X" in digits.upper()[:-1]:
                    continue
                start, end = groups[i][0], groups[j][1]
                kind, keep = _classify(digits)
                if kind is None:
                    continue
                if kind == "phone" and start > 0 and scan[start - 1] == "+":
                    start -= 1  # keep the "+" of "+86" inside the span
                    keep += 1
                candidates.append((len(digits), KINDS.index(kind), start, end, kind, keep))
        # Longest valid numbers first; at equal length the stronger kind (ID before card).
        candidates = [c for c in candidates if c[4] != "phone" or not _account_context(scan, c[2], c[3])]
        candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
        taken: list[tuple[int, int]] = []
        for _, _, start, end, kind, keep in candidates:
            if all(end <= s or start >= e for s, e in taken):
                taken.append((start, end))
                spans.append(Span(kind, start, end, text[start:end], keep))
    return spans


# An 11-digit number that starts 13–19 may be a mobile number or an account number (电力户号,
# 账号, 订单号…): the words before it (or right after it) decide. Without either, it is a phone.
_ACCOUNT_WORDS = re.compile(r"户号|账号|帐号|账户|帐户|户口号|用户号|用户编号|客户号|客户编号|编号|单号|订单|合同号|"
                            r"工单|流水号|会员号|保单|运单|快递单|account|acct|order", re.I)
_PHONE_WORDS = re.compile(r"手机|电话|联系方式|联系电话|致电|来电|回电|打给|拨打|call|tel|phone|mobile|微信|短信", re.I)
_CONTEXT_BEFORE = 12
_CONTEXT_AFTER = 6


def _account_context(scan: str, start: int, end: int) -> bool:
    """True when the words around `scan[start:end]` say it is an account number, not a phone."""
    before = re.split(r"[，。；！？,;!?\n]", scan[max(0, start - _CONTEXT_BEFORE):start])[-1]
    accounts = [m.end() for m in _ACCOUNT_WORDS.finditer(before)]
    phones = [m.end() for m in _PHONE_WORDS.finditer(before)]
    if accounts:
        return not phones or max(accounts) > max(phones)
    if phones:
        return False
    after = re.split(r"[，。；！？,;!?\n]", scan[end:end + _CONTEXT_AFTER])[0]
    return bool(_ACCOUNT_WORDS.search(after)) and not _PHONE_WORDS.search(after)


def _classify(digits: str) -> tuple[str | None, int]:
    if len(digits) in (15, 18) and is_id_card(digits):
        return "id_card", 0
    if digits.isdigit() and is_bank_card(digits):
        return "bank_card", 0
    if digits.isdigit():
        national = phone_national_start(digits)
        if national is not None:
            return "phone", national
    return None, 0


# Addresses -------------------------------------------------------------------------------
# Name characters: Chinese characters except those that start or glue a sentence ("我家住在",
# "寄到"), so a match begins at the place name, not at the verb before it.
_N = r"(?:(?![在住是的我你他她到往送寄址请帮给把被让了吗呢啊吧号路街])[\u4e00-\u9fff])"
_CN_NUM = r"[0-9一二三四五六七八九十百零〇]"
_PROVINCE = (r"(?:北京|天津|上海|重庆|河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北|湖南|"
             r"广东|海南|四川|贵州|云南|陕西|甘肃|青海|台湾|内蒙古|广西|西藏|宁夏|新疆|香港|澳门)"
             r"(?:省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)?")
_ADDRESS = re.compile(
    rf"(?P<province>{_PROVINCE})?"
    rf"(?P<city>{_N}{{1,6}}?(?:市|自治州|地区|盟))?"
    rf"(?P<district>{_N}{{1,6}}?(?:区|县|旗|市))?"
    rf"(?P<town>{_N}{{1,6}}?(?:街道|镇|乡))?"
    rf"(?P<street>(?:{_N}|[A-Za-z0-9]){{1,10}}?(?:大道|路|街|巷|弄|胡同)(?:{_CN_NUM}+段)?)?"
    rf"(?P<number>[0-9]+(?:[-之][0-9]+)?号(?:院)?)?"
    rf"(?P<estate>{_N}{{2,10}}?(?:小区|花园|公寓|大厦|新村|家园|广场|苑|村|园))?"
    rf"(?P<building>(?:[0-9A-Za-z]+|{_CN_NUM}+)(?:号楼|栋|幢|座))?"
    rf"(?P<unit>{_CN_NUM}+单元)?"
    rf"(?P<floor>[0-9]+(?:楼|层))?"
    rf"(?P<room>[0-9A-Za-z\-]+(?:室|房)|(?:(?<=单元)|(?<=[栋幢楼座层]))[0-9]{{3,4}}(?![0-9]))?"
)
_DETAIL = ("district", "town", "street", "number", "estate", "building", "unit", "floor", "room")
_ANCHOR = ("number", "estate", "building", "unit", "room")


def _address_spans(scan: str, text: str) -> list[Span]:
    spans: list[Span] = []
    pos = 0
    while pos < len(scan):
        m = _ADDRESS.match(scan, pos)
        present = [g for g in _DETAIL if m and m.group(g)]
        if m and len(present) >= 2 and any(g in present for g in _ANCHOR):
            keep = len(m.group("province") or "") + len(m.group("city") or "")
            spans.append(Span("address", m.start(), m.end(), text[m.start():m.end()], keep))
            pos = m.end()
        else:
            pos += 1
    return spans


def _quick_address_check(scan: str) -> bool:
    return any(ch in scan for ch in "号栋幢单元室区园苑村楼座")


def find_pii(text: str) -> list[Span]:
    """Every piece of personal information in `text`, non-overlapping, in text order."""
    if not text:
        return []
    scan = text.translate(_FULLWIDTH)
    spans = _number_spans(scan, text)
    taken = [(s.start, s.end) for s in spans]
    for m in _EMAIL.finditer(scan):
        if all(m.end() <= s or m.start() >= e for s, e in taken):
            spans.append(Span("email", m.start(), m.end(), m.group() if scan is text else text[m.start():m.end()]))
            taken.append((m.start(), m.end()))
    if _quick_address_check(scan):
        for span in _address_spans(scan, text):
            overlapping = [s for s in spans if not (span.end <= s.start or span.start >= s.end)]
            # An address swallows the numbers inside it (a room number is not a phone number).
            if all(s.start >= span.start and s.end <= span.end for s in overlapping):
                spans = [s for s in spans if s not in overlapping]
                spans.append(span)
    return sorted(spans, key=lambda s: s.start)
