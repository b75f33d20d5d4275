"""Database connections under load: a real gunicorn serving the portal with its own configuration
(gunicorn.conf.py), many concurrent HTTP clients, and pg_stat_activity sampled while they run.

Used by ``make bench BENCH_ARGS=--only-connections`` (200 clients for 60 s) and, short, by the tests
(tests/test_connection_ceiling.py). The web server's connections are told apart by their
``application_name`` (libpq's ``PGAPPNAME``); the ceiling they must stay within is gunicorn's
workers × threads (one connection per serving thread, see gunicorn.conf.py)."""

from __future__ import annotations

import contextlib
import http.client
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

from devtools.bench.steps import BenchError, Steps

ROOT = Path(__file__).resolve().parent.parent.parent
Say = Callable[[str], None]
# Pages of the public door that read the database on every request, and a static file.
PUBLIC_PATHS = ("/healthz", "/", "/disclosure/on-time/", "/pledges/")


def database_url(settings_dict: dict, name: str | None = None, *, user: str | None = None) -> str:
    """A DATABASE_URL for the database of ``settings_dict`` (or ``name`` on its server), as
    ``user`` when given (then without a password: trust or peer authentication)."""
    password = "" if user is not None else settings_dict.get("PASSWORD") or ""
    user = quote(user if user is not None else settings_dict.get("USER") or "", safe="")
    auth = user + (":" + quote(password, safe="") if password else "")
    host = settings_dict.get("HOST") or ""
    database = quote(name or settings_dict["NAME"], safe="")
    if host.startswith("/"):
        # A unix socket directory, as the embedded PostgreSQL has: django-environ reads it from the
        # path (postgres://user@/%2Fsocket%2Fdir/name), not from the host part.
        return f"postgres://{auth}@/{quote(host, safe='')}/{database}"
    port = settings_dict.get("PORT")
    netloc = (f"{auth}@" if auth else "") + host + (f":{port}" if port else "")
    return f"postgres://{netloc}/{database}"


def free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    proc: subprocess.Popen
    port: int
    workers: int
    threads: int
    application_name: str
    log: Path

    @property
    def ceiling(self) -> int:
        return self.workers * self.threads


