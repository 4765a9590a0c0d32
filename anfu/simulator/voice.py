"""Optional LLM back-end for the simulated customer's words.

The simulator never needs it: the phrase bank and the scenario give every line. A centre that
runs a local model behind an OpenAI-compatible chat-completions endpoint may set
`ANFU_SIMULATOR_LLM_URL` (and `ANFU_SIMULATOR_LLM_MODEL`) to have each bank line rephrased in the
customer's voice. Emotion, intensity and outcome still come from the simulator, and a line that
fails (network, timeout, empty, too long, already said) falls back to the bank's line. Tests
pass a fake `transport`; nothing here runs unless configured.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any, Callable

from ..errors import TrainingError

MAX_LINE_CHARS = 200
Transport = Callable[[str, dict[str, Any], float], dict[str, Any]]


def http_transport(url: str, body: dict[str, Any], timeout: float) -> dict[str, Any]:
    request = urllib.request.Request(url, data=json.dumps(body).encode("utf-8"),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (configured URL)
        return json.loads(response.read().decode("utf-8"))


class LLMVoice:
    """Rephrases the phrase bank's draft line through a chat-completions endpoint."""

    def __init__(self, url: str, model: str, timeout_s: float = 5.0, transport: Transport | None = None) -> None:
        if not url.startswith(("http://", "https://")):
            raise TrainingError("AF706", f"URL {url[:80]!r} is not http(s)")
        if not model:
            raise TrainingError("AF706", "no model name")
        self.url = url
        self.model = model
        self.timeout_s = timeout_s
        self.transport = transport or http_transport
        self.failures_ = 0

    def prompt(self, draft: str, context: dict[str, Any]) -> list[dict[str, str]]:
        scenario = context["scenario"]
        system = (f"你在客服培训中扮演一位{context['persona']}客户。情景：{scenario.title}（{scenario.topic}）。"
                  f"你现在的情绪是{context['emotion']}，强度{context['intensity']}（0-4）。"
                  "用一两句口语化的中文回复坐席，保持原句的意思和情绪，不要透露培训设定。")
        history = "\n".join(f"{'客户' if sp == 'customer' else '坐席'}：{text}" for sp, text in context["transcript"][-6:])
        return [{"role": "system", "content": system},
                {"role": "user", "content": f"对话：\n{history}\n\n请换一种说法说出这句话：{draft}"}]

    def say(self, draft: str, context: dict[str, Any]) -> str | None:
        body = {"model": self.model, "messages": self.prompt(draft, context), "temperature": 0.7, "max_tokens": 120}
        try:
            answer = self.transport(self.url, body, self.timeout_s)
            text = answer["choices"][0]["message"]["content"].strip()
        except Exception:  # any failure of an optional back-end falls back to the bank line
            self.failures_ += 1
            return None
        if not text or len(text) > MAX_LINE_CHARS:
            return None
        return text


def voice_from_config(url: str | None, model: str | None, timeout_s: float = 5.0) -> LLMVoice | None:
    """The configured LLM voice, or None (the phrase bank) when no URL is set."""
    if not url:
        return None
    return LLMVoice(url, model or "", timeout_s)
