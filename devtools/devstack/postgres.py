"""PostgreSQL for the development stack: the embedded server of the `pgserver` wheel (its roles for
`make run`, tuned for throw-away test databases) and, on a configured server, a database of the
benchmark's own."""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import subprocess
import time
import warnings
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import environ

from devtools.devstack.config import DATABASE_NAME, Failure, relative, say
from devtools.devstack.processes import process_command, wait_gone


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
        say(("reusing" if reused else "starting") + f" embedded PostgreSQL in {relative(self.pgdata)} ...")
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
                        f"the embedded PostgreSQL in {relative(self.pgdata)} does not accept connections.\n"
                        f"{self._log_tail()}\nIf a stale server is stuck, stop it: "
                        f"kill $(head -1 {relative(self.pgdata)}/postmaster.pid)"
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
