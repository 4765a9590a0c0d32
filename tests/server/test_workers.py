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
        assert all(s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 1 for s in sockets)
    finally:
        for s in sockets:
            s.close()


def _serve(sock: socket.socket, counts: list[int], index: int, stop: threading.Event) -> threading.Thread:
    """Accept on `sock` in a thread (a worker), counting the connections."""

    def loop() -> None:
        sock.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            counts[index] += 1
            conn.close()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return thread


def _connect(port: int, n: int) -> None:
    clients = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(n)]
    for c in clients:
        c.close()


def _spread(late: bool) -> list[int]:
    """100 connections over two worker sockets; with `late`, the second worker starts accepting
    only after every client has connected (a worker still loading its models)."""
    port = _free_port()
    sockets = balanced_sockets("127.0.0.1", port, 2)
    assert sockets is not None
    counts = [0, 0]
    stop = threading.Event()
    threads = [_serve(sockets[0], counts, 0, stop)]
    try:
        if not late:
            threads.append(_serve(sockets[1], counts, 1, stop))
        _connect(port, 100)
        if late:
            threads.append(_serve(sockets[1], counts, 1, stop))
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
    return counts


def test_the_kernel_spreads_connections_over_the_sockets() -> None:
    counts = _spread(late=False)
    assert sum(counts) == 100
    assert min(counts) >= 30, counts  # a fair coin gives fewer than 30 of 100 once in 25,000 runs


def test_a_worker_that_starts_late_still_gets_its_share() -> None:
    """The sockets listen before any worker runs: connections made while a worker still loads
    wait in its queue instead of all going to the worker that was up first (keep-alive clients
    would stay there: the POST /messages bench ran 2 workers at the speed of one)."""
    counts = _spread(late=True)
    assert sum(counts) == 100
    assert min(counts) >= 30, counts


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
