"""`anfu serve --workers N`: N uvicorn processes, each with its own listening socket.

uvicorn's own supervisor binds one socket and hands it to every worker. On Linux every worker's
event loop is then woken by each new connection and the first to run accepts everything that
waits (asyncio drains the accept queue): a burst of connections (a shift signing in, a load
balancer reconnecting) lands on one process while the others idle. Measured on the 200-agent
WebSocket bench with two workers: 2,668 of 2,668 turns on one process in one run, 2,247 of 2,719 in
another. Here each worker gets its own socket bound with `SO_REUSEPORT` to the same address, and
the kernel spreads connections over them by a hash of the client's address and port.

The sockets listen from the start (in the parent), so connections are spread over every worker
even while some are still loading; a restarted worker gets back the socket of the one it
replaces, so connections queued on it while it was down are served, not lost. Before binding, the port is probed without
`SO_REUSEPORT`: a port another program (or another `anfu serve`) holds is refused as uvicorn
would refuse it, instead of silently sharing its traffic. Where the platform has no
`SO_REUSEPORT` (Windows), `balanced_sockets` returns None and uvicorn's shared socket is used.
"""

from __future__ import annotations

import logging
import socket
import sys
from typing import Any

logger = logging.getLogger("uvicorn.error")


def reuse_port_supported() -> bool:
    """Linux spreads connections over the sockets of one `SO_REUSEPORT` group; elsewhere the
    option either is missing or only lets the last socket bound receive (macOS, BSD)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _probe_free(host: str, port: int) -> None:
    """Raise OSError (EADDRINUSE) when something already listens on host:port."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


def balanced_sockets(host: str, port: int, workers: int, backlog: int = 2048) -> list[socket.socket] | None:
    """One listening socket per worker, all on host:port with `SO_REUSEPORT`; None where the
    platform cannot balance them. OSError when the port is taken.

    They listen before any worker starts: the kernel hashes a connection only over sockets that
    listen, so a worker still loading its models when the first clients connect would otherwise
    get none of their keep-alive connections (measured: 32 HTTP clients of the POST /messages
    bench, 2 workers, one process served all of them, 102.8 requests/s against 100.9 with one
    process). A connection hashed to a worker not yet up waits in its socket's queue."""
    if not reuse_port_supported():
        return None
    _probe_free(host, port)
    sockets: list[socket.socket] = []
    try:
        for _ in range(workers):
            sock = socket.socket(_family(host), socket.SOCK_STREAM)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            sock.listen(backlog)
            sock.set_inheritable(True)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def run_balanced(config: Any, sockets: list[socket.socket]) -> None:
    """Supervise `config.workers` processes, worker i serving `sockets[i]`: uvicorn's
    `Multiprocess` (signals, health checks, restarts) with the socket chosen per worker."""
    from uvicorn.supervisors.multiprocess import Multiprocess, Process

    class BalancedMultiprocess(Multiprocess):
        def __init__(self) -> None:
            super().__init__(config, sockets=sockets[:1])

        def _spawn(self, index: int) -> Any:
            process = Process(self.config, [sockets[index]])
            process.start()
            return process

        def init_processes(self) -> None:
            self.processes = [self._spawn(i) for i in range(self.processes_num)]

        def keep_subprocess_alive(self) -> None:
            if self.should_exit.is_set():
                return
            for index, process in enumerate(self.processes):
                if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                    continue
                process.kill()
                process.join()
                if self._startup_failed(process) or self.should_exit.is_set():
                    return
                logger.info("Child process [%s] died", process.pid)
                self.processes[index] = self._spawn(index)

        def _startup_failed(self, process: Any) -> bool:
            from uvicorn.config import STARTUP_FAILURE

            if process.exitcode != STARTUP_FAILURE:
                return False
            # the app or the socket is broken and would fail the same way on every restart
            logger.error("Child process [%s] failed to start, stopping the parent process.", process.pid)
            self.should_exit.set()
            return True

        def restart_all(self) -> None:
            # SIGHUP: each worker replaced in turn, on its own socket
            for index, old in enumerate(self.processes):
                if self.should_exit.is_set():
                    return
                new = self._spawn(index)
                if not new.wait_until_ready(self.config.timeout_worker_healthcheck, self.should_exit):
                    new.kill()
                    new.join()
                    return
                old.terminate()
                old.join()
                self.processes[index] = new

    try:
        BalancedMultiprocess().run()
    finally:
        for sock in sockets:
            sock.close()
