from __future__ import annotations

import re

from anfu.errors import MESSAGES, AnfuError, InputError


def test_every_code_is_well_formed_and_says_what_to_do() -> None:
    for code, message in MESSAGES.items():
        assert re.fullmatch(r"AF\d{3}", code), code
        assert len(message) > 20, code


def test_error_formats_detail_and_serialises() -> None:
    err = InputError("AF005", 25000, limit=20000)
    assert err.code == "AF005"
    assert "25000" in err.message and "20000" in err.message
    assert err.to_dict() == {"code": "AF005", "message": err.message}
    assert str(err).startswith("AF005: ")
    assert isinstance(err, AnfuError) and isinstance(err, ValueError)
