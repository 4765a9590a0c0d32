"""`anfu.server.workers`: one SO_REUSEPORT socket per `--workers` process, a taken port refused
(the whole server: tests/server/test_server_cluster.py)."""

from __future__ import annotations

import socket
import threading

import pytest

from anfu.server.workers import balanced_sockets, reuse_port_supported

pytestmark = pytest.mark.skipif(not reuse_port_supported(), reason="SO_REUSEPORT balancing is Linux only")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_each_worker_gets_its_own_socket_on_the_same_port() -> None:
    port = _free_port()
    sockets = balanced_sockets("127.0.0.1", port, 3)
    assert sockets is not None
    try:
        assert len({s.fileno() for s in sockets}) == 3
        assert {s.getsockname() for s in sockets} == {("127.0.0.1", port)}
        assert all(s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1 for s in sockets)
        assert all(s.get_inheritable() for s in sockets)
    finally:
        for s in sockets:
            s.close()


def test_the_kernel_spreads_connections_over_the_sockets() -> None:
    port = _free_port()
    sockets = balanced_sockets("127.0.0.1", port, 2)
    assert sockets is not None
    counts = [0, 0]
    stop = threading.Event()

    def serve(index: int) -> None:
        sock = sockets[index]
        sock.listen(128)
        sock.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            counts[index] += 1
            conn.close()

    threads = [threading.Thread(target=serve, args=(i,), daemon=True) for i in range(2)]
    for t in threads:
        t.start()
    try:
        clients = []
        for _ in range(100):
            clients.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        for c in clients:
            c.close()
        for _ in range(100):
            if sum(counts) == 100:
                break
            stop.wait(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join(2)
        for s in sockets:
            s.close()
    assert sum(counts) == 100
    assert min(counts) >= 30, counts  # a fair coin gives fewer than 30 of 100 once in 25,000 runs


def test_a_port_in_use_is_refused_not_shared() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        with pytest.raises(OSError):
            balanced_sockets("127.0.0.1", taken.getsockname()[1], 2)
    # a port another SO_REUSEPORT group listens on is refused too (two `anfu serve --workers`)
    port = _free_port()
    first = balanced_sockets("127.0.0.1", port, 2)
    assert first is not None
    try:
        first[0].listen(1)
        with pytest.raises(OSError):
            balanced_sockets("127.0.0.1", port, 2)
    finally:
        for s in first:
            s.close()