@contextlib.contextmanager
def gunicorn(
    *,
    workers: int,
    threads: int,
    env: dict[str, str] | None = None,
    log: Path,
    settings_module: str | None = None,
    startup_timeout: float = 90.0,
) -> Iterator[Server]:
    """gunicorn serving the portal on a free port of 127.0.0.1, against the database Django is
    connected to now, with gunicorn.conf.py and ``workers`` × ``threads``; stopped afterwards."""
    port = free_port()
    application_name = f"cp-web-load-{os.getpid()}-{port}"
    child_env = {
        **os.environ,
        "DATABASE_URL": database_url(connection.settings_dict),
        "PGAPPNAME": application_name,
        # The clients send X-Forwarded-For, as a proxy would, so that the per-client limits of the
        # public pages count each client by its own address.
        "NUM_PROXIES": "1",
        "SECURE_SSL_REDIRECT": "false",
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    if settings_module:
        child_env["DJANGO_SETTINGS_MODULE"] = settings_module
    command = [
        sys.executable, "-m", "gunicorn", "--config", str(ROOT / "gunicorn.conf.py"),
        "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", str(threads),
        "--access-logfile", "/dev/null", "--error-logfile", "-",
    ]  # fmt: skip
    with log.open("w") as out:
        proc = subprocess.Popen(  # noqa: S603 - a fixed command line
            command, cwd=ROOT, env=child_env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
        )
    server = Server(proc, port, workers, threads, application_name, log)
    try:
        _wait_until_serving(server, startup_timeout)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _wait_until_serving(server: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(
                f"gunicorn exited with code {server.proc.returncode}:\n"
                + server.log.read_text(errors="replace")[-3000:]
            )
        try:
            status, _ = get(server.port, "/healthz", timeout=5)
            if status == 200:
                return
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {timeout:.0f}s:\n{server.log.read_text()[-3000:]}")


def get(port: int, path: str, *, timeout: float = 30.0, headers: dict[str, str] | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@dataclass
class LoadResult:
    clients: int
    seconds: float
    ceiling: int
    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    # (seconds since the start, the web server's connections, all connections to the database,
    # all client connections to the PostgreSQL server)
    samples: list[tuple[float, int, int, int]] = field(default_factory=list)
    max_connections: int = 0

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def peak_web(self) -> int:
        return max((s[1] for s in self.samples), default=0)

    @property
    def peak_database(self) -> int:
        return max((s[2] for s in self.samples), default=0)

    @property
    def peak_server(self) -> int:
        return max((s[3] for s in self.samples), default=0)

    def idle_web_at_end(self) -> int:
        return self.samples[-1][1] if self.samples else 0

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


class _Sampler(threading.Thread):
    """pg_stat_activity every ``interval`` seconds, on a connection of its own in autocommit (each
    statement its own snapshot of the activity)."""

    def __init__(self, application_name: str, result: LoadResult, started: float, interval: float):
        super().__init__(daemon=True)
        self.application_name = application_name
        self.result = result
        self.started = started
        self.interval = interval
        self.stopping = threading.Event()
        self.failure: BaseException | None = None

    def run(self) -> None:
        sampler = connection.copy()
        try:
            with sampler.cursor() as cursor:
                cursor.execute("SELECT current_setting('max_connections')::int")
                self.result.max_connections = cursor.fetchone()[0]
                while not self.stopping.is_set():
                    cursor.execute(
                        """
                        SELECT count(*) FILTER (WHERE application_name = %s),
                               count(*) FILTER (WHERE datname = current_database()),
                               count(*)
                        FROM pg_stat_activity
                        WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
                        """,
                        [self.application_name],
                    )
                    web, database, server = cursor.fetchone()
                    self.result.samples.append((time.monotonic() - self.started, web, database, server))
                    self.stopping.wait(self.interval)
        except BaseException as exc:  # reported by the caller
            self.failure = exc
        finally:
            sampler.close()


def _crowd(base: str, turn: int) -> str:
    """The address of the ``turn``-th request of the client whose own address is ``base``: the
    last octet moves on every 20 requests (a visitor reads a few pages, then another one comes)."""
    head, last = base.rsplit(".", 1)
    return f"{head}.{(int(last) + turn // 20) % 254 + 1}"


def load(
    server: Server,
    *,
    clients: int,
    seconds: float,
    paths: Sequence[str] = PUBLIC_PATHS,
    interval: float = 0.05,
    settle: float = 1.0,
) -> LoadResult:
    """``clients`` threads, each with its own keep-alive HTTP connection, requesting ``paths`` in
    turn for ``seconds``, while pg_stat_activity is sampled; then ``settle`` seconds more of samples
    with no load (what stays connected once the clients are gone)."""
    result = LoadResult(clients=clients, seconds=seconds, ceiling=server.ceiling)
    lock = threading.Lock()
    started = time.monotonic()
    deadline = started + seconds
    go = threading.Event()
    rng = random.Random(20261020)  # noqa: S311 - addresses for the per-client limits, not secrets
    addresses = [
        f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}" for _ in range(clients)
    ]

    def client(number: int) -> None:
        conn: http.client.HTTPConnection | None = None
        statuses: Counter = Counter()
        errors: Counter = Counter()
        latencies: list[float] = []
        turn = number
        go.wait()
        while time.monotonic() < deadline:
            path = paths[turn % len(paths)]
            turn += 1
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
            began = time.monotonic()
            try:
                # Each client speaks for a crowd (a new address every 20 requests), so that the
                # per-address rate limits never answer 429 however fast the machine serves.
                address = _crowd(addresses[number], turn)
                conn.request("GET", path, headers={"X-Forwarded-For": address})
                response = conn.getresponse()
                response.read()
                statuses[response.status] += 1
                latencies.append(time.monotonic() - began)
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as exc:
                errors[type(exc).__name__] += 1
                conn.close()
                conn = None
                time.sleep(0.05)
        if conn is not None:
            conn.close()
        with lock:
            result.statuses.update(statuses)
            result.errors.update(errors)
            result.latencies.extend(latencies)

    sampler = _Sampler(server.application_name, result, started, interval)
    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    sampler.start()
    go.set()
    for thread in threads:
        thread.join(seconds + 90)
    time.sleep(settle)
    sampler.stopping.set()
    sampler.join(10)
    if sampler.failure is not None:
        raise RuntimeError(f"sampling pg_stat_activity failed: {sampler.failure!r}")
    return result


def report(result: LoadResult, say: Say) -> None:
    during = [s for s in result.samples if s[0] <= result.seconds]
    mean_web = statistics.fmean(s[1] for s in during) if during else float("nan")
    codes = ", ".join(f"{code}: {n:,}" for code, n in sorted(result.statuses.items()))
    say(
        f"  {result.clients} clients for {result.seconds:.0f}s: {result.requests:,} requests "
        f"({result.requests / result.seconds:,.0f}/s; {codes})"
        + (f"; connection errors {dict(result.errors)}" if result.errors else "")
    )
    say(
        f"  latency median {result.percentile(50) * 1000:,.0f} ms, p95 {result.percentile(95) * 1000:,.0f} ms, "
        f"p99 {result.percentile(99) * 1000:,.0f} ms"
    )
    say(
        f"  web server's database connections: peak {result.peak_web}, mean {mean_web:.1f}, after the load "
        f"{result.idle_web_at_end()} (ceiling {result.ceiling} = workers × threads; {len(result.samples)} samples)"
    )
    say(
        f"  all connections to this database: peak {result.peak_database}; to the server: peak "
        f"{result.peak_server} of max_connections {result.max_connections}"
    )
    if result.peak_web <= result.ceiling:
        say(f"  => the ceiling held: peak {result.peak_web} ≤ {result.ceiling}")
    else:
        say(f"  => the ceiling was EXCEEDED: peak {result.peak_web} > {result.ceiling}")


class ConnectionSteps(Steps):
    """6. Database connections under load: a real gunicorn, ``--connection-clients`` concurrent
    HTTP clients for ``--connection-seconds``, pg_stat_activity sampled every 50 ms."""

    def _connections(self) -> None:
        w, o = self.w, self.opts
        clients, seconds = o["connection_clients"], o["connection_seconds"]
        workers, threads = o["web_workers"], o["web_threads"]
        if min(clients, workers, threads) < 1 or seconds <= 0:
            raise BenchError(
                "--connection-clients, --web-workers, --web-threads and --connection-seconds must be positive"
            )
        w("")
        w(
            f"== 6. Database connections: gunicorn {workers} workers × {threads} threads, {clients} clients "
            f"for {seconds:.0f}s " + "=" * 12
        )
        w(
            f"  CONN_MAX_AGE {connection.settings_dict.get('CONN_MAX_AGE')}s; paths {', '.join(self._load_paths())}"
        )
        log = Path(settings.BASE_DIR) / ".local" / "bench-gunicorn.log"
        with gunicorn(workers=workers, threads=threads, log=log) as server:
            result = load(server, clients=clients, seconds=seconds, paths=self._load_paths(), settle=2.0)
        report(result, w)
        w(f"  (gunicorn's log: {log})")

    @staticmethod
    def _load_paths() -> tuple[str, ...]:
        from urllib.parse import quote

        return (*PUBLIC_PATHS, "/?q=" + quote("科技"))
