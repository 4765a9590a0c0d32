"""Child process of test_durability: ingests messages as fast as it can and prints an
acknowledgement line after each `append_message` returns (as the server would reply)."""

from __future__ import annotations

import sys

from anfu.store import Store, make_engine


def main(url: str, conversation_id: int) -> None:
    store = Store(make_engine(url=url))
    i = 0
    while True:
        message, created = store.append_message(
            conversation_id, "customer", f"第{i}条：停电四个小时了，抢修到底什么时候到？",
            client_msg_id=f"kill-test-{i}")
        assert created
        sys.stdout.write(f"ack {message.client_msg_id} {message.seq}\n")
        sys.stdout.flush()
        i += 1


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
