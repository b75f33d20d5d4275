"""`make run`: migrate, collect the static files, load the demo data (or not: ``demo_decision``), then
serve the web with gunicorn beside a Celery worker and beat until stopped."""

from __future__ import annotations

import http.client
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from credit_portal import runenv
from devtools.devstack.banner import banner
from devtools.devstack.config import LOCAL, ROOT, RUN, Config, Failure, ensure_dev_secrets, say
from devtools.devstack.processes import (
    Child,
    check_children,
    port_is_free,
    run_foreground,
    stop_leftover_children,
)
from devtools.devstack.services import Services
from devtools.devstack.static import collect_static


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
