"""Channel adapters: `parse(payload) -> list[Utterance]`, and `read(payload) -> list[Thread]`
with the thread key and customer hints (phone, e-mail, name) for the customer's one timeline.

Registered in `registry.channels`: webchat.v1, email.v1, call_json.v1, call_srt.v1, csv.v1,
xlsx.v1. A new channel is a new module here (or a plugin entry point in `anfu.channels`).
"""

from .base import ChannelAdapter, CustomerHints, Thread

__all__ = ["ChannelAdapter", "CustomerHints", "Thread"]
