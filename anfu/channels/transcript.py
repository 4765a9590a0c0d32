"""Call transcripts (通话转写): speech-to-text output of a call, as JSON or SRT.

JSON (`call_json.v1`):

    {"call_id": "95598-20240501-0007",                 # optional: the thread key
     "started_at": "2024-05-01T09:30:00+08:00",        # optional: makes timestamps absolute
     "customer": {"name": "李先生", "phone": "13912345678"},   # optional
     "segments": [{"speaker": "客户" | "customer" | …, "start": 3.2, "end": 7.9,
                   "text": "我家又停电了"}, …]}

(a bare list of segments is accepted too). SRT (`call_srt.v1`): numbered cues whose text
starts with a speaker prefix such as 「客户：」 or 「坐席:」; cues without a prefix continue the
previous speaker. Timestamps are seconds from the start of the call unless `started_at`
(JSON) or `started_at=` (SRT) makes them absolute; consecutive cues of one speaker are kept
as separate utterances, as the recogniser segmented them.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .. import registry
from ..errors import InputError
from ..types import Utterance
from .base import (ChannelAdapter, CustomerHints, Thread, clean_text, decode_text, known_speaker,
                   parse_time, speaker_of)
from .webchat import customer_hints

_SRT_TIME = re.compile(r"(\d{1,2}):(\d{2}):(\d{2})[,.](\d{1,3})")
_SRT_ARROW = re.compile(rf"^\s*{_SRT_TIME.pattern}\s*-->\s*{_SRT_TIME.pattern}")
_PREFIX = re.compile(r"^\s*[\[【(（]?\s*([^\s:：\]】)）]{1,8})\s*[\]】)）]?\s*[:：]\s*")


def _seconds(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise InputError("AF030", f"{where} must be a number of seconds ≥ 0", channel="call transcript")
    return float(value)


@registry.channels.register("call_json.v1")
class CallTranscriptJSON(ChannelAdapter):
    channel = "call"

    def read(self, payload: Any, encoding: str = "utf-8") -> list[Thread]:
        if isinstance(payload, (bytes, str)):
            text = decode_text(payload, encoding, source="call transcript")
            try:
                payload = json.loads(text)
            except ValueError as exc:
                raise InputError("AF001", f"call transcript: {exc}") from None
        if isinstance(payload, list):
            payload = {"segments": payload}
        if not isinstance(payload, dict):
            raise InputError("AF009", type(payload).__name__)
        segments = payload.get("segments")
        if not isinstance(segments, list):
            raise InputError("AF030", "\"segments\" must be a list of {speaker, start, text}",
                             channel="call transcript")
        base = parse_time(payload.get("started_at"), "started_at") or 0.0
        absolute = payload.get("started_at") is not None
        call_id = payload.get("call_id")
        utterances = []
        for i, seg in enumerate(segments):
            where = f"segments[{i}]"
            if not isinstance(seg, dict):
                raise InputError("AF030", f"{where} must be an object", channel="call transcript")
            text = clean_text(seg.get("text"))
            if not text:
                continue
            start = _seconds(seg.get("start"), f"{where}.start")
            utterances.append(Utterance(
                text=text, speaker=speaker_of(seg.get("speaker"), where),  # type: ignore[arg-type]
                id=f"{call_id}#{i}" if call_id is not None else None,
                timestamp=None if start is None else (base + start if absolute else start),
                channel=self.channel))
        if not utterances:
            raise InputError("AF035", "the call transcript")
        return [Thread(channel=self.channel, utterances=tuple(utterances),
                       key=None if call_id is None else str(call_id),
                       customer=customer_hints(payload.get("customer"), "call transcript"))]


def _srt_seconds(match: re.Match[str], offset: int) -> float:
    h, m, s, ms = (match.group(offset + k) for k in range(4))
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms.ljust(3, "0")) / 1000


@registry.channels.register("call_srt.v1")
class CallTranscriptSRT(ChannelAdapter):
    """`read(srt_bytes, call_id=None, started_at=None, customer=None, encoding="utf-8")`."""

    channel = "call"

    def read(self, payload: Any, call_id: str | None = None, started_at: Any = None,
             customer: CustomerHints | None = None, encoding: str = "utf-8") -> list[Thread]:
        text = decode_text(payload, encoding, source="SRT file").replace("\r\n", "\n").replace("\r", "\n")
        base = parse_time(started_at, "started_at") or 0.0
        utterances: list[Utterance] = []
        speaker: str | None = None
        blocks = [b for b in re.split(r"\n\s*\n", text.strip()) if b.strip()]
        for n, block in enumerate(blocks, start=1):
            lines = [ln for ln in block.split("\n") if ln.strip()]
            if lines and lines[0].strip().isdigit():
                lines = lines[1:]
            timing = _SRT_ARROW.match(lines[0]) if lines else None
            if timing is None:
                raise InputError("AF030", f"cue {n} has no 'HH:MM:SS,mmm --> HH:MM:SS,mmm' line",
                                 channel="SRT")
            body = clean_text(" ".join(ln.strip() for ln in lines[1:]))
            prefix = _PREFIX.match(body)
            if prefix and known_speaker(prefix.group(1)):
                speaker = known_speaker(prefix.group(1))
                body = body[prefix.end():].strip()
            if not body:
                continue
            if speaker is None:
                raise InputError("AF030", f"cue {n} has no speaker prefix such as 客户： or 坐席：",
                                 channel="SRT")
            start = _srt_seconds(timing, 1)
            utterances.append(Utterance(text=body, speaker=speaker,  # type: ignore[arg-type]
                                        id=f"{call_id}#{n}" if call_id else None,
                                        timestamp=base + start, channel=self.channel))
        if not utterances:
            raise InputError("AF035", "the SRT file")
        return [Thread(channel=self.channel, utterances=tuple(utterances), key=call_id,
                       customer=customer or CustomerHints())]
