from __future__ import annotations

import io
import logging

import pytest

from anfu.pii import logging as pii_logging

CANARY_PHONE = "13987654321"
CANARY_ID = "11010519491231002X"
CANARY_TEXT = f"客户张三 {CANARY_PHONE}，身份证{CANARY_ID}，住北京市朝阳区建国路88号"


@pytest.fixture
def captured():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s %(customer)s"))
    logger = logging.getLogger("anfu.test.pii")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)
    pii_logging.uninstall()


def _emit_everything(logger: logging.Logger) -> None:
    logger.info("ingested %s", CANARY_TEXT, extra={"customer": {"phone": CANARY_PHONE}})
    logger.warning(CANARY_TEXT, extra={"customer": CANARY_ID})
    try:
        raise ValueError(f"bad message {CANARY_TEXT}")
    except ValueError:
        logger.exception("failed for %(who)s", {"who": CANARY_PHONE}, extra={"customer": ""})


def test_canary_never_reaches_the_log_when_installed(captured) -> None:
    logger, stream = captured
    pii_logging.install()
    pii_logging.install()  # idempotent
    _emit_everything(logger)
    out = stream.getvalue()
    assert "139****4321" in out and "ValueError" in out
    for secret in (CANARY_PHONE, CANARY_ID, "建国路88号", "9876"):
        assert secret not in out


def test_without_masking_the_canary_would_leak(captured) -> None:
    """The check above can fail: the same records, unmasked, contain the canary."""
    logger, stream = captured
    _emit_everything(logger)
    assert CANARY_PHONE in stream.getvalue()


def test_handler_filter_masks_records(captured) -> None:
    logger, stream = captured
    logger.handlers[0].addFilter(pii_logging.PiiFilter())
    _emit_everything(logger)
    assert CANARY_PHONE not in stream.getvalue() and CANARY_ID not in stream.getvalue()


def test_structlog_processor_masks_event_dict() -> None:
    event = {"event": f"ws message {CANARY_TEXT}", "payload": {"text": CANARY_TEXT, "n": 3},
             "error": RuntimeError(CANARY_PHONE)}
    out = pii_logging.mask_processor(None, "info", event)
    assert CANARY_PHONE not in str(out) and CANARY_ID not in str(out) and out["payload"]["n"] == 3
