from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from anfu.pii import find_pii, id_check_digit, is_id_card, luhn_valid, mask

PREFIXES = ["我的手机号是", "身份证号：", "卡号", "请打", "您好，", "客户留的是"]
SUFFIXES = ["，请尽快回电。", "谢谢", "。", "，快点处理！", ""]

areas = st.sampled_from(["110105", "310115", "440305", "510104", "330106", "420102"])
births = st.dates(min_value=date(1930, 1, 1), max_value=date.today() - timedelta(days=1))


@st.composite
def id_numbers(draw: st.DrawFn) -> str:
    first17 = draw(areas) + draw(births).strftime("%Y%m%d") + f"{draw(st.integers(0, 999)):03d}"
    return first17 + id_check_digit(first17)


@st.composite
def card_numbers(draw: st.DrawFn) -> str:
    length = draw(st.integers(16, 19))
    body = draw(st.sampled_from(["62", "4", "51", "35"]))
    body += "".join(str(draw(st.integers(0, 9))) for _ in range(length - len(body) - 1))
    for digit in "0123456789":
        if luhn_valid(body + digit):
            return body + digit
    raise AssertionError("unreachable")


@st.composite
def phones(draw: st.DrawFn) -> tuple[str, str]:
    national = "1" + draw(st.sampled_from("3456789")) + "".join(str(draw(st.integers(0, 9))) for _ in range(9))
    sep = draw(st.sampled_from(["", " ", "-"]))
    prefix = draw(st.sampled_from(["", "+86 ", "+86", "86-", "0086 "]))
    return national, f"{prefix}{national[:3]}{sep}{national[3:7]}{sep}{national[7:]}"


def grouped(number: str, sep: str) -> str:
    return sep.join(number[i:i + 4] for i in range(0, len(number), 4))


context = st.tuples(st.sampled_from(PREFIXES), st.sampled_from(SUFFIXES))


@settings(max_examples=300, deadline=None)
@given(id_numbers(), context)
def test_valid_id_numbers_are_always_masked(number: str, ctx: tuple[str, str]) -> None:
    text = ctx[0] + number + ctx[1]
    spans = find_pii(text)
    assert [(s.kind, s.text) for s in spans] == [("id_card", number)]
    masked = mask(text)
    assert number not in masked and masked.startswith(ctx[0] + number[:6] + "*" * 8 + number[-4:])


@settings(max_examples=300, deadline=None)
@given(card_numbers(), st.sampled_from(["", " ", "-"]), context)
def test_valid_card_numbers_are_always_masked(number: str, sep: str, ctx: tuple[str, str]) -> None:
    written = grouped(number, sep)
    masked = mask(ctx[0] + written + ctx[1])
    digits = "".join(ch for ch in masked if ch.isdigit() or ch == "*")
    assert number[:-4] not in digits and "*" * (len(number) - 4) + number[-4:] in digits
    kinds = {s.kind for s in find_pii(ctx[0] + written + ctx[1])}
    assert kinds <= {"bank_card", "id_card"} and kinds


@settings(max_examples=300, deadline=None)
@given(phones(), context)
def test_valid_mobile_numbers_are_always_masked(phone: tuple[str, str], ctx: tuple[str, str]) -> None:
    national, written = phone
    text = ctx[0] + written + ctx[1]
    spans = find_pii(text)
    assert [s.kind for s in spans] == ["phone"]
    masked = mask(text)
    compact = masked.replace(" ", "").replace("-", "")
    assert national not in compact and national[:3] + "****" + national[7:] in compact


@settings(max_examples=200, deadline=None)
@given(id_numbers(), st.integers(1, 10))
def test_a_wrong_check_digit_is_not_an_id_number(number: str, shift: int) -> None:
    wrong = "0123456789X"[("0123456789X".index(number[-1]) + shift) % 11]
    bad = number[:-1] + wrong
    assert not is_id_card(bad)
    assert all(s.kind != "id_card" for s in find_pii(f"身份证号：{bad}。"))


@settings(max_examples=200, deadline=None)
@given(card_numbers(), st.integers(1, 9))
def test_a_failed_luhn_check_is_not_a_card_number(number: str, shift: int) -> None:
    bad = number[:-1] + str((int(number[-1]) + shift) % 10)
    assert not luhn_valid(bad)
    assert all(s.kind != "bank_card" for s in find_pii(f"卡号{bad}，帮我查一下"))


@settings(max_examples=100, deadline=None)
@given(st.from_regex(r"[a-z][a-z0-9._]{1,15}@(qq|163|example|sgcc)\.(com|cn|com\.cn)", fullmatch=True), context)
def test_email_addresses_are_always_masked(email: str, ctx: tuple[str, str]) -> None:
    masked = mask(ctx[0] + email + ctx[1])
    local, domain = email.split("@")
    assert email not in masked and local[0] + "*" * (len(local) - 1) + "@" + domain in masked


def test_full_width_digits_and_impossible_numbers() -> None:
    assert mask("电话：１３８１２３４５６７８") == "电话：１３８****５６７８"
    assert find_pii("我的号码是12812345678") == []  # 12x is not a mobile prefix
    assert find_pii("身份证110105199002301234") == []  # 30 February
    assert find_pii("电费200元，户号3300123456，停电3小时") == []


def test_addresses_keep_province_and_city() -> None:
    assert mask("我家住在北京市朝阳区建国路88号") == "我家住在北京市*********"
    assert mask("请寄到浙江省杭州市西湖区文三路90号东部软件园2号楼3单元501室") == \
        "请寄到浙江省杭州市" + "*" * len("西湖区文三路90号东部软件园2号楼3单元501室")
    assert mask("我住在幸福小区3栋2单元1201，电话13812345678") == \
        "我住在" + "*" * len("幸福小区3栋2单元1201") + "，电话138****5678"
    assert find_pii("北京市的供电所服务太差了") == []  # a city alone is not an address
    assert find_pii("朝阳区停电了") == []
