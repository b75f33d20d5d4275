"""The benchmark's command line: ``python -m devtools.bench [options]``, on the benchmark's database
(which `make bench` sets up and points it at; any other is refused, see guard.py)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from devtools.bench import guard

# Exit codes: the benchmark ran; it stopped on a problem it names; it refused the database.
OK, FAILED, REFUSED = 0, 1, 2


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m devtools.bench",
        description="Generate a large credit database (once) and measure the public search and the "
        "disclosure sweep. Run by `make bench`, on the benchmark's own database only.",
    )
    p.add_argument("--entities", type=int, default=1_000_000, help="entities to generate")
    p.add_argument("--records", type=int, default=5_000_000, help="credit records to generate")
    p.add_argument(
        "--sweep-small", type=int, default=None, help="table size of the first sweep (default 500,000)"
    )
    p.add_argument("--due", type=int, default=10_000, help="records due in each sweep")
    p.add_argument("--sweep-repeats", type=int, default=3)
    p.add_argument("--requests", type=int, default=200, help="measured requests per kind of query")
    p.add_argument("--warmup", type=int, default=30, help="unmeasured requests per kind first")
    p.add_argument("--jobs", type=int, default=2, help="COPY connections and generator processes")
    p.add_argument(
        "--load-trial", type=int, default=200_000, help="rows of the keep-vs-drop index trial (0: none)"
    )
    p.add_argument("--compare", type=int, default=200, help="pg_trgm / indexed ILIKE queries per kind")
    p.add_argument("--ilike-seqscan", type=int, default=10, help="unindexed ILIKE queries per kind")
    p.add_argument("--target-ms", type=float, default=15.0, help="search p95 target")
    p.add_argument("--skip-search", action="store_true")
    p.add_argument("--skip-sweep", action="store_true")
    p.add_argument("--skip-reports", action="store_true")
    p.add_argument(
        "--only-reports", action="store_true", help="measure the credit reports only (no generation)"
    )
    p.add_argument("--reports", type=int, default=200, help="reports rendered by the Celery worker")
    p.add_argument("--report-samples", type=int, default=30, help="reports rendered in process")
    p.add_argument("--report-concurrency", type=int, default=2, help="the pdf worker's concurrency")
    p.add_argument(
        "--max-tasks-per-child",
        type=int,
        default=None,
        help="the pdf worker's --max-tasks-per-child (default: the setting)",
    )
    p.add_argument("--skip-connections", action="store_true")
    p.add_argument(
        "--only-connections",
        action="store_true",
        help="measure the database connections under load only (no generation)",
    )
    p.add_argument("--connection-clients", type=int, default=200, help="concurrent HTTP clients")
    p.add_argument("--connection-seconds", type=float, default=60.0, help="length of the load")
    p.add_argument(
        "--web-workers",
        type=int,
        default=int(os.environ.get("WEB_CONCURRENCY") or 2),
        help="gunicorn workers (default: WEB_CONCURRENCY, else 2)",
    )
    p.add_argument(
        "--web-threads",
        type=int,
        default=int(os.environ.get("WEB_THREADS") or 4),
        help="gunicorn threads per worker (default: WEB_THREADS, else 4)",
    )
    p.add_argument("--no-prototypes", action="store_true", help="do not try indexes or what-ifs")
    p.add_argument("--keep-trgm", action="store_true", help="keep the comparison trigram index")
    p.add_argument("--reset", action="store_true", help="delete all entities and records first")
    return p  # fmt: skip


def setup_django() -> None:
    """Django as manage.py sets it up: beside a running `make run`, what the environment and `.env`
    leave unset comes from .local/run.env (credit_portal/runenv.py), read before anything defaults
    the settings module; then the portal's settings."""
    settings_module = os.environ.get("DJANGO_SETTINGS_MODULE")
    from credit_portal import runenv

    runenv.load(settings_module=settings_module)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "credit_portal.settings.base")
    import django

    django.setup()


def bench(options: dict[str, Any]) -> int:
    """Run the benchmark with ``options`` (the parser's, by name) on the database Django is set up
    with: the benchmark's own, or nothing is touched and REFUSED is returned."""
    from django.db import connection

    problem = guard.refusal(connection.settings_dict)
    if problem is not None:
        print(f"bench: {problem}", file=sys.stderr)
        return REFUSED
    from devtools.bench.run import Bench
    from devtools.bench.steps import BenchError

    try:
        Bench().handle(**options)
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return FAILED
    return OK


def main(argv: list[str]) -> int:
    options = vars(parser().parse_args(argv))
    setup_django()
    return bench(options)
