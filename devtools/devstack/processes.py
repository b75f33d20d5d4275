"""Processes: Ctrl-C, SIGTERM and SIGHUP stop everything, once; commands run in the foreground; the
long-running children (web, worker, beat) in sessions of their own, recorded so that the next session
stops what a session killed hard left running."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from devtools.devstack.config import LOCAL, ROOT, Failure, print_lock, say


class Stop(Exception):
    """Raised in the main thread by the signal handler: unwind and stop everything."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


# ---------------------------------------------------------------------------------------------
# Signals: Ctrl-C, SIGTERM and SIGHUP stop everything, once
# ---------------------------------------------------------------------------------------------
_stop_signal: int | None = None  # the first stop signal received
_stop_raised = False  # Stop has been raised for it
_defer_depth = 0  # > 0 while starting and recording a process
_foreground: subprocess.Popen | None = None
_shutting_down = False


def _raise_stop_if_requested() -> None:
    global _stop_raised
    if _stop_signal is not None and not _stop_raised and not _shutting_down and _defer_depth == 0:
        _stop_raised = True
        raise Stop(_stop_signal)


def _on_signal(signum: int, _frame: object) -> None:
    global _stop_signal
    if _stop_signal is None:
        _stop_signal = signum
    child = _foreground
    if child is not None and child.poll() is None:
        # A foreground child (pytest, migrate, ...) shares our process group: Ctrl-C in the terminal
        # has reached it already. Other signals were meant for us alone, so pass them on.
        if signum != signal.SIGINT:
            with contextlib.suppress(ProcessLookupError):
                child.send_signal(signal.SIGTERM)
        return
    _raise_stop_if_requested()


def install_signal_handlers() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _on_signal)


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Start a process and record it without a Stop arriving in between (which would orphan it).

    (Blocking the signals with pthread_sigmask instead would hand the blocked mask to the child.)
    """
    global _defer_depth
    _defer_depth += 1
    try:
        yield
    finally:
        _defer_depth -= 1
    _raise_stop_if_requested()


def run_foreground(
    argv: list[str], *, capture: list[str] | None = None, echo: str | None = None, stop_after: bool = True
) -> int:
    """Run a command in our process group and wait for it; returns its exit code.

    With `capture`, its output is collected there and, when `echo` is given, also printed line by line
    after that prefix. With `stop_after`, a stop signal received meanwhile raises Stop afterwards.
    """
    global _foreground
    with signals_deferred():
        proc = subprocess.Popen(  # noqa: S603 - fixed argument lists built in this module
            argv,
            cwd=ROOT,
            stdin=subprocess.DEVNULL if capture is not None else None,
            stdout=subprocess.PIPE if capture is not None else None,
            stderr=subprocess.STDOUT if capture is not None else None,
            text=capture is not None,
        )
        _foreground = proc
    try:
        if capture is not None and proc.stdout is not None:
            for line in proc.stdout:
                capture.append(line.rstrip("\n"))
                if echo is not None:
                    with print_lock:
                        print(f"{echo}{line}", end="", flush=True)
        return proc.wait()
    finally:
        _foreground = None
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if stop_after:
            _raise_stop_if_requested()


def begin_shutdown() -> None:
    """From now on a stop signal no longer raises Stop: everything is being stopped already."""
    global _shutting_down
    _shutting_down = True


# ---------------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------------
def process_command(pid: int) -> str | None:
    """The command line of a live (non-zombie) process, or None when there is no such process."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # it exists, under another user
    proc = Path("/proc") / str(pid)
    if proc.is_dir():
        try:
            state = (proc / "stat").read_text().rpartition(")")[2].split()[0]
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError):
            return None
        return None if state in ("Z", "X") else command.strip()
    result = subprocess.run(  # noqa: S603
        ["ps", "-o", "stat=", "-o", "command=", "-p", str(pid)],  # noqa: S607 - ps lives on PATH
        capture_output=True,
        text=True,
        check=False,
    )
    line = result.stdout.strip()
    if result.returncode != 0 or not line or line.startswith("Z"):
        return None
    return line.partition(" ")[2].strip()


def wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process_command(pid) is None:
            return True
        time.sleep(0.1)
    return process_command(pid) is None


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As the servers themselves do: connections in TIME_WAIT do not make a port busy.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(first: int, tries: int = 50) -> int:
    for port in range(first, first + tries):
        if port_is_free(port):
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Child:
    """A long-running process in its own session, so that only we decide when it stops."""

    name: str
    proc: subprocess.Popen
    threads: list[threading.Thread] = field(default_factory=list)

    @classmethod
    def start(cls, name: str, argv: list[str]) -> Child:
        with signals_deferred():
            proc = subprocess.Popen(  # noqa: S603
                argv,
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            child = cls(name, proc)
            _children.append(child)
            _record_children()
        thread = threading.Thread(target=child._relay, args=(f"{name:<6} | ",), daemon=True)
        thread.start()
        child.threads.append(thread)
        return child

    def _relay(self, prefix: str) -> None:
        for raw in self.proc.stdout or ():
            line = raw.decode(errors="replace").rstrip("\n")
            with print_lock:
                print(prefix + line, flush=True)

    def signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signum)


_children: list[Child] = []
# Who was started, so that a session that was killed hard (no chance to clean up) is cleaned up by the next.
CHILDREN_FILE = LOCAL / "run-children.json"


def _record_children() -> None:
    CHILDREN_FILE.write_text(
        json.dumps({"owner": os.getpid(), "children": [[c.proc.pid, c.name] for c in _children]})
    )


def stop_leftover_children() -> None:
    try:
        recorded = json.loads(CHILDREN_FILE.read_text())
        owner = int(recorded["owner"])
        children = [(int(pid), str(name)) for pid, name in recorded["children"]]
    except (OSError, ValueError, KeyError, TypeError):
        return
    owner_command = process_command(owner)
    if owner != os.getpid() and owner_command and "devtools.devstack" in owner_command:
        raise Failure(f"another `run` (pid {owner}) is still running in this folder; stop it first")
    for pid, name in children:
        command = process_command(pid)
        if command and ("credit_portal" in command or "manage.py" in command):
            say(f"stopping {name} (pid {pid}) left running by an earlier session ...")
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGTERM)
            if not wait_gone(pid, 20):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)
                wait_gone(pid, 5)
    CHILDREN_FILE.unlink(missing_ok=True)


def stop_children(timeout: float = 25.0) -> None:
    alive = [c for c in _children if c.proc.poll() is None]
    if alive:
        say("stopping " + ", ".join(c.name for c in alive) + " ...")
    for child in alive:
        child.signal_group(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for child in alive:
        try:
            child.proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"{child.name} did not stop within {timeout:.0f}s; killing it")
    for child in _children:
        # Also catches what a child left behind in its process group (pool processes, workers).
        child.signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.proc.wait(5)
        for thread in child.threads:
            thread.join(2)
    if _children:
        CHILDREN_FILE.unlink(missing_ok=True)


def check_children() -> None:
    for child in _children:
        code = child.proc.poll()
        if code is not None:
            how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}"
            raise Failure(f"{child.name} {how} unexpectedly; stopping everything")
