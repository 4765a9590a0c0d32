"""Personal information (个人信息) protection: recognise and mask phone numbers (手机号),
identity numbers (身份证号), bank cards (银行卡号), e-mail addresses and street addresses.

    >>> from anfu.pii import find_pii, mask
    >>> mask("我的手机是13812345678")
    '我的手机是138****5678'

Pure Python, no heavy dependencies. `anfu.pii.logging` masks every log record.
"""

from __future__ import annotations

from .masking import mask, mask_data, mask_identity, mask_span
from .recognizers import KINDS, Span, find_pii, id_check_digit, is_bank_card, is_id_card, luhn_valid

__all__ = ["KINDS", "Span", "find_pii", "id_check_digit", "is_bank_card", "is_id_card", "luhn_valid",
           "mask", "mask_data", "mask_identity", "mask_span"]
