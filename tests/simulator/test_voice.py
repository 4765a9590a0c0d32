"""The optional LLM back-end: used only when configured, through a transport the tests fake;
any failure falls back to the phrase bank; never a network call in tests."""

from __future__ import annotations

import pytest

from anfu.errors import TrainingError
from anfu.simulator import Simulator, get_scenario
from anfu.simulator.voice import LLMVoice, voice_from_config


def test_no_url_means_the_phrase_bank() -> None:
    assert voice_from_config(None, None) is None
    assert voice_from_config("", "m") is None


def test_misconfigured_llm_is_a_coded_error() -> None:
    with pytest.raises(TrainingError) as err:
        voice_from_config("file:///etc/passwd", "m")
    assert err.value.code == "AF706"
    with pytest.raises(TrainingError):
        LLMVoice("http://127.0.0.1:9/v1/chat/completions", "")


def test_llm_rephrases_and_failures_fall_back(analyzer) -> None:
    calls = []

    def transport(url, body, timeout):  # noqa: ANN001, ANN202
        calls.append(body)
        n = len(calls)
        if n == 2:
            raise OSError("connection refused")
        return {"choices": [{"message": {"content": f"（模型）第{n}句"}}]}

    voice = LLMVoice("http://127.0.0.1:9/v1/chat/completions", "local-qwen", transport=transport)
    sim = Simulator(get_scenario("telecom_signal_weak"), seed=1, analyzer=analyzer, voice=voice)
    first = sim.start()
    _, second = sim.reply("您好，非常抱歉给您带来不便，您慢慢说。")
    _, third = sim.reply("请问您住在哪个小区，几楼？")
    assert first.text == "（模型）第1句" and third.text == "（模型）第3句"
    assert second.text != "" and "模型" not in second.text  # the bank's line after a failure
    assert voice.failures_ == 1
    assert calls[0]["model"] == "local-qwen" and "随和型" in calls[0]["messages"][0]["content"]
    # emotion and intensity still come from the simulator
    assert second.emotion and 0 <= second.intensity <= 4
